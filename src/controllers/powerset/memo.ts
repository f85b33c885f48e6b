/**
 * When a set's instances are discovered again. Kept in memory per set, like controller-runtime's
 * expectations: a restarted controller (or a new leader) discovers every set once at start. Passes
 * in between (a member changed) only count members and repair them from the cache, so thousands
 * of members converging never cost an ECS call.
 */
export interface DiscoveryMemo {
  uid: string;
  generation: number;
  /** When the last attempt ended. */
  at: number;
  outcome: 'ok' | 'transient' | 'terminal';
  /** The next attempt is due at. */
  dueAt: number;
  /** Transient failures in a row. */
  failures: number;
  conflicts: number;
  terminal?: { reason: string; message: string };
}

/** A transient failure is retried after 1 s, doubling, at most the refresh interval. */
const RETRY_BASE_MS = 1000;
/** A terminal failure (credentials, permissions) is looked at again this often at most. */
const TERMINAL_RECHECK_MS = 30_000;

export function discoveryDue(memo: DiscoveryMemo | undefined, uid: string, generation: number, now: number): boolean {
  return !memo || memo.uid !== uid || memo.generation !== generation || now >= memo.dueAt;
}

export function afterSuccess(uid: string, generation: number, now: number, intervalMs: number, conflicts: number): DiscoveryMemo {
  return { uid, generation, at: now, outcome: 'ok', dueAt: now + intervalMs, failures: 0, conflicts };
}

export function afterFailure(
  prev: DiscoveryMemo | undefined,
  failure: { uid: string; generation: number; now: number; intervalMs: number; terminal?: { reason: string; message: string }; retryAfterMs?: number },
): DiscoveryMemo {
  const { uid, generation, now, intervalMs } = failure;
  const same = prev && prev.uid === uid && prev.generation === generation;
  const failures = same && prev.outcome !== 'ok' ? prev.failures + 1 : 1;
  const conflicts = same ? prev.conflicts : 0;
  if (failure.terminal) {
    return { uid, generation, at: now, outcome: 'terminal', dueAt: now + Math.min(intervalMs, TERMINAL_RECHECK_MS), failures, conflicts, terminal: failure.terminal };
  }
  const backoff = Math.min(intervalMs, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
  return { uid, generation, at: now, outcome: 'transient', dueAt: now + Math.max(backoff, failure.retryAfterMs ?? 0), failures, conflicts };
}
