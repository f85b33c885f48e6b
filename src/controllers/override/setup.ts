import type { EcsPowerOverride, EcsPowerOverrideStatus } from '../../api/schedule-types.ts';
import type { EcsInstancePower } from '../../api/types.ts';
import type { Logger } from '../../log.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import { LabelIndex } from '../../runtime/label-index.ts';
import type { Metrics } from '../../runtime/metrics.ts';
import { ControllerRunner } from '../../runtime/runner.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import { countInForce } from './in-force.ts';
import { OverrideReconciler } from './reconciler.ts';
import { watchOverrides } from './watches.ts';

/** The controller label of its controller_runtime_* and workqueue_* series. */
export const OVERRIDE_CONTROLLER_NAME = 'ecspoweroverride';

export interface OverrideControllerDeps {
  overrides: Informer<EcsPowerOverride>;
  powers: Informer<EcsInstancePower>;
  status: StatusWriter<EcsPowerOverrideStatus>;
  /** `--max-override-duration` */
  maxOverrideDurationMs: number;
  workers: number;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
}

/** The EcsPowerOverride controller: its status (Active with `matched`, Expired, InvalidSpec) and ecspower_overrides_active. */
export function setUpOverrideController(deps: OverrideControllerDeps): ControllerRunner {
  const powerLabels = new LabelIndex<EcsInstancePower>();
  const reconciler = new OverrideReconciler({
    overrides: deps.overrides,
    countSelected: (namespace, selector) => powerLabels.count(namespace, selector),
    status: deps.status,
    maxOverrideDurationMs: deps.maxOverrideDurationMs,
    clock: deps.clock,
    log: deps.log,
  });
  const runner = new ControllerRunner({
    name: OVERRIDE_CONTROLLER_NAME,
    workers: deps.workers,
    reconcile: (key) => reconciler.reconcile(key),
    keys: () => deps.overrides.list().map(keyOf),
    metrics: deps.metrics,
    log: deps.log,
    clock: deps.clock,
  });
  watchOverrides({ overrides: deps.overrides, powers: deps.powers, powerLabels, queue: runner.queue });
  deps.metrics.countOverridesActiveFrom(() => countInForce(deps.overrides.list(), deps.clock.now(), deps.maxOverrideDurationMs));
  return runner;
}
