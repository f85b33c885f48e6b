import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Config } from './config.ts';
import { findCondition } from './api/conditions.ts';
import { GROUP, PLURAL, VERSION } from './api/types.ts';
import type { EcsInstancePower } from './api/types.ts';
import { Reconciler } from './controllers/instancepower/reconciler.ts';
import { byInstance, watchInstancePowers } from './controllers/instancepower/watches.ts';
import { BatchingGateway } from './ecs/batching-gateway.ts';
import { EcsClientRegistry } from './ecs/clients.ts';
import type { EcsApi, EcsTarget } from './ecs/gateway.ts';
import { makeTimedClient } from './kube/client.ts';
import { reuseConnections } from './kube/connection-reuse.ts';
import { SecretCredentials } from './kube/credentials.ts';
import type { Logger } from './log.ts';
import { Controller } from './runtime/controller.ts';
import { AggregatingEventRecorder } from './runtime/event-recorder.ts';
import { noFence, type Fence } from './runtime/fence.ts';
import { Indexer } from './runtime/indexer.ts';
import { Informer, keyOf } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { CONTROLLER_NAME, Metrics } from './runtime/metrics.ts';
import { serve } from './runtime/server.ts';
import { secureMetricsServing } from './runtime/metrics-auth.ts';
import { PatchStatusWriter, pacedStatusWriter } from './runtime/status-writer.ts';
import { GatedQueue, Workqueue } from './runtime/workqueue.ts';
import type { Clock } from './util/clock.ts';
import { realClock } from './util/clock.ts';
import { TokenBucket } from './util/token-bucket.ts';

export interface OperatorOptions {
  config: Config;
  kubeConfig: KubeConfig;
  log: Logger;
  clock?: Clock;
  /** Tests may put a fake under the real gateway stack; production uses the Alibaba SDK. */
  rawEcsApi?: (target: EcsTarget) => EcsApi;
  /** Called at once when leadership is lost; main exits non-zero (as controller-runtime does). */
  onLostLeadership?: () => void;
  identity?: string;
}

/** Wiring only: flags -> clients -> informers -> reconcilers -> controllers -> servers. */
export class Operator {
  readonly metrics = new Metrics();
  readonly powers: Informer<EcsInstancePower>;
  readonly ecsClients: EcsClientRegistry;
  private readonly queue: Workqueue;
  private readonly gate: GatedQueue;
  private readonly controller: Controller;
  private readonly elector: LeaderElector | undefined;
  private readonly servers: Server[] = [];
  private controllerStarted = false;
  private stopping = false;
  metricsPort: number | undefined;
  healthPort: number | undefined;

