import type { EcsInstancePowerStatus } from '../../api/types.ts';
import { findCondition } from '../../api/conditions.ts';
import { EventReason, Reason } from '../../api/reasons.ts';
import type { Outcome } from './outcome.ts';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Events worth telling a person about, derived from what changed (pure). */
export function eventsFor(prev: EcsInstancePowerStatus | undefined, next: EcsInstancePowerStatus, outcome: Outcome): EventSpec[] {
  const before = findCondition(prev?.conditions, 'Ready');
  const after = findCondition(next.conditions, 'Ready');
  const changed = before?.status !== after?.status || before?.reason !== after?.reason;
  switch (outcome.kind) {
    case 'converged':
      return changed ? [{ type: 'Normal', reason: outcome.reason === 'Stopped' ? EventReason.Stopped : EventReason.Running, message: outcome.message }] : [];
    case 'dryRunPassed':
      return changed ? [{ type: 'Normal', reason: EventReason.DryRunSucceeded, message: outcome.message }] : [];
    case 'drifted':
      return changed ? [{ type: 'Normal', reason: EventReason.DriftDetected, message: outcome.message }] : [];
    case 'inProgress':
      if (outcome.requestId && (outcome.reason === Reason.StopRequested || outcome.reason === Reason.StartRequested)) {
        return [{ type: 'Normal', reason: outcome.reason, message: outcome.message }];
      }
      return [];
    case 'transientError':
    case 'terminalError':
    case 'observeFailed':
      // Repeats are aggregated by the recorder, so each failure may report.
      return [{ type: 'Warning', reason: outcome.reason, message: outcome.message }];
  }
}

const OVERRIDE_PREFIX = 'EcsPowerOverride/';
const SCHEDULE_PREFIX = 'EcsPowerSchedule/';

/**
 * SCHEDULES.md's events on an EcsInstancePower, from how the effective desired state changed
 * between two statuses (pure): OverrideStarted / OverrideEnded when an override takes over or
 * lets go, ScheduleTransition when the schedule flips the state (message: from, to, source).
 */
export function transitionEvents(prev: EcsInstancePowerStatus | undefined, next: EcsInstancePowerStatus): EventSpec[] {
  const before = prev?.desiredStateSource;
  const after = next.desiredStateSource;
  if (!before || !after || !prev?.desiredState || !next.desiredState) return [];
  const events: EventSpec[] = [];
  const wasOverride = before.startsWith(OVERRIDE_PREFIX);
  const isOverride = after.startsWith(OVERRIDE_PREFIX);
  if (wasOverride && before !== after) {
    events.push({ type: 'Normal', reason: EventReason.OverrideEnded, message: `${before} no longer applies; desired ${next.desiredState} from ${after}` });
  }
  if (isOverride && before !== after) {
    events.push({ type: 'Normal', reason: EventReason.OverrideStarted, message: `${after} applies: desired ${next.desiredState} (was ${prev.desiredState} from ${before})` });
  }
  if (!wasOverride && !isOverride && before === after && after.startsWith(SCHEDULE_PREFIX) && prev.desiredState !== next.desiredState) {
    events.push({ type: 'Normal', reason: EventReason.ScheduleTransition, message: `from ${prev.desiredState} to ${next.desiredState} (${after})` });
  }
  return events;
}
