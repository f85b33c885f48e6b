import { setKstatusConditions, toRfc3339, type ConditionValue } from '../../api/conditions.ts';
import { Reason } from '../../api/reasons.ts';
import type { EcsPowerOverride, EcsPowerOverrideStatus } from '../../api/schedule-types.ts';
import { overridePhase } from './phase.ts';

export interface OverrideStatusResult {
  status: EcsPowerOverrideStatus;
  /** When the override ends (epoch ms), while it is in force: requeue then. */
  endsAt?: number;
}

/**
 * The status of an override at `now` (pure). `matched` is how many EcsInstancePowers its selector
 * selects now; it is reported only while the override is in force (0 once it has ended or when
 * it is invalid). Ready=True Active while in force, Ready=True Expired after `until` (not an
 * error), Stalled=True InvalidSpec naming the field when it cannot take effect.
 */
export function overrideStatus(override: EcsPowerOverride, matched: number, now: Date, maxOverrideDurationMs: number): OverrideStatusResult {
  const generation = override.metadata.generation ?? 0;
  const previous = override.status?.conditions ?? [];
  const phase = overridePhase(override, now.getTime(), maxOverrideDurationMs);
  const conditions = (ready: ConditionValue, stalled: ConditionValue) =>
    setKstatusConditions(previous, { ready, reconciling: ['False', ready[1], ready[1] === Reason.InvalidSpec ? ready[2] : 'Evaluated'], stalled }, generation, now);
  const why = override.spec?.reason ? ` (${override.spec.reason})` : '';

  switch (phase.kind) {
    case 'invalid':
      return {
        status: {
          observedGeneration: generation,
          matched: 0,
          conditions: conditions(['False', Reason.InvalidSpec, phase.message], ['True', Reason.InvalidSpec, phase.message]),
        },
      };
    case 'inForce':
      return {
        status: {
          observedGeneration: generation,
          matched,
          conditions: conditions(
            ['True', Reason.Active, `Holds the selected EcsInstancePowers ${override.spec.desiredState} until ${toRfc3339(new Date(phase.until))}${why}`],
            ['False', Reason.Active, 'The spec is valid'],
          ),
        },
        endsAt: phase.until,
      };
    case 'expired':
      return {
        status: {
          observedGeneration: generation,
          matched: 0,
          conditions: conditions(['True', Reason.Expired, `Ended at ${toRfc3339(new Date(phase.until))}${why}`], ['False', Reason.Expired, 'The spec is valid']),
        },
      };
  }
}