  constructor(private readonly options: OperatorOptions) {
    const { config, log } = options;
    const kubeConfig = reuseConnections(options.kubeConfig);
    const clock = options.clock ?? realClock;
    const custom = makeTimedClient(kubeConfig, CustomObjectsApi, config.kubeApiTimeoutMs);
    const core = makeTimedClient(kubeConfig, CoreV1Api, config.kubeApiTimeoutMs);
    const metrics = this.metrics;

    if (config.leaderElect) {
      metrics.leaderStatus.set({ name: config.leaderElectionId }, 0);
      // Two Lease calls per attempt must fit in the renew deadline.
      const leases = makeTimedClient(kubeConfig, CoordinationV1Api, Math.max(500, Math.floor(config.renewDeadlineMs / 2)));
      this.elector = new LeaderElector(
        leases,
        {
          name: config.leaderElectionId,
          namespace: config.leaderElectionNamespace,
          identity: options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
          clock,
        },
        log,
        {
          onStartedLeading: () => {
            metrics.leaderStatus.set({ name: config.leaderElectionId }, 1);
            this.startControllers();
          },
          onStoppedLeading: () => {
            metrics.leaderStatus.set({ name: config.leaderElectionId }, 0);
            this.lostLeadership();
          },
        },
      );
    }
    const fence: Fence = this.elector ?? noFence;

    const namespace = config.namespace;
    this.powers = new Informer<EcsInstancePower>(kubeConfig, log, {
      kind: 'EcsInstancePower',
      path: namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      ...(config.selector ? { labelSelector: config.selector } : {}),
      list: async () => {
        const common = { group: GROUP, version: VERSION, plural: PLURAL, ...(config.selector ? { labelSelector: config.selector } : {}) };
        const list = namespace ? await custom.listNamespacedCustomObject({ ...common, namespace }) : await custom.listClusterCustomObject(common);
        return list as { metadata?: { resourceVersion?: string }; items: EcsInstancePower[] };
      },
    });
    const instances = new Indexer<EcsInstancePower>(byInstance);

    const name = CONTROLLER_NAME;
    this.queue = new Workqueue({
      clock,
      metrics: {
        depth: (n) => metrics.workqueueDepth.set({ name }, n),
        added: () => metrics.workqueueAdds.inc({ name }),
        retried: () => metrics.workqueueRetries.inc({ name }),
        queuedFor: (s) => metrics.workqueueQueueDuration.observe({ name }, s),
        workedFor: (s) => metrics.workqueueWorkDuration.observe({ name }, s),
      },
    });
    this.ecsClients = new EcsClientRegistry({
      ...(config.ecsEndpoint ? { endpoint: config.ecsEndpoint } : {}),
      timeoutMs: config.ecsTimeoutMs,
      qps: config.ecsQps,
      burst: config.ecsBurst,
      retry: { retries: 2, minTimeoutMs: 200, maxTimeoutMs: 2000 },
      metrics,
      fence,
      clock,
      ...(options.rawEcsApi ? { rawApi: options.rawEcsApi } : {}),
    });
    const gateway = new BatchingGateway((target) => this.ecsClients.apiFor(target), {
      maxBatchSize: config.maxBatchSize,
      batchWindowMs: config.batchWindowMs,
    });
    const status = pacedStatusWriter(new PatchStatusWriter(custom), new TokenBucket(config.kubeApiQps, config.kubeApiBurst, clock), fence, (result) =>
      metrics.statusWrites.inc({ result }),
    );
    const reconciler = new Reconciler({
      resources: { get: (key) => this.powers.get(key), claimants: (regionId, instanceId) => instances.keys(`${regionId}/${instanceId}`) },
      gateway,
      credentials: new SecretCredentials(core, {
        clock,
        ...(config.defaultCredentialsNamespaces ? { defaultCredentialsNamespaces: config.defaultCredentialsNamespaces } : {}),
      }),
      status,
      events: new AggregatingEventRecorder(core, log, {
        component: 'ecs-power-controller',
        clock,
        qps: config.eventQps,
        burst: config.eventBurst,
        onDropped: () => metrics.eventsDropped.inc(),
      }),
      clock,
      timing: {
        pollIntervalMs: config.pollIntervalMs,
        resyncPeriodMs: config.resyncPeriodMs,
        terminalRecheckMs: config.terminalRecheckMs,
      },
      random: Math.random,
      log,
    });
    this.controller = new Controller({
      name,
      queue: this.queue,
      reconcile: (key, context) => reconciler.reconcile(key, context),
      workers: config.maxConcurrentReconciles,
      metrics,
      log,
    });
    this.gate = new GatedQueue(this.queue, () => this.powers.list().map(keyOf));
    watchInstancePowers({ powers: this.powers, instances, queue: this.gate });
    metrics.countResourcesFrom(() => summaries(this.powers.list()));
  }

  async start(): Promise<void> {
    const { config } = this.options;
    const secure = config.metricsSecure ? secureMetricsServing({ ...(config.metricsCertDir ? { certDir: config.metricsCertDir } : {}), kubeConfig: this.options.kubeConfig, log: this.options.log }) : undefined;
    const metricsServer = await serve(config.metricsBindAddress, { registry: this.metrics.registry }, secure);
    if (secure) this.options.log.info('metrics served over HTTPS to authorized callers', { certificate: secure.certSource });
    if (metricsServer) {
      this.servers.push(metricsServer.server);
      this.metricsPort = metricsServer.port;
    }
    const probes = {
      healthy: () => this.elector?.isHealthy() ?? true,
      ready: () => this.powers.isReady() && !this.stopping,
    };
    const healthServer = await serve(config.healthProbeBindAddress, { probes });
    if (healthServer) {
      this.servers.push(healthServer.server);
      this.healthPort = healthServer.port;
    }
    await this.powers.start();
    this.options.log.info('cache synced', { resources: this.powers.list().length });
    if (this.elector) this.elector.start();
    else this.startControllers();
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : true;
  }

  /** SIGTERM: stop taking work, finish reconciles in flight within the bound, release the lease. */
  async stop(): Promise<boolean> {
    if (this.stopping) return true;
    this.stopping = true;
    const drained = await this.controller.stop(this.options.config.shutdownTimeoutMs);
    await this.elector?.stop();
    await this.powers.stop();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    return drained;
  }

  private startControllers(): void {
    if (this.controllerStarted || this.stopping) return;
    this.controllerStarted = true;
    this.controller.start();
    this.gate.start();
    this.options.log.info('controller started', { workers: this.options.config.maxConcurrentReconciles });
  }

  /**
   * controller-runtime stops at once when leadership is lost: no new work starts, and the fence
   * already refuses every write of reconciles still in flight. The process then exits non-zero.
   */
  private lostLeadership(): void {
    this.queue.shutDown();
    this.options.onLostLeadership?.();
  }
}

function* summaries(objects: readonly EcsInstancePower[]): Iterable<{ desiredState: string; ready: string; reason: string }> {
  for (const obj of objects) {
    const ready = findCondition(obj.status?.conditions, 'Ready');
    yield {
      desiredState: obj.spec?.desiredState ?? 'Unknown',
      ready: ready?.status ?? 'Unknown',
      reason: ready?.reason ?? 'Unknown',
    };
  }
}
