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
