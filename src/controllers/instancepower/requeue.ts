import type { ReconcileResult } from '../../runtime/result.ts';
import type { Outcome } from './outcome.ts';

export interface Timing {
  pollIntervalMs: number;
  resyncPeriodMs: number;
  terminalRecheckMs: number;
}

/**
 * When to look again (pure). In-sync resources come back on the resync period, spread by up to
 * 10% so that a fleet created at once does not resync at once; instances in transition on the
 * poll interval; terminal errors on the slow period; transient errors through the queue's
 * per-key backoff.
 */
export function requeueFor(outcome: Outcome, t: Timing, random: () => number): ReconcileResult {
  switch (outcome.kind) {
    case 'converged':
    case 'drifted':
    case 'dryRunPassed':
      return { kind: 'requeueAfter', ms: Math.round(t.resyncPeriodMs * (1 - 0.1 * random())) };
    case 'inProgress':
      return { kind: 'requeueAfter', ms: t.pollIntervalMs };
    case 'terminalError':
      return { kind: 'requeueAfter', ms: t.terminalRecheckMs };
    case 'observeFailed':
    case 'transientError': {
      const error = new Error(`${outcome.reason}: ${outcome.message}`);
      // IncorrectInstanceStatus: look again soon, but through the key's backoff, so an instance
      // that ECS keeps refusing is not asked every poll interval forever.
      if (outcome.backoff === 'reobserve') return { kind: 'error', error, backoff: 'normal' };
      return {
        kind: 'error',
        error,
        backoff: outcome.backoff,
        ...(outcome.retryAfterMs ? { minDelayMs: outcome.retryAfterMs } : {}),
      };
    }
  }
}
