import type { EcsInstancePowerSetStatus } from '../../api/powerset-types.ts';
import type { Condition, ConditionStatus, ConditionType, EcsInstancePower } from '../../api/types.ts';
import { findCondition, setCondition, toRfc3339 } from '../../api/conditions.ts';
import { Reason } from '../../api/reasons.ts';
import { canonicalJson } from './naming.ts';

/** How many members a Stalled message names. */
export const NAMED_IN_MESSAGE = 5;

/** A member as the set's status counts it. */
export interface MemberSummary {
  name: string;
  ready: boolean;
  stalled: boolean;
}

/** What discovery says for this status: succeeded (this pass or an earlier one), or failed. */
export type DiscoveryState =
  | { kind: 'ok'; conflicts: number; at?: Date }
  /** Throttled, 5xx, timeout: the conditions stay as they are. */
  | { kind: 'transient' }
  /** InvalidCredentials, Forbidden, InvalidSpec: Stalled until a person acts. */
  | { kind: 'terminal'; reason: string; message: string };

/** Ready and Stalled as of the member's current generation (kstatus reads them the same way). */
export function summarize(member: EcsInstancePower, changedNow: boolean): MemberSummary {
  const current = (type: ConditionType): boolean => {
    const c = findCondition(member.status?.conditions, type);
    return !changedNow && c?.status === 'True' && member.status?.observedGeneration === member.metadata.generation;
  };
  return { name: member.metadata.name ?? '', ready: current('Ready'), stalled: current('Stalled') };
}

type Triple = [ConditionStatus, string, string];

/**
 * The set's status (pure): member counts, the last discovery and the three kstatus conditions of
 * FLEETS.md. Ready=True (AllReady) only when discovery succeeded and every member is Ready, or
 * (NoInstances) when nothing matches; Stalled (MembersStalled) when the only members not Ready
 * are Stalled; Reconciling (Progressing) while some member converges. A terminal discovery error
 * stalls the set with its reason; a transient one leaves the conditions as they are.
 */
export function nextSetStatus(
  prev: EcsInstancePowerSetStatus | undefined,
  input: { generation: number; members: readonly MemberSummary[]; discovery: DiscoveryState; now: Date },
): EcsInstancePowerSetStatus {
  const { generation, members, discovery, now } = input;
  const ready = members.filter((m) => m.ready).length;
  const stalled = members.filter((m) => m.stalled).length;
  const conflicts = discovery.kind === 'ok' ? discovery.conflicts : (prev?.conflicts ?? 0);
  const lastDiscoveryTime = discovery.kind === 'ok' && discovery.at ? toRfc3339(discovery.at) : prev?.lastDiscoveryTime;

  let conditions: Condition[] = [...(prev?.conditions ?? [])];
  const triple = conditionsFor(members, ready, conflicts, discovery);
  if (triple) {
    const [r, c, s] = triple;
    for (const [type, [status, reason, message]] of [['Ready', r], ['Reconciling', c], ['Stalled', s]] as const) {
      conditions = setCondition(conditions, { type, status, reason, message, observedGeneration: generation }, now);
    }
  } else {
    for (const type of ['Ready', 'Reconciling', 'Stalled'] as const) {
      if (!findCondition(conditions, type)) {
        conditions = setCondition(conditions, { type, status: 'Unknown', reason: Reason.Initializing, message: 'Not discovered yet', observedGeneration: generation }, now);
      }
    }
  }
  const keepsGeneration = !triple && prev?.observedGeneration !== undefined;
  return {
    observedGeneration: keepsGeneration ? prev.observedGeneration : generation,
    instances: members.length,
    ready,
    stalled,
    conflicts,
    ...(lastDiscoveryTime ? { lastDiscoveryTime } : {}),
    conditions,
  };
}

function conditionsFor(members: readonly MemberSummary[], ready: number, conflicts: number, discovery: DiscoveryState): [Triple, Triple, Triple] | undefined {
  switch (discovery.kind) {
    case 'transient':
      return undefined;
    case 'terminal': {
      const why: Triple = ['False', discovery.reason, discovery.message];
      return [why, why, ['True', discovery.reason, discovery.message]];
    }
    case 'ok':
      break;
  }
  const also = conflicts > 0 ? `; ${conflicts} matching instance${conflicts === 1 ? ' is' : 's are'} managed by other resources (InstanceConflict events)` : '';
  if (members.length === 0) {
    const message = conflicts > 0 ? `no member${also}` : 'no instance matches the tags in the regions';
    const done: Triple = ['True', Reason.NoInstances, message];
    return [done, ['False', Reason.NoInstances, message], ['False', Reason.NoInstances, message]];
  }
  const notReady = members.filter((m) => !m.ready);
  if (notReady.length === 0) {
    const message = `${members.length} member${members.length === 1 ? '' : 's'} Ready${also}`;
    return [['True', Reason.AllReady, message], ['False', Reason.AllReady, message], ['False', Reason.AllReady, message]];
  }
  if (notReady.every((m) => m.stalled)) {
    const names = notReady.map((m) => m.name).sort();
    const shown = names.slice(0, NAMED_IN_MESSAGE).join(', ') + (names.length > NAMED_IN_MESSAGE ? `, and ${names.length - NAMED_IN_MESSAGE} more` : '');
    const message = `${names.length} of ${members.length} members are Stalled: ${shown}${also}`;
    return [['False', Reason.MembersStalled, message], ['False', Reason.MembersStalled, message], ['True', Reason.MembersStalled, message]];
  }
  const message = `${ready} of ${members.length} members Ready, ${notReady.length - notReady.filter((m) => m.stalled).length} converging${also}`;
  return [['False', Reason.Progressing, message], ['True', Reason.Progressing, message], ['False', Reason.Progressing, message]];
}

/** Whether two statuses say the same (the status is written only when it changes). */
export function setStatusEqual(a: EcsInstancePowerSetStatus | undefined, b: EcsInstancePowerSetStatus): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}
