import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Config } from './config.ts';
import { PLURAL } from './api/types.ts';
import type { EcsInstancePower, EcsInstancePowerStatus } from './api/types.ts';
import { OVERRIDE_KIND, OVERRIDE_PLURAL, SCHEDULE_KIND, SCHEDULE_PLURAL } from './api/schedule-types.ts';
import type { EcsPowerOverride, EcsPowerOverrideStatus, EcsPowerSchedule, EcsPowerScheduleStatus } from './api/schedule-types.ts';
import { SET_KIND, SET_PLURAL, type EcsInstancePowerSet, type EcsInstancePowerSetStatus } from './api/powerset-types.ts';
import { setUpInstancePowerController } from './controllers/instancepower/setup.ts';
import { setUpOverrideController } from './controllers/override/setup.ts';
import { KubeMemberWriter } from './controllers/powerset/members.ts';
import { setUpPowerSetController } from './controllers/powerset/setup.ts';
import { setUpScheduleController } from './controllers/schedule/setup.ts';
import { BatchingGateway } from './ecs/batching-gateway.ts';
import { EcsClientRegistry } from './ecs/clients.ts';
import type { EcsApi, EcsTarget } from './ecs/gateway.ts';
import { makeTimedClient } from './kube/client.ts';
import { reuseConnections } from './kube/connection-reuse.ts';
import { SecretCredentials } from './kube/credentials.ts';
import type { Logger } from './log.ts';
import { AggregatingEventRecorder } from './runtime/event-recorder.ts';
import { noFence, type Fence } from './runtime/fence.ts';
import { customResourceInformer, type CacheLifecycle, type Informer } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { Metrics } from './runtime/metrics.ts';
import type { ControllerRunner } from './runtime/runner.ts';
import { serve } from './runtime/server.ts';
import { secureMetricsServing } from './runtime/metrics-auth.ts';
import { PatchStatusWriter, pacedStatusWriter, type StatusWriter } from './runtime/status-writer.ts';
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

/**
 * The manager, wiring only: clients, the shared informers, the ECS gateway, the Lease, one
 * runner per controller (set up in its own folder), and the metrics and probe servers.
 */
export class Operator {
  readonly metrics = new Metrics();
  readonly powers: Informer<EcsInstancePower>;
  readonly schedules: Informer<EcsPowerSchedule>;
  readonly overrides: Informer<EcsPowerOverride>;
  readonly sets: Informer<EcsInstancePowerSet>;
  readonly ecsClients: EcsClientRegistry;
  private readonly informers: CacheLifecycle[];
  private readonly controllers: ControllerRunner[];
  private readonly elector: LeaderElector | undefined;
  private readonly events: AggregatingEventRecorder;
  private readonly servers: Server[] = [];
  private controllersStarted = false;
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

    const scope = { ...(config.namespace ? { namespace: config.namespace } : {}) };
    this.powers = customResourceInformer<EcsInstancePower>(kubeConfig, custom, log, {
      kind: 'EcsInstancePower',
      plural: PLURAL,
      ...scope,
      ...(config.selector ? { labelSelector: config.selector } : {}),
    });
    this.schedules = customResourceInformer<EcsPowerSchedule>(kubeConfig, custom, log, { kind: SCHEDULE_KIND, plural: SCHEDULE_PLURAL, ...scope });
    this.overrides = customResourceInformer<EcsPowerOverride>(kubeConfig, custom, log, { kind: OVERRIDE_KIND, plural: OVERRIDE_PLURAL, ...scope });
    // Sets shard like their members: with --selector, a set's template labels must match it too.
    this.sets = customResourceInformer<EcsInstancePowerSet>(kubeConfig, custom, log, {
      kind: SET_KIND,
      plural: SET_PLURAL,
      ...scope,
      ...(config.selector ? { labelSelector: config.selector } : {}),
    });
    this.informers = [this.powers, this.schedules, this.overrides, this.sets];

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
    // One budget for every status write of every controller: it protects the API server.
    const writeBudget = new TokenBucket(config.kubeApiQps, config.kubeApiBurst, clock);
    const statusWriter = <S extends object>(plural: string): StatusWriter<S> =>
      pacedStatusWriter(new PatchStatusWriter<S>(custom, plural), writeBudget, fence, (result) => metrics.statusWrites.inc({ result }));
    const events = (this.events = new AggregatingEventRecorder(core, log, {
      component: 'ecs-power-controller',
      clock,
      qps: config.eventQps,
      burst: config.eventBurst,
      onDropped: () => metrics.eventsDropped.inc(),
    }));

    this.controllers = [
      setUpInstancePowerController({
        powers: this.powers,
        schedules: this.schedules,
        overrides: this.overrides,
        gateway,
        credentials: new SecretCredentials(core, {
          clock,
          ...(config.defaultCredentialsNamespaces ? { defaultCredentialsNamespaces: config.defaultCredentialsNamespaces } : {}),
        }),
        status: statusWriter<EcsInstancePowerStatus>(PLURAL),
        events,
        maxOverrideDurationMs: config.maxOverrideDurationMs,
        timing: { pollIntervalMs: config.pollIntervalMs, resyncPeriodMs: config.resyncPeriodMs, terminalRecheckMs: config.terminalRecheckMs },
        workers: config.maxConcurrentReconciles,
        metrics,
        clock,
        log,
      }),
      setUpScheduleController({
        schedules: this.schedules,
        status: statusWriter<EcsPowerScheduleStatus>(SCHEDULE_PLURAL),
        workers: config.maxConcurrentReconciles,
        metrics,
        clock,
        log,
      }),
      setUpOverrideController({
        overrides: this.overrides,
        powers: this.powers,
        status: statusWriter<EcsPowerOverrideStatus>(OVERRIDE_PLURAL),
        maxOverrideDurationMs: config.maxOverrideDurationMs,
        workers: config.maxConcurrentReconciles,
        metrics,
        clock,
        log,
      }),
      setUpPowerSetController({
        sets: this.sets,
        powers: this.powers,
        ecs: (target) => this.ecsClients.apiFor(target),
        credentials: new SecretCredentials(core, {
          clock,
          ...(config.defaultCredentialsNamespaces ? { defaultCredentialsNamespaces: config.defaultCredentialsNamespaces } : {}),
        }),
        writer: new KubeMemberWriter(custom, writeBudget, fence),
        status: statusWriter<EcsInstancePowerSetStatus>(SET_PLURAL),
        events,
        workers: config.maxConcurrentReconciles,
        metrics,
        clock,
        log,
      }),
    ];
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
      ready: () => this.informers.every((informer) => informer.isReady()) && !this.stopping,
    };
    const healthServer = await serve(config.healthProbeBindAddress, { probes });
    if (healthServer) {
      this.servers.push(healthServer.server);
      this.healthPort = healthServer.port;
    }
    await Promise.all(this.informers.map((informer) => informer.start()));
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
    const drained = await Promise.all(this.controllers.map((controller) => controller.stop(this.options.config.shutdownTimeoutMs)));
    await this.elector?.stop();
    this.events.close();
    await Promise.all(this.informers.map((informer) => informer.stop()));
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    return drained.every(Boolean);
  }

  private startControllers(): void {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    for (const controller of this.controllers) controller.start();
  }

  /**
   * controller-runtime stops at once when leadership is lost: no new work starts, and the fence
   * already refuses every write of reconciles still in flight. The process then exits non-zero.
   */
  private lostLeadership(): void {
    for (const controller of this.controllers) controller.halt();
    this.options.onLostLeadership?.();
  }
}
