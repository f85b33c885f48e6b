import { findCondition } from '../../api/conditions.ts';
import type { EcsInstancePower, EcsInstancePowerStatus } from '../../api/types.ts';
import type { EcsGateway } from '../../ecs/gateway.ts';
import type { CredentialsSource } from '../../kube/credentials.ts';
import type { Logger } from '../../log.ts';
import type { EventRecorder } from '../../runtime/event-recorder.ts';
import { Indexer } from '../../runtime/indexer.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import { CONTROLLER_NAME, type Metrics } from '../../runtime/metrics.ts';
import { ControllerRunner } from '../../runtime/runner.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import { Reconciler } from './reconciler.ts';
import type { Timing } from './requeue.ts';
import { byInstance, byScheduleRef, instanceIndexValue, watchInstancePowers, watchOverrides, watchSchedules } from './watches.ts';
import { LabelIndex } from '../../runtime/label-index.ts';
import { overridesInForce } from '../override/in-force.ts';
import { createdAt } from '../override/phase.ts';
import { overrideUntil } from '../../schedule/override.ts';
import { StoppedTimeMeter } from './savings.ts';
import type { EcsPowerOverride, EcsPowerSchedule } from '../../api/schedule-types.ts';
import { compileSchedule, evaluateCompiled, InvalidScheduleError, type CompiledSchedule } from '../../schedule/evaluate.ts';

export interface InstancePowerControllerDeps {
  powers: Informer<EcsInstancePower>;
  schedules: Informer<EcsPowerSchedule>;
  overrides: Informer<EcsPowerOverride>;
  gateway: EcsGateway;
  credentials: CredentialsSource;
  status: StatusWriter<EcsInstancePowerStatus>;
  events: EventRecorder;
  timing: Timing;
  /** `--max-override-duration`: an override that would last longer has no effect. */
  maxOverrideDurationMs: number;
  workers: number;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
}

/** The EcsInstancePower controller: its index, reconciler, runner and watches. */
export function setUpInstancePowerController(deps: InstancePowerControllerDeps): ControllerRunner {
  const instances = new Indexer<EcsInstancePower>(byInstance);
  const scheduleRefs = new Indexer<EcsInstancePower>(byScheduleRef);
  const labels = new LabelIndex<EcsInstancePower>();
  const reconciler = new Reconciler({
    resources: {
      get: (key) => deps.powers.get(key),
      claimants: (regionId, instanceId) => instances.keys(instanceIndexValue(regionId, instanceId)),
    },
    desired: {
      schedule: (key) => deps.schedules.get(key),
      overrides: (obj, now) =>
        overridesInForce(deps.overrides.list(obj.metadata.namespace), obj.metadata.labels, now, deps.maxOverrideDurationMs).map((o) => ({
          name: o.metadata.name ?? '',
          desiredState: o.spec.desiredState,
          createdAt: createdAt(o) ?? now,
          until: overrideUntil(o.spec) ?? now,
        })),
      evaluate: scheduleEvaluator(),
    },
    meters: new StoppedTimeMeter(deps.metrics, deps.clock),
    gateway: deps.gateway,
    credentials: deps.credentials,
    status: deps.status,
    events: deps.events,
    clock: deps.clock,
    timing: deps.timing,
    random: Math.random,
    log: deps.log,
  });
  const runner = new ControllerRunner({
    name: CONTROLLER_NAME,
    workers: deps.workers,
    reconcile: (key, context) => reconciler.reconcile(key, context),
    keys: () => deps.powers.list().map(keyOf),
    metrics: deps.metrics,
    log: deps.log,
    clock: deps.clock,
  });
  watchInstancePowers({ powers: deps.powers, instances, scheduleRefs, labels, queue: runner.queue });
  watchSchedules({ schedules: deps.schedules, scheduleRefs, queue: runner.queue });
  watchOverrides({ overrides: deps.overrides, labels, queue: runner.queue });
  deps.metrics.countResourcesFrom(() => summaries(deps.powers.list()));
  return runner;
}

function* summaries(objects: readonly EcsInstancePower[]): Iterable<{ desiredState: string; ready: string; reason: string }> {
  for (const obj of objects) {
    const ready = findCondition(obj.status?.conditions, 'Ready');
    yield {
      desiredState: obj.status?.desiredState ?? obj.spec?.desiredState ?? 'Unknown',
      ready: ready?.status ?? 'Unknown',
      reason: ready?.reason ?? 'Unknown',
    };
  }
}

/**
 * Evaluates schedules, compiling each version once: the informer hands out a new object per
 * resourceVersion, so a WeakMap on the object is a memo that never outlives it.
 */
function scheduleEvaluator(): (schedule: EcsPowerSchedule, now: number) => ReturnType<typeof evaluateCompiled> | { invalid: string } {
  const compiled = new WeakMap<EcsPowerSchedule, CompiledSchedule | { invalid: string }>();
  return (schedule, now) => {
    let entry = compiled.get(schedule);
    if (!entry) {
      try {
        entry = compileSchedule(schedule.spec);
      } catch (err) {
        if (!(err instanceof InvalidScheduleError)) throw err;
        entry = { invalid: err.message };
      }
      compiled.set(schedule, entry);
    }
    return 'invalid' in entry ? entry : evaluateCompiled(entry, now);
  };
}
