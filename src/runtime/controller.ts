import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';
import type { ReconcileContext, ReconcileResult } from './result.ts';
import { WorkerSlots } from './worker-slots.ts';
import type { Workqueue } from './workqueue.ts';

export interface ControllerOptions {
  name: string;
  queue: Workqueue;
  reconcile: (key: string, context: ReconcileContext) => Promise<ReconcileResult>;
  workers: number;
  metrics: Metrics;
  log: Logger;
}

/**
 * Takes keys from the queue and reconciles them, at most one reconcile per key at a time and at
 * most `workers` computing at once. A reconcile waiting for a batched ECS call parks: it gives
 * its worker slot back until the answer comes (see WorkerSlots), so batches do not depend on the
 * worker count. An exception from reconcile counts as an error result (retried with backoff),
 * never a crash.
 */
export class Controller {
  private readonly running = new Set<Promise<void>>();
  private readonly slots: WorkerSlots;
  private dispatcher: Promise<void> | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.slots = new WorkerSlots(options.workers);
    // From start-up on every replica, so that a standby too shows it is there.
    options.metrics.initialiseController(options.name, options.workers);
  }

  start(): void {
    this.dispatcher ??= this.dispatch();
  }

  /** Stops taking work and waits up to `timeoutMs` for reconciles in flight. True if all finished. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.options.queue.shutDown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = (async () => {
      await this.dispatcher;
      while (this.running.size > 0) await Promise.all([...this.running]);
      return true as const;
    })();
    const result = await Promise.race([finished, timeout]);
    clearTimeout(timer);
    return result;
  }

  /**
   * Hands each key to a reconcile once a worker slot is free. The key is taken first: waiting for
   * a key while holding a slot would starve parked reconciles that want theirs back.
   */
  private async dispatch(): Promise<void> {
    const { queue } = this.options;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      await this.slots.acquire();
      const run = this.run(key);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
  }

  /** One reconcile of `key`, holding a slot (taken by dispatch) except while parked. */
  private async run(key: string): Promise<void> {
    const { queue, metrics, name } = this.options;
    const showActive = (): void => void metrics.activeWorkers.set({ controller: name }, this.slots.busy);
    showActive();
    const context: ReconcileContext = {
      park: async (work) => {
        const parked = this.slots.park(work);
        showActive();
        try {
          return await parked;
        } finally {
          showActive();
        }
      },
    };
    const end = metrics.reconcileTime.startTimer({ controller: name });
    let result: ReconcileResult;
    try {
      result = await this.options.reconcile(key, context);
    } catch (err) {
      result = { kind: 'error', error: err instanceof Error ? err : new Error(String(err)), backoff: 'normal' };
    }
    end();
    this.handle(key, result);
    queue.done(key);
    this.slots.release();
    showActive();
  }

  private handle(key: string, result: ReconcileResult): void {
    const { queue, metrics, name, log } = this.options;
    switch (result.kind) {
      case 'done':
        queue.forget(key);
        metrics.reconcileTotal.inc({ controller: name, result: 'success' });
        return;
      case 'requeueAfter':
        queue.forget(key);
        queue.addAfter(key, result.ms);
        metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
        return;
      case 'error': {
        const delay = queue.addRateLimited(key, result.backoff, result.minDelayMs ?? 0);
        metrics.reconcileTotal.inc({ controller: name, result: 'error' });
        metrics.reconcileErrors.inc({ controller: name });
        log.info('reconcile failed, will retry', { key, error: result.error.message, retryInMs: delay });
        return;
      }
    }
  }
}
