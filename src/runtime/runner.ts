import type { Logger } from '../log.ts';
import type { Clock } from '../util/clock.ts';
import { Controller } from './controller.ts';
import type { Metrics } from './metrics.ts';
import type { ReconcileContext, ReconcileResult } from './result.ts';
import { GatedQueue, Workqueue, type DelayingKeyQueue } from './workqueue.ts';

export interface ControllerRunnerOptions {
  /** The controller label of the controller_runtime_* and workqueue_* series. */
  name: string;
  workers: number;
  reconcile: (key: string, context: ReconcileContext) => Promise<ReconcileResult>;
  /** Every key of the cache, replayed into the queue when the controller starts. */
  keys: () => Iterable<string>;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}

/**
 * One controller of the manager: its workqueue (with the workqueue_* metrics), its workers, and
 * the gate that lets keys in only once it runs. Watches enqueue through `queue`.
 */
export class ControllerRunner {
  readonly queue: DelayingKeyQueue;
  private readonly workqueue: Workqueue;
  private readonly gate: GatedQueue;
  private readonly controller: Controller;
  private started = false;

  constructor(readonly options: ControllerRunnerOptions) {
    const { name, metrics } = options;
    this.workqueue = new Workqueue({
      clock: options.clock,
      metrics: {
        depth: (n) => metrics.workqueueDepth.set({ name }, n),
        added: () => metrics.workqueueAdds.inc({ name }),
        retried: () => metrics.workqueueRetries.inc({ name }),
        queuedFor: (s) => metrics.workqueueQueueDuration.observe({ name }, s),
        workedFor: (s) => metrics.workqueueWorkDuration.observe({ name }, s),
      },
    });
    this.gate = new GatedQueue(this.workqueue, options.keys);
    this.queue = this.gate;
    this.controller = new Controller({
      name,
      queue: this.workqueue,
      reconcile: options.reconcile,
      workers: options.workers,
      metrics,
      log: options.log,
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.controller.start();
    this.gate.start();
    this.options.log.info('controller started', { controller: this.options.name, workers: this.options.workers });
  }

  /** Stops taking work and waits up to `timeoutMs` for reconciles in flight; true if all finished. */
  stop(timeoutMs: number): Promise<boolean> {
    return this.controller.stop(timeoutMs);
  }

  /** Leadership lost: no new work from now on (the fence refuses the writes of what is in flight). */
  halt(): void {
    this.workqueue.shutDown();
  }
}
