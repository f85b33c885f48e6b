import { setKstatusConditions, toRfc3339, type ConditionValue } from '../../api/conditions.ts';
import { Reason } from '../../api/reasons.ts';
import type { EcsPowerSchedule, EcsPowerScheduleStatus } from '../../api/schedule-types.ts';
import { evaluateCompiled, type Evaluation } from '../../schedule/evaluate.ts';
import { compileOrInvalid, type Compiled } from './compiled.ts';

export interface ScheduleStatusResult {
  status: EcsPowerScheduleStatus;
  /** The exact instant of the next transition (epoch ms), when there is one: requeue then. */
  nextAt?: number;
}

/**
 * The status of a schedule at `now` (pure). Valid: the desired state now, the next transition
 * (its time rounded up to the whole second, so the status never names an instant before the real
 * change), Ready=True Active. Invalid: Stalled=True InvalidSpec with the message naming the field,
 * and no desired state. All three conditions carry observedGeneration; lastTransitionTime moves
 * only when a condition's status does. `compiled` is the memoised compileOrInvalid(spec).
 */
export function scheduleStatus(schedule: EcsPowerSchedule, now: Date, compiled: Compiled = compileOrInvalid(schedule.spec)): ScheduleStatusResult {
  const generation = schedule.metadata.generation ?? 0;
  const previous = schedule.status?.conditions ?? [];
  let evaluation: Evaluation | undefined;
  let problem: string | undefined;
  if (compiled instanceof Error) {
    problem = compiled.message;
  } else {
    try {
      evaluation = evaluateCompiled(compiled, now);
    } catch (err) {
      problem = `spec: cannot be evaluated at ${toRfc3339(now)}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  if (!evaluation) {
    const invalid: ConditionValue = ['False', Reason.InvalidSpec, problem ?? 'spec: invalid'];
    return {
      status: {
        observedGeneration: generation,
        conditions: setKstatusConditions(previous, { ready: invalid, reconciling: invalid, stalled: ['True', Reason.InvalidSpec, invalid[2]] }, generation, now),
      },
    };
  }

  const next = evaluation.next;
  const nextTransition = next ? { time: toRfc3339(new Date(Math.ceil(next.time.getTime() / 1000) * 1000)), desiredState: next.desiredState } : undefined;
  const summary = nextTransition
    ? `${evaluation.desiredState} now; ${nextTransition.desiredState} from ${nextTransition.time}`
    : `${evaluation.desiredState} now; the schedule never changes it`;
  return {
    status: {
      observedGeneration: generation,
      desiredState: evaluation.desiredState,
      ...(nextTransition ? { nextTransition } : {}),
      conditions: setKstatusConditions(
        previous,
        {
          ready: ['True', Reason.Active, summary],
          reconciling: ['False', Reason.Active, 'Evaluated'],
          stalled: ['False', Reason.Active, 'The spec is valid'],
        },
        generation,
        now,
      ),
    },
    ...(next ? { nextAt: next.time.getTime() } : {}),
  };
}
