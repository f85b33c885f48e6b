import type { Condition, ConditionStatus, ConditionType, DesiredState, EcsInstancePowerStatus, LastRequest } from '../../api/types.ts';
import { findCondition, setCondition } from '../../api/conditions.ts';
import { Reason } from '../../api/reasons.ts';
import type { Outcome } from './outcome.ts';

interface Triple {
  ready: [ConditionStatus, string, string] | 'keep';
  reconciling: [ConditionStatus, string, string] | 'keep';
  stalled: [ConditionStatus, string, string] | 'keep';
}

/** What the pass acted for: the effective desired state and where it comes from. */
export interface Intent {
  /** Unset when it cannot be known (the named schedule is missing or invalid). */
  desiredState?: DesiredState;
  source: string;
  /** When it may change by itself next (a schedule transition, an override's end). */
  nextChangeAt?: number;
  /** When the current state began, if known exactly (an override's creation). */
  startedAt?: number;
}

/**
 * The status a pass leads to (pure). Messages are never empty: besides telling a person more,
 * Kubernetes 1.20 API servers built with Go >= 1.16 reject "" in custom resources. All three conditions are always present; a transient
 * failure to observe leaves a converged resource's conditions untouched so that GitOps health
 * does not flap with ECS hiccups.
 */
export function nextStatus(
  prev: EcsInstancePowerStatus | undefined,
  outcome: Outcome,
  generation: number,
  now: Date,
  intent: Intent,
): EcsInstancePowerStatus {
  // A change of the effective state starts over what was reached for the old one.
  const changed = intent.desiredState !== undefined && prev?.desiredState !== undefined && prev.desiredState !== intent.desiredState;
  const t = conditionsFor(prev, withStreakMessage(prev, outcome), generation, changed);
  let conditions: Condition[] = [...(prev?.conditions ?? [])];
  const apply = (type: ConditionType, v: Triple['ready']): void => {
    if (v === 'keep') {
      if (!findCondition(conditions, type)) {
        conditions = setCondition(
          conditions,
          { type, status: 'Unknown', reason: Reason.Initializing, message: 'Not observed yet', observedGeneration: generation },
          now,
        );
      }
      return;
    }
    conditions = setCondition(conditions, { type, status: v[0], reason: v[1], message: v[2], observedGeneration: generation }, now);
  };
  apply('Ready', t.ready);
  apply('Reconciling', t.reconciling);
  apply('Stalled', t.stalled);

  const instanceStatus = ('instanceStatus' in outcome ? outcome.instanceStatus : undefined) ?? prev?.instanceStatus;
  const requestId = 'requestId' in outcome ? outcome.requestId : undefined;
  const lastRequestId = requestId ?? prev?.lastRequestId;
  const convergedGeneration = outcome.kind === 'converged' ? generation : changed ? undefined : prev?.convergedGeneration;
  const since = transitionInstant(prev, intent, generation, now, changed);
  const lastRequest: LastRequest | undefined =
    outcome.kind === 'inProgress' && outcome.requested
      ? { action: outcome.requested.action, time: new Date(outcome.requested.at).toISOString(), generation }
      : prev?.lastRequest;
  const keepsGeneration = t.ready === 'keep' && t.reconciling === 'keep';
  const observedGeneration = keepsGeneration && prev?.observedGeneration !== undefined ? prev.observedGeneration : generation;
  return {
    observedGeneration,
    ...(intent.desiredState ? { desiredState: intent.desiredState } : {}),
    desiredStateSource: intent.source,
    ...(since ? { desiredStateSince: since } : {}),
    ...(intent.nextChangeAt !== undefined ? { nextTransitionTime: toRfc3339Up(intent.nextChangeAt) } : {}),
    ...(instanceStatus ? { instanceStatus } : {}),
    ...(lastRequestId ? { lastRequestId } : {}),
    ...(convergedGeneration !== undefined ? { convergedGeneration } : {}),
    ...(lastRequest ? { lastRequest } : {}),
    conditions,
  };
}

const ECS_CODE = /^([A-Za-z][A-Za-z0-9._-]*): /;
const MESSAGE_PREFIX = /^(Retrying|Blocked until a person acts): /;

/**
 * While the same error keeps coming back, the message keeps the RequestId of the first failure of
 * the streak (API.md): a retry with a new RequestId must not rewrite the status. Every RequestId
 * is in the logs.
 */
