import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const CONTROLLER_NAME = 'ecsinstancepower';

/** DescribeInstances' StoppedMode values, the stopped_mode label of the savings counters. */
export const STOPPED_MODES_REPORTED = ['StopCharging', 'KeepCharging', 'Not-applicable'] as const;

/** controller-runtime's reconcile results. */
const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;
const STATUS_WRITE_RESULTS = ['ok', 'conflict', 'error'] as const;

interface ResourceLabels {
  desired_state: string;
  ready: string;
  reason: string;
}

const labelKey = (desiredState: string, ready: string, reason: string): string => `${desiredState}\0${ready}\0${reason}`;

export interface ResourceSummary {
  desiredState: string;
  ready: string;
  reason: string;
}

/**
 * Every metric of API.md, on a registry of its own so that several controllers can live in one
 * process (tests) without sharing counters. Names and labels follow controller-runtime.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60],
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly maxConcurrentReconciles = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly workqueueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueQueueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'] as const,
    buckets: [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1, 1, 10, 100, 1000],
    registers: [this.registry],
  });
  readonly workqueueWorkDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'] as const,
    buckets: [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1, 1, 10, 100, 1000],
    registers: [this.registry],
  });

  readonly leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  readonly ecsRequests = new Counter({
    name: 'ecs_api_requests_total',
    help: 'ECS API calls by action, region and result code (OK, an ECS error code, Timeout or NetworkError)',
    labelNames: ['action', 'region', 'code'] as const,
    registers: [this.registry],
  });
  readonly ecsDuration = new Histogram({
    name: 'ecs_api_request_duration_seconds',
    help: 'Latency of ECS API calls',
    labelNames: ['action', 'region'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Not in controller-runtime: status writes are this controller's main load on the API server. */
  readonly statusWrites = new Counter({
    name: 'ecspower_status_writes_total',
    help: 'Status subresource patches by result (ok, conflict, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly eventsDropped = new Counter({
    name: 'ecspower_events_dropped_total',
    help: 'Events not written because the event budget (--event-qps) was used up',
    registers: [this.registry],
  });

  /** SCHEDULES.md: from a transition instant (schedule or override) to the instance observed in the new state. */
  readonly scheduleTransition = new Histogram({
    name: 'ecspower_schedule_transition_seconds',
    help: 'Seconds from a transition instant (schedule or override) to the instance observed in the new state, per resource',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  /** SCHEDULES.md: seconds managed instances were observed Stopped while meant to be; the leader only. */
  private readonly savingsHooks: Array<() => void> = [];

  readonly stoppedSeconds: Counter<'namespace' | 'stopped_mode'> = ((hooks: Array<() => void>) =>
    new Counter({
      name: 'ecspower_stopped_seconds_total',
      help: 'Seconds during which managed instances were observed Stopped while their effective desired state was Stopped',
      labelNames: ['namespace', 'stopped_mode'] as const,
      registers: [this.registry],
      // Brings both savings counters up to the scrape instant (they are registered in this order).
      collect() {
        for (const hook of hooks) hook();
      },
    }))(this.savingsHooks);

  readonly stoppedVcpuSeconds = new Counter({
    name: 'ecspower_stopped_vcpu_seconds_total',
    help: 'ecspower_stopped_seconds_total times the instances\' vCPUs (DescribeInstances Cpu)',
    labelNames: ['namespace', 'stopped_mode'] as const,
    registers: [this.registry],
  });

  private resourceSource: () => Iterable<ResourceSummary> = () => [];
  /** Label sets of ecspower_resources published even when no resource has them (see countResources). */
  private readonly resourceLabelSets = new Map<string, ResourceLabels>(
    ['Running', 'Stopped'].map((state) => [labelKey(state, 'True', state), { desired_state: state, ready: 'True', reason: state }]),
  );

  readonly resources: Gauge<keyof ResourceLabels> = ((metrics: Metrics) =>
    new Gauge({
      name: 'ecspower_resources',
      help: 'EcsInstancePower resources by desired state, Ready status and Ready reason',
      labelNames: ['desired_state', 'ready', 'reason'] as const,
      registers: [this.registry],
      // Counted from the informer cache at scrape time, so it can never drift from the objects.
      collect() {
        metrics.countResources(this);
      },
    }))(this);

  private overridesActiveSource: () => number = () => 0;

  readonly overridesActive: Gauge = ((metrics: Metrics) =>
    new Gauge({
      name: 'ecspower_overrides_active',
      help: 'EcsPowerOverrides in force: valid and before their until',
      registers: [this.registry],
      // Counted from the informer cache at scrape time, like ecspower_resources.
      collect() {
        this.set(metrics.overridesActiveSource());
      },
    }))(this);

  /** Where ecspower_overrides_active counts from. */
  countOverridesActiveFrom(source: () => number): void {
    this.overridesActiveSource = source;
  }

  /** Where ecspower_resources counts from. */
  countResourcesFrom(source: () => Iterable<ResourceSummary>): void {
    this.resourceSource = source;
  }

  /**
   * Publishes at zero every series of a controller and of its workqueue (controller-runtime names
   * the queue after the controller) whose labels are known before any work, as controller-runtime
   * does for its reconcile counters: rate(), absent() and dashboards then read 0, not "No data".
   * Called at start-up on every replica, leader or not.
   */
  initialiseController(controller: string, workers: number): void {
    this.maxConcurrentReconciles.set({ controller }, workers);
    this.activeWorkers.set({ controller }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    for (const result of RECONCILE_RESULTS) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileTime.zero({ controller });
    const name = controller;
    this.workqueueDepth.set({ name }, 0);
    this.workqueueAdds.inc({ name }, 0);
    this.workqueueRetries.inc({ name }, 0);
    this.workqueueQueueDuration.zero({ name });
    this.workqueueWorkDuration.zero({ name });
  }

  /**
   * Publishes at zero the ECS series of a region (code OK for every action). Regions are known only
   * once a resource names them, so this runs when the first client for the region is made.
   */
  initialiseEcsRegion(region: string, actions: readonly string[]): void {
    for (const action of actions) {
      this.ecsRequests.inc({ action, region, code: 'OK' }, 0);
      this.ecsDuration.zero({ action, region });
    }
  }

  /**
   * The Ready label sets are always published, and a label set once seen stays at 0 when its last
   * resource leaves it: graphs drop to 0 instead of ending, and panels read 0 with no resources.
   */
  private countResources(gauge: Gauge<keyof ResourceLabels>): void {
    gauge.reset();
    for (const labels of this.resourceLabelSets.values()) gauge.set(labels, 0);
    for (const r of this.resourceSource()) {
      const key = labelKey(r.desiredState, r.ready, r.reason);
      let labels = this.resourceLabelSets.get(key);
      if (!labels) this.resourceLabelSets.set(key, (labels = { desired_state: r.desiredState, ready: r.ready, reason: r.reason }));
      gauge.inc(labels);
    }
  }

  /** Runs before the savings counters are scraped, to count open stretches up to now. */
  beforeSavingsCollect(hook: () => void): void {
    this.savingsHooks.push(hook);
  }

  /** Publishes the savings counters of a namespace at zero for every stopped mode, once it is first seen. */
  initialiseNamespace(namespace: string): void {
    for (const stopped_mode of STOPPED_MODES_REPORTED) {
      this.stoppedSeconds.inc({ namespace, stopped_mode }, 0);
      this.stoppedVcpuSeconds.inc({ namespace, stopped_mode }, 0);
    }
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.scheduleTransition.zero({});
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    for (const result of STATUS_WRITE_RESULTS) this.statusWrites.inc({ result }, 0);
  }
}
