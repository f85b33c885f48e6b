import { findCondition } from '../../api/conditions.ts';
import type { EcsPowerOverride, EcsPowerOverrideStatus } from '../../api/schedule-types.ts';
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { Logger } from '../../log.ts';
import { done, requeueAfter, type ReconcileResult } from '../../runtime/result.ts';
import { updateStatus } from '../../runtime/status-update.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import { overridePhase } from './phase.ts';
import { overrideStatus } from './status.ts';

export interface OverrideReconcilerDeps {
  overrides: { get(key: string): EcsPowerOverride | undefined };
  /** How many EcsInstancePowers of the namespace the selector selects (from the label index). */
  countSelected(namespace: string, selector: V1LabelSelector): number;
  status: StatusWriter<EcsPowerOverrideStatus>;
  maxOverrideDurationMs: number;
  clock: Clock;
  log: Logger;
}

/**
 * One pass for one EcsPowerOverride: read it from the cache, count what it selects while it is in
 * force, write the status once when it differs, and come back when it ends. Changes of the
 * resources it selects enqueue it through the watches; nothing is polled.
 */
export class OverrideReconciler {
  constructor(private readonly deps: OverrideReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const override = this.deps.overrides.get(key);
    if (!override || override.metadata.deletionTimestamp) return done;
    const now = this.deps.clock.now();
    const phase = overridePhase(override, now, this.deps.maxOverrideDurationMs);
    const matched = phase.kind === 'inForce' ? this.deps.countSelected(override.metadata.namespace ?? '', override.spec.selector) : 0;
    const { status, endsAt } = overrideStatus(override, matched, new Date(now), this.deps.maxOverrideDurationMs);
    const written = await updateStatus(this.deps.status, override, status, this.deps.log, key);
    if (typeof written === 'object') return written;
    if (written === 'written') this.logChange(key, override.status, status);
    // a timer firing a moment early finds it still in force and comes back for the rest
    return endsAt === undefined ? done : requeueAfter(Math.max(1, endsAt - now));
  }

  /** One log line per change of Ready's reason (Active, Expired, InvalidSpec). */
  private logChange(key: string, before: EcsPowerOverrideStatus | undefined, after: EcsPowerOverrideStatus): void {
    const was = findCondition(before?.conditions, 'Ready');
    const ready = findCondition(after.conditions, 'Ready');
    if (!ready || (was?.reason === ready.reason && was.message === ready.message)) return;
    const invalid = ready.reason === 'InvalidSpec';
    this.deps.log[invalid ? 'error' : 'info']('override ' + (invalid ? 'invalid' : ready.reason.toLowerCase()), { override: key, message: ready.message, matched: after.matched });
  }
}