function withStreakMessage(prev: EcsInstancePowerStatus | undefined, outcome: Outcome): Outcome {
  if (outcome.kind !== 'transientError' && outcome.kind !== 'terminalError' && outcome.kind !== 'observeFailed') return outcome;
  const code = ECS_CODE.exec(outcome.message)?.[1];
  if (!code) return outcome;
  for (const c of prev?.conditions ?? []) {
    if (c.reason !== outcome.reason) continue;
    const message = c.message.replace(MESSAGE_PREFIX, '');
    if (ECS_CODE.exec(message)?.[1] === code) return { ...outcome, message };
  }
  return outcome;
}

/**
 * When the effective desired state last changed by itself (a schedule transition, an override
 * starting or ending), for the transition latency: kept until the next change. Unset when the
 * spec changed with it (a person acted, not the calendar) or when the instant is not known.
 */
function transitionInstant(prev: EcsInstancePowerStatus | undefined, intent: Intent, generation: number, now: Date, changed: boolean): string | undefined {
  if (!changed) return prev?.desiredStateSince;
  if (prev?.observedGeneration !== generation) return undefined;
  if (intent.startedAt !== undefined && intent.startedAt <= now.getTime()) return new Date(intent.startedAt).toISOString();
  const announced = prev.nextTransitionTime ? Date.parse(prev.nextTransitionTime) : NaN;
  return Number.isFinite(announced) && announced <= now.getTime() ? new Date(announced).toISOString() : now.toISOString();
}

/** RFC 3339 at whole seconds, rounded up: never an instant before the change it announces. */
function toRfc3339Up(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function conditionsFor(prev: EcsInstancePowerStatus | undefined, outcome: Outcome, generation: number, changed: boolean): Triple {
  switch (outcome.kind) {
    case 'converged':
      return {
        ready: ['True', outcome.reason, outcome.message],
        reconciling: ['False', outcome.reason, outcome.message],
        stalled: ['False', outcome.reason, outcome.message],
      };
    case 'dryRunPassed':
      return {
        ready: ['True', Reason.DryRunSucceeded, outcome.message],
        reconciling: ['False', Reason.DryRunSucceeded, outcome.message],
        stalled: ['False', Reason.DryRunSucceeded, outcome.message],
      };
    case 'inProgress':
      return {
        ready: ['False', outcome.reason, outcome.message],
        reconciling: ['True', outcome.reason, outcome.message],
        stalled: ['False', outcome.reason, outcome.message],
      };
    case 'drifted':
      return {
        ready: ['False', Reason.Drifted, outcome.message],
        reconciling: ['False', Reason.Drifted, outcome.message],
        stalled: ['False', Reason.Drifted, outcome.message],
      };
    case 'transientError':
      return {
        ready: ['False', outcome.reason, outcome.message],
        reconciling: ['True', outcome.reason, outcome.message],
        stalled: ['False', outcome.reason, `Retrying: ${outcome.message}`],
      };
    case 'observeFailed': {
      const ready = findCondition(prev?.conditions, 'Ready');
      if (ready?.status === 'True' && prev?.observedGeneration === generation && !changed) {
        return { ready: 'keep', reconciling: 'keep', stalled: 'keep' };
      }
      return {
        ready: ready && prev?.observedGeneration === generation && !changed ? 'keep' : ['Unknown', outcome.reason, outcome.message],
        reconciling: ['True', outcome.reason, outcome.message],
        stalled: ['False', outcome.reason, `Retrying: ${outcome.message}`],
      };
    }
    case 'terminalError':
      return {
        ready: ['False', outcome.reason, outcome.message],
        reconciling: ['False', outcome.reason, `Blocked until a person acts: ${outcome.message}`],
        stalled: ['True', outcome.reason, outcome.message],
      };
  }
}

/** Semantic equality of two statuses: decides whether a status write is needed. */
export function statusEqual(a: EcsInstancePowerStatus | undefined, b: EcsInstancePowerStatus | undefined): boolean {
  return canonical(a) === canonical(b);
}

function canonical(s: EcsInstancePowerStatus | undefined): string {
  if (!s) return '{}';
  const conds = [...(s.conditions ?? [])]
    .sort((x, y) => x.type.localeCompare(y.type))
    .map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime, c.observedGeneration ?? null]);
  return JSON.stringify([
    s.observedGeneration ?? null,
    s.instanceStatus ?? null,
    s.lastRequestId ?? null,
    s.lastRequest ? [s.lastRequest.action, s.lastRequest.time, s.lastRequest.generation] : null,
    s.desiredState ?? null,
    s.desiredStateSource ?? null,
    s.desiredStateSince ?? null,
    s.nextTransitionTime ?? null,
    s.convergedGeneration ?? null,
    conds,
  ]);
}
