import type { DesiredState, EcsInstancePowerSpec } from '../../api/types.ts';
import { Reason } from '../../api/reasons.ts';
import { SPEC_SOURCE, overrideSource, scheduleSource, type EcsPowerSchedule } from '../../api/schedule-types.ts';
import type { Evaluation } from '../../schedule/evaluate.ts';

/** An override in force that selects the resource (what the override controller's helper gives). */
export interface OverrideInForce {
  name: string;
  desiredState: DesiredState;
  /** Epoch ms of its creation (when it started) and of `until` (when it ends by itself). */
  createdAt: number;
  until: number;
}

/** The effective desired state (SCHEDULES.md, "EcsInstancePower, amended") and when it changes next. */
export interface Effective {
  desiredState: DesiredState;
  /** `spec`, `EcsPowerSchedule/<name>` or `EcsPowerOverride/<name>`. */
  source: string;
  /** The next instant at which it may change by itself (a schedule transition, an override's end). */
  nextChangeAt?: number;
  /** The schedule's next transition, shown in the status. */
  nextTransition?: { time: number; desiredState: DesiredState };
  /** When the current state began, if this pass can tell (an override's start). */
  startedAt?: number;
}

export type EffectiveResult =
  | { kind: 'ok'; effective: Effective }
  /** The named schedule is missing or invalid: nothing is done until it exists or is fixed. */
  | { kind: 'blocked'; reason: typeof Reason.ScheduleNotFound | typeof Reason.InvalidSchedule; message: string; source: string };

export interface EffectiveInput {
  spec: EcsInstancePowerSpec;
  namespace: string;
  /** Overrides in force that select the resource, newest first. */
  overrides: readonly OverrideInForce[];
  /** The schedule named by spec.scheduleRef, from the cache (undefined when missing). */
  schedule: EcsPowerSchedule | undefined;
  /** Evaluates the schedule now: an Evaluation, or the validation message when it is invalid. */
  evaluateSchedule: (schedule: EcsPowerSchedule) => Evaluation | { invalid: string };
}

/**
 * In order: the newest override in force that selects the resource; else the schedule's state
 * now; else spec.desiredState (pure).
 */
export function effectiveDesiredState(input: EffectiveInput): EffectiveResult {
  const { spec } = input;
  const override = input.overrides[0];
  if (override) {
    return {
      kind: 'ok',
      effective: { desiredState: override.desiredState, source: overrideSource(override.name), nextChangeAt: override.until, startedAt: override.createdAt },
    };
  }
  const ref = spec.scheduleRef?.name;
  if (ref) {
    const source = scheduleSource(ref);
    if (!input.schedule) {
      return {
        kind: 'blocked',
        reason: Reason.ScheduleNotFound,
        source,
        message: `ScheduleNotFound: EcsPowerSchedule ${input.namespace}/${ref} does not exist`,
      };
    }
    const evaluation = input.evaluateSchedule(input.schedule);
    if ('invalid' in evaluation) {
      return {
        kind: 'blocked',
        reason: Reason.InvalidSchedule,
        source,
        message: `InvalidSchedule: EcsPowerSchedule ${input.namespace}/${ref} is invalid: ${evaluation.invalid}`,
      };
    }
    const next = evaluation.next;
    return {
      kind: 'ok',
      effective: {
        desiredState: evaluation.desiredState,
        source,
        ...(next ? { nextChangeAt: next.time.getTime(), nextTransition: { time: next.time.getTime(), desiredState: next.desiredState } } : {}),
      },
    };
  }
  return { kind: 'ok', effective: { desiredState: spec.desiredState ?? 'Stopped', source: SPEC_SOURCE } };
}
