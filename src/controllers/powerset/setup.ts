import type { EcsInstancePowerSet, EcsInstancePowerSetStatus } from '../../api/powerset-types.ts';
import type { EcsInstancePower } from '../../api/types.ts';
import type { EcsApi, EcsTarget } from '../../ecs/gateway.ts';
import type { CredentialsSource } from '../../kube/credentials.ts';
import type { Logger } from '../../log.ts';
import type { EventRecorder } from '../../runtime/event-recorder.ts';
import { Indexer } from '../../runtime/indexer.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import type { Metrics } from '../../runtime/metrics.ts';
import { ControllerRunner } from '../../runtime/runner.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import type { MemberWriter } from './members.ts';
import { SetReconciler } from './reconciler.ts';
import { byInstance, byOwnerSet, instanceKey, watchMembers, watchSets } from './watches.ts';

/** The controller label of its controller_runtime_* and workqueue_* series. */
export const POWERSET_CONTROLLER_NAME = 'ecsinstancepowerset';
/** A member's change brings its set back this much later (changes in between share the pass). */
export const MEMBER_EVENT_DELAY_MS = 2_000;

export interface PowerSetControllerDeps {
  sets: Informer<EcsInstancePowerSet>;
  powers: Informer<EcsInstancePower>;
  /** The raw ECS calls of a region and credentials (the shared client registry). */
  ecs: (target: EcsTarget) => EcsApi;
  credentials: CredentialsSource;
  writer: MemberWriter;
  status: StatusWriter<EcsInstancePowerSetStatus>;
  events: EventRecorder;
  workers: number;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  memberEventDelayMs?: number;
}

/** The EcsInstancePowerSet controller (FLEETS.md): its indexes over members, reconciler, runner and watches. */
export function setUpPowerSetController(deps: PowerSetControllerDeps): ControllerRunner {
  const owners = new Indexer<EcsInstancePower>(byOwnerSet);
  const instances = new Indexer<EcsInstancePower>(byInstance);
  const objects = (keys: string[]): EcsInstancePower[] => keys.map((k) => deps.powers.get(k)).filter((o): o is EcsInstancePower => o !== undefined);
  const reconciler = new SetReconciler({
    lookup: {
      set: (key) => deps.sets.get(key),
      members: (setKey) => objects(owners.keys(setKey)),
      claimants: (regionId, instanceId) => objects(instances.keys(instanceKey(regionId, instanceId))),
      byName: (namespace, name) => deps.powers.get(`${namespace}/${name}`),
    },
    ecs: deps.ecs,
    credentials: deps.credentials,
    writer: deps.writer,
    status: deps.status,
    events: deps.events,
    clock: deps.clock,
    log: deps.log.with({ controller: POWERSET_CONTROLLER_NAME }),
  });
  const runner = new ControllerRunner({
    name: POWERSET_CONTROLLER_NAME,
    workers: deps.workers,
    reconcile: (key, context) => reconciler.reconcile(key, context),
    keys: () => deps.sets.list().map(keyOf),
    metrics: deps.metrics,
    log: deps.log,
    clock: deps.clock,
  });
  watchSets(deps.sets, runner.queue, (key) => reconciler.forget(key));
  watchMembers({ powers: deps.powers, owners, instances, queue: runner.queue, delayMs: deps.memberEventDelayMs ?? MEMBER_EVENT_DELAY_MS });
  return runner;
}
