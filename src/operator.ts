import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Config } from './config.ts';
import { findCondition } from './api/conditions.ts';
import { Controller } from './runtime/controller.ts';
import { Workqueue } from './runtime/workqueue.ts';
import { BatchingGateway } from './ecs/batching-gateway.ts';
import { ecsClients } from './ecs/clients.ts';
import type { EcsApi, EcsTarget } from './ecs/gateway.ts';
import { SecretCredentials } from './kube/credentials.ts';
import { AggregatingEventRecorder } from './runtime/event-recorder.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { ResourceCache } from './runtime/resource-cache.ts';
import { PatchStatusWriter, limitedStatusWriter } from './runtime/status-writer.ts';
import { reuseConnections } from './kube/connection-reuse.ts';
import type { Logger } from './log.ts';
import { CONTROLLER_NAME, Metrics } from './runtime/metrics.ts';
import { Reconciler } from './controllers/instancepower/reconciler.ts';
import { serve } from './runtime/server.ts';
import { secureMetricsServing } from './runtime/metrics-auth.ts';
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
  /** Called when leadership is lost; main exits the process (as controller-runtime does). */
  onLostLeadership?: () => void;
  identity?: string;
}

/** Wiring only: flags -> clients -> cache -> reconciler -> controller -> servers. */
export class Operator {
  readonly metrics = new Metrics();
  readonly cache: ResourceCache;
  private readonly queue: Workqueue;
  private readonly controller: Controller;
  private readonly elector: LeaderElector | undefined;
  private readonly servers: Server[] = [];
  private controllerStarted = false;
  private stopping = false;
  metricsPort: number | undefined;
  healthPort: number | undefined;

  constructor(private readonly o: OperatorOptions) {
    const { config, log } = o;
    const kubeConfig = reuseConnections(o.kubeConfig);
    const clock = o.clock ?? realClock;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const m = this.metrics;

    this.cache = new ResourceCache(kubeConfig, custom, log, {
      ...(config.namespace ? { namespace: config.namespace } : {}),
      ...(config.selector ? { labelSelector: config.selector } : {}),
    });
    const name = CONTROLLER_NAME;
    this.queue = new Workqueue({
      clock,
      metrics: {
        depth: (n) => m.workqueueDepth.set({ name }, n),
        added: () => m.workqueueAdds.inc({ name }),
        retried: () => m.workqueueRetries.inc({ name }),
        queuedFor: (s) => m.workqueueQueueDuration.observe({ name }, s),
        workedFor: (s) => m.workqueueWorkDuration.observe({ name }, s),
      },
    });
    const clients = ecsClients({
      ...(config.ecsEndpoint ? { endpoint: config.ecsEndpoint } : {}),
      timeoutMs: config.ecsTimeoutMs,
      qps: config.ecsQps,
      burst: config.ecsBurst,
      retry: { retries: 2, minTimeoutMs: 200, maxTimeoutMs: 2000 },
      metrics: m,
      ...(o.rawEcsApi ? { rawApi: o.rawEcsApi } : {}),
    });
    const gateway = new BatchingGateway(clients, { maxBatchSize: config.maxBatchSize, batchWindowMs: config.batchWindowMs });
    const status = limitedStatusWriter(new PatchStatusWriter(custom), new TokenBucket(config.kubeApiQps, config.kubeApiBurst, clock), (result) =>
      m.statusWrites.inc({ result }),
    );
    const reconciler = new Reconciler({
      cache: this.cache,
      gateway,
      credentials: new SecretCredentials(core, 30_000, clock),
      status,
      events: new AggregatingEventRecorder(core, log, {
        component: 'ecs-power-controller',
        clock,
        qps: config.eventQps,
        burst: config.eventBurst,
        onDropped: () => m.eventsDropped.inc(),
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
      reconcile: (key) => reconciler.reconcile(key),
      workers: config.maxConcurrentReconciles,
      metrics: m,
      log,
    });
    this.cache.onChange((key, obj, deleted) => {
      if (deleted) {
        this.queue.remove(key);
        reconciler.forget(key);
      }
      this.queue.add(key);
      if (obj.spec) {
        for (const other of this.cache.claimants(obj.spec.regionId, obj.spec.instanceId)) if (other !== key) this.queue.add(other);
      }
    });
    m.countResourcesFrom(() => summaries(this.cache));

    if (config.leaderElect) {
      const identity = o.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
      m.leaderStatus.set({ name: config.leaderElectionId }, 0);
      this.elector = new LeaderElector(
        kubeConfig.makeApiClient(CoordinationV1Api),
        {
          name: config.leaderElectionId,
          namespace: config.leaderElectionNamespace ?? 'ecs-power-system',
          identity,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
          clock,
        },
        log,
        (leading) => {
          m.leaderStatus.set({ name: config.leaderElectionId }, leading ? 1 : 0);
          if (leading) this.startController();
          else void this.lostLeadership();
        },
      );
    }
  }

  async start(): Promise<void> {
    const { config } = this.o;
    const secure = config.metricsSecure ? secureMetricsServing({ ...(config.metricsCertDir ? { certDir: config.metricsCertDir } : {}), kubeConfig: this.o.kubeConfig, log: this.o.log }) : undefined;
    const metricsServer = await serve(config.metricsBindAddress, { registry: this.metrics.registry }, secure);
    if (secure) this.o.log.info('metrics served over HTTPS to authorized callers', { certificate: secure.certSource });
    if (metricsServer) {
      this.servers.push(metricsServer.server);
      this.metricsPort = metricsServer.port;
    }
    const probes = { healthy: () => true, ready: () => this.cache.isReady() && !this.stopping };
    const healthServer = await serve(config.healthProbeBindAddress, { probes });
    if (healthServer) {
      this.servers.push(healthServer.server);
      this.healthPort = healthServer.port;
    }
    await this.cache.start();
    this.o.log.info('cache synced', { resources: this.cache.list().length });
    if (this.elector) this.elector.start();
    else this.startController();
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : true;
  }

  /** SIGTERM: stop taking work, finish reconciles in flight within the bound, release the lease. */
  async stop(): Promise<boolean> {
    if (this.stopping) return true;
    this.stopping = true;
    const drained = await this.controller.stop(this.o.config.shutdownTimeoutMs);
    await this.elector?.stop();
    await this.cache.stop();
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

  private startController(): void {
    if (this.controllerStarted || this.stopping) return;
    this.controllerStarted = true;
    this.controller.start();
    this.o.log.info('controller started', { workers: this.o.config.maxConcurrentReconciles });
  }

  private async lostLeadership(): Promise<void> {
    await this.controller.stop(this.o.config.shutdownTimeoutMs);
    this.o.onLostLeadership?.();
  }
}

function* summaries(cache: ResourceCache): Iterable<{ desiredState: string; ready: string; reason: string }> {
  for (const obj of cache.list()) {
    const ready = findCondition(obj.status?.conditions, 'Ready');
    yield {
      desiredState: obj.spec?.desiredState ?? 'Unknown',
      ready: ready?.status ?? 'Unknown',
      reason: ready?.reason ?? 'Unknown',
    };
  }
}
