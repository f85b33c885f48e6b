import { findCondition } from '../../api/conditions.ts';
import type { EcsPowerSchedule, EcsPowerScheduleStatus } from '../../api/schedule-types.ts';
import type { Logger } from '../../log.ts';
import { done, requeueAfter, type ReconcileResult } from '../../runtime/result.ts';
import { updateStatus } from '../../runtime/status-update.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import type { CompiledSchedules } from './compiled.ts';
import { scheduleStatus } from './status.ts';

export interface ScheduleReconcilerDeps {
  schedules: { get(key: string): EcsPowerSchedule | undefined };
  compiled: CompiledSchedules;
  status: StatusWriter<EcsPowerScheduleStatus>;
  clock: Clock;
  log: Logger;
}

/**
 * One pass for one EcsPowerSchedule: read it from the cache, evaluate it now, write the status
 * once when it differs (a spec change, a transition), and come back at the next transition. It
 * never polls: between transitions nothing changes, so nothing is looked at.
 */
export class ScheduleReconciler {
  constructor(private readonly deps: ScheduleReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const schedule = this.deps.schedules.get(key);
    if (!schedule || schedule.metadata.deletionTimestamp) {
      this.deps.compiled.forget(key);
      return done;
    }
    const now = this.deps.clock.now();
    const { status, nextAt } = scheduleStatus(schedule, new Date(now), this.deps.compiled.get(key, schedule));
    const written = await updateStatus(this.deps.status, schedule, status, this.deps.log, key);
    if (typeof written === 'object') return written;
    if (written === 'written') this.logChange(key, schedule.status, status);
    // nextAt is after now; a timer firing a moment early finds the same status and comes back
    return nextAt === undefined ? done : requeueAfter(Math.max(1, nextAt - now));
  }

  private logChange(key: string, before: EcsPowerScheduleStatus | undefined, after: EcsPowerScheduleStatus): void {
    const stalled = findCondition(after.conditions, 'Stalled');
    if (stalled?.status === 'True') {
      if (findCondition(before?.conditions, 'Stalled')?.message !== stalled.message) this.deps.log.error('schedule invalid', { schedule: key, message: stalled.message });
      return;
    }
    if (before?.desiredState !== after.desiredState) {
      this.deps.log.info('schedule desired state', {
        schedule: key,
        desiredState: after.desiredState,
        ...(before?.desiredState ? { was: before.desiredState } : {}),
        ...(after.nextTransition ? { next: after.nextTransition.time } : {}),
      });
    }
  }
}
