import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';
import type { ReconcileResult } from './result.ts';
import type { Workqueue } from './workqueue.ts';

export interface ControllerOptions {
  name: string;
  queue: Workqueue;
  reconcile: (key: string) => Promise<ReconcileResult>;
  workers: number;
  metrics: Metrics;
  log: Logger;
}

/**
 * Workers pull keys from the queue and reconcile them, at most one reconcile per key at a time.
 * An exception from reconcile counts as an error result (retried with backoff), never a crash.
 */
export class Controller {
  private readonly running = new Set<Promise<void>>();
  private active = 0;

  constructor(private readonly options: ControllerOptions) {
    // From start-up on every replica, so that a standby too shows it is there.
    options.metrics.initialiseController(options.name, options.workers);
  }

  start(): void {
    for (let i = 0; i < this.options.workers; i++) {
      const p = this.worker();
      this.running.add(p);
      void p.finally(() => this.running.delete(p));
    }
  }

  /** Stops taking work and waits up to `timeoutMs` for reconciles in flight. True if all finished. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.options.queue.shutDown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = Promise.all([...this.running]).then(() => true as const);
    const result = await Promise.race([finished, timeout]);
    clearTimeout(timer);
    return result;
  }

  private async worker(): Promise<void> {
    const { queue, metrics, name } = this.options;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      this.active++;
      metrics.activeWorkers.set({ controller: name }, this.active);
      const end = metrics.reconcileTime.startTimer({ controller: name });
      let result: ReconcileResult;
      try {
        result = await this.options.reconcile(key);
      } catch (err) {
        result = { kind: 'error', error: err instanceof Error ? err : new Error(String(err)), backoff: 'normal' };
      }
      end();
      this.handle(key, result);
      queue.done(key);
      this.active--;
      metrics.activeWorkers.set({ controller: name }, this.active);
    }
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
