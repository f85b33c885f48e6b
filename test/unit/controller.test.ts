// Controller workers: at most --max-concurrent-reconciles computing at once, while reconciles
// waiting for a batched cloud call give their slot back, so a batch fills whatever the worker count.
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import type { ReconcileContext, ReconcileResult } from '../../src/runtime/result.ts';
import { WorkerSlots } from '../../src/runtime/worker-slots.ts';
import { Workqueue } from '../../src/runtime/workqueue.ts';
import { flushMicrotasks } from '../support/fake-clock.ts';

/** A batch that answers everyone at once when released. */
class FakeBatch {
  readonly members: string[] = [];
  private release!: () => void;
  private readonly answered = new Promise<void>((resolve) => (this.release = resolve));

  join(key: string): Promise<void> {
    this.members.push(key);
    return this.answered;
  }

  answer(): void {
    this.release();
  }
}

function controllerWith(workers: number, reconcile: (key: string, context: ReconcileContext) => Promise<ReconcileResult>) {
  const queue = new Workqueue();
  const metrics = new Metrics({ defaultMetrics: false });
  const controller = new Controller({ name: 'test', queue, reconcile, workers, metrics, log: silentLogger });
  return { queue, controller, metrics };
}

describe('Controller workers', () => {
  for (const workers of [1, 2, 10]) {
    it(`${workers} worker(s): all 100 reconciles join one batch, and never more than ${workers} compute at once`, async () => {
      const batch = new FakeBatch();
      let computing = 0;
      let most = 0;
      const finished: string[] = [];
      const compute = async (): Promise<void> => {
        computing++;
        most = Math.max(most, computing);
        await flushMicrotasks(1);
        computing--;
      };
      const { queue, controller } = controllerWith(workers, async (key, context) => {
        await compute();
        await context.park(batch.join(key));
        await compute();
        finished.push(key);
        return { kind: 'done' };
      });
      for (let i = 0; i < 100; i++) queue.add(`ns/r${i}`);
      controller.start();
      await flushMicrotasks(2_000);
      assert.equal(batch.members.length, 100, `only ${batch.members.length} joined the batch before it was answered`);
      batch.answer();
      await flushMicrotasks(2_000);
      assert.equal(finished.length, 100);
      assert.ok(most <= workers, `${most} computed at once`);
      assert.equal(await controller.stop(1_000), true);
    });
  }

  it('a key is never reconciled twice at once, even while parked', async () => {
    const batch = new FakeBatch();
    let inFlight = 0;
    let overlap = false;
    const { queue, controller } = controllerWith(4, async (key, context) => {
      inFlight++;
      if (inFlight > 1) overlap = true;
      await context.park(batch.join(key));
      inFlight--;
      return { kind: 'done' };
    });
    queue.add('ns/a');
    controller.start();
    await flushMicrotasks(50);
    queue.add('ns/a');
    await flushMicrotasks(50);
    assert.deepEqual(batch.members, ['ns/a']);
    batch.answer();
    await flushMicrotasks(200);
    assert.equal(overlap, false);
    assert.deepEqual(batch.members, ['ns/a', 'ns/a'], 'the add during processing is served afterwards');
    await controller.stop(1_000);
  });

  it('controller_runtime_active_workers counts computing reconciles, not parked ones or the idle dispatcher', async () => {
    const batch = new FakeBatch();
    const { queue, controller, metrics } = controllerWith(3, async (key, context) => {
      await context.park(batch.join(key));
      return { kind: 'done' };
    });
    const active = async (): Promise<number> => (await metrics.activeWorkers.get()).values[0]?.value ?? -1;
    controller.start();
    await flushMicrotasks(20);
    assert.equal(await active(), 0, 'idle');
    for (let i = 0; i < 5; i++) queue.add(`ns/r${i}`);
    await flushMicrotasks(200);
    assert.equal(await active(), 0, 'all parked');
    batch.answer();
    await flushMicrotasks(200);
    assert.equal(await active(), 0, 'all done');
    await controller.stop(1_000);
  });
});

describe('WorkerSlots', () => {
  it('is a FIFO semaphore: waiters are served in order as slots free up', async () => {
    const slots = new WorkerSlots(1);
    const order: number[] = [];
    await slots.acquire();
    const waiters = [1, 2, 3].map((n) => slots.acquire().then(() => order.push(n)));
    assert.equal(slots.busy, 1);
    slots.release();
    await flushMicrotasks(5);
    slots.release();
    await flushMicrotasks(5);
    slots.release();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('park gives the slot back while waiting and takes one again before returning', async () => {
    const slots = new WorkerSlots(1);
    await slots.acquire();
    let answer!: (v: string) => void;
    const parked = slots.park(new Promise<string>((resolve) => (answer = resolve)));
    assert.equal(slots.busy, 0, 'the slot is free while parked');
    await slots.acquire();
    const back = parked.then((v) => v);
    answer('done');
    await flushMicrotasks(5);
    assert.equal(slots.busy, 1, 'the parked one waits for the slot');
    slots.release();
    assert.equal(await back, 'done');
    assert.equal(slots.busy, 1);
  });
});
