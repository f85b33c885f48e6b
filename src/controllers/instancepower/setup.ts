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
import { byInstance, instanceIndexValue, watchInstancePowers } from './watches.ts';

export interface InstancePowerControllerDeps {
  powers: Informer<EcsInstancePower>;
  gateway: EcsGateway;
  credentials: CredentialsSource;
  status: StatusWriter<EcsInstancePowerStatus>;
  events: EventRecorder;
  timing: Timing;
  workers: number;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
}

/** The EcsInstancePower controller: its index, reconciler, runner and watches. */
export function setUpInstancePowerController(deps: InstancePowerControllerDeps): ControllerRunner {
  const instances = new Indexer<EcsInstancePower>(byInstance);
  const reconciler = new Reconciler({
    resources: {
      get: (key) => deps.powers.get(key),
      claimants: (regionId, instanceId) => instances.keys(instanceIndexValue(regionId, instanceId)),
    },
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
  watchInstancePowers({ powers: deps.powers, instances, queue: runner.queue });
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
