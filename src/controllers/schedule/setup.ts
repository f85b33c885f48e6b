import type { EcsPowerSchedule, EcsPowerScheduleStatus } from '../../api/schedule-types.ts';
import type { Logger } from '../../log.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import type { Metrics } from '../../runtime/metrics.ts';
import { ControllerRunner } from '../../runtime/runner.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import { CompiledSchedules } from './compiled.ts';
import { ScheduleReconciler } from './reconciler.ts';
import { watchSchedules } from './watches.ts';

/** The controller label of its controller_runtime_* and workqueue_* series. */
export const SCHEDULE_CONTROLLER_NAME = 'ecspowerschedule';

export interface ScheduleControllerDeps {
  schedules: Informer<EcsPowerSchedule>;
  status: StatusWriter<EcsPowerScheduleStatus>;
  workers: number;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
}

/** The EcsPowerSchedule controller: its status (desired state now, next transition), written at each change. */
export function setUpScheduleController(deps: ScheduleControllerDeps): ControllerRunner {
  const reconciler = new ScheduleReconciler({
    schedules: deps.schedules,
    compiled: new CompiledSchedules(),
    status: deps.status,
    clock: deps.clock,
    log: deps.log,
  });
  const runner = new ControllerRunner({
    name: SCHEDULE_CONTROLLER_NAME,
    workers: deps.workers,
    reconcile: (key) => reconciler.reconcile(key),
    keys: () => deps.schedules.list().map(keyOf),
    metrics: deps.metrics,
    log: deps.log,
    clock: deps.clock,
  });
  watchSchedules({ schedules: deps.schedules, queue: runner.queue });
  return runner;
}
