// The workqueue, driven by a FakeClock: dedup, one worker per key, delayed adds, per-key backoff.
import assert from 'node:assert/strict';
import { GatedQueue, Workqueue } from '../../src/runtime/workqueue.ts';
import type { QueueMetricsSink, WorkqueueOptions } from '../../src/runtime/workqueue.ts';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.ts';

class RecordingSink implements QueueMetricsSink {
  depths: number[] = [];
  adds = 0;
  retries = 0;
  queued: number[] = [];
  worked: number[] = [];
  depth(n: number): void {
    this.depths.push(n);
  }
  added(): void {
    this.adds++;
  }
  retried(): void {
    this.retries++;
  }
  queuedFor(seconds: number): void {
    this.queued.push(seconds);
  }
  workedFor(seconds: number): void {
    this.worked.push(seconds);
  }
}

function setup(over: Partial<WorkqueueOptions> = {}) {
  const clock = new FakeClock();
  const metrics = new RecordingSink();
  const q = new Workqueue({ clock, metrics, backoff: { baseMs: 1000, maxMs: 60_000 }, slowBackoff: { baseMs: 30_000, maxMs: 600_000 }, random: () => 0.5, ...over });
  return { clock, metrics, q };
}

/** Takes every key available right now (without waiting). */
async function drain(q: Workqueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) {
    const k = await q.get();
    if (k !== undefined) out.push(k);
  }
  return out;
}

/** Calls get(); `now` is the key if it was handed out at once, 'waiting' otherwise. */
async function getNow(q: Workqueue): Promise<{ now: string | undefined | 'waiting'; later: Promise<string | undefined> }> {
  let now: string | undefined | 'waiting' = 'waiting';
  const later = q.get();
  void later.then((k) => {
    now = k;
  });
  await flushMicrotasks();
  return { now, later };
}

describe('Workqueue', function () {
  this.timeout(5000);
  describe('add', () => {
    it('a key added several times before it is taken is queued once', async () => {
      const { q } = setup();
      q.add('ns/a');
      q.add('ns/b');
      q.add('ns/a');
      q.add('ns/a');
      assert.equal(q.length, 2);
      assert.deepEqual(await drain(q), ['ns/a', 'ns/b']);
    });

    it('keys come out first in, first out', async () => {
      const { q } = setup();
      for (const k of ['c', 'a', 'b']) q.add(k);
      assert.deepEqual(await drain(q), ['c', 'a', 'b']);
    });

    it('a waiting get() receives a key added later', async () => {
      const { q } = setup();
      const p = q.get();
      q.add('ns/a');
      assert.equal(await p, 'ns/a');
    });
  });

  describe('one worker per key', () => {
    it('a key being processed is not handed to a second worker; added meanwhile, it comes back after done()', async () => {
      const { q } = setup();
      q.add('k');
      assert.equal(await q.get(), 'k');
      q.add('k');
      assert.equal(q.length, 0, 'not queued while processing');
      const second = await getNow(q);
      assert.equal(second.now, 'waiting', 'a second worker gets nothing');
      q.done('k');
      assert.equal(await second.later, 'k');
    });

    it('added several times while processing: comes back once', async () => {
      const { q } = setup();
      q.add('k');
      await q.get();
      q.add('k');
      q.add('k');
      q.done('k');
      assert.deepEqual(await drain(q), ['k']);
    });

    it('not added while processing: done() does not bring it back', async () => {
      const { q } = setup();
      q.add('k');
      await q.get();
      q.done('k');
      assert.equal(q.length, 0);
      assert.equal((await getNow(q)).now, 'waiting');
    });

    it('other keys are served while one is processing', async () => {
      const { q } = setup();
      q.add('a');
      await q.get();
      q.add('a');
      q.add('b');
      assert.deepEqual(await drain(q), ['b']);
    });
  });

  describe('addAfter', () => {
    it('adds the key once the delay has passed, not before', async () => {
      const { q, clock } = setup();
      q.addAfter('k', 5000);
      clock.advance(4999);
      assert.equal(q.length, 0);
      clock.advance(1);
      assert.deepEqual(await drain(q), ['k']);
    });

    const table = [
      { name: 'later then earlier', delays: [10_000, 2000], due: 2000 },
      { name: 'earlier then later', delays: [2000, 10_000], due: 2000 },
      { name: 'three, the middle one earliest', delays: [9000, 1000, 5000], due: 1000 },
    ];
    for (const r of table) {
      it(`keeps the earliest deadline (${r.name}) and adds the key once`, async () => {
        const { q, clock } = setup();
        for (const d of r.delays) q.addAfter('k', d);
        clock.advance(r.due - 1);
        assert.equal(q.length, 0);
        clock.advance(1);
        assert.deepEqual(await drain(q), ['k']);
        q.done('k');
        clock.advance(60_000);
        assert.equal(q.length, 0, 'the later deadlines were dropped');
        assert.equal(clock.pending(), 0, 'no timer left behind');
      });
    }

    it('zero or negative delay adds at once', () => {
      const { q } = setup();
      q.addAfter('a', 0);
      q.addAfter('b', -5);
      assert.equal(q.length, 2);
    });

    it('a delayed add of a key being processed waits for done()', async () => {
      const { q, clock } = setup();
      q.add('k');
      await q.get();
      q.addAfter('k', 100);
      clock.advance(100);
      assert.equal(q.length, 0);
      q.done('k');
      assert.deepEqual(await drain(q), ['k']);
    });

    it('remove() cancels a delayed add', () => {
      const { q, clock } = setup();
      q.addAfter('k', 100);
      q.remove('k');
      clock.advance(1000);
      assert.equal(q.length, 0);
      assert.equal(clock.pending(), 0);
    });
  });

  describe('addRateLimited', () => {
    it('grows exponentially per key: base·2^n at random 1, half of it at random 0', () => {
      for (const [random, factor] of [[0, 0.5], [1, 1]] as const) {
        const { q } = setup({ random: () => random });
        const delays = Array.from({ length: 5 }, () => q.addRateLimited('k'));
        assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000].map((d) => d * factor), `random ${random}`);
      }
    });

    it('jitter keeps every delay within [d/2, d]', () => {
      let r = 0;
      const randoms = [0.0, 0.13, 0.5, 0.77, 0.999];
      const { q } = setup({ random: () => randoms[r++ % randoms.length]! });
      for (let n = 0; n < 12; n++) {
        const full = Math.min(60_000, 1000 * 2 ** n);
        const d = q.addRateLimited('k');
        assert.ok(d >= full / 2 && d <= full, `attempt ${n}: ${d} outside [${full / 2}, ${full}]`);
      }
    });

    it('caps at maxMs', () => {
      const { q } = setup({ random: () => 1 });
      let last = 0;
      for (let n = 0; n < 40; n++) last = q.addRateLimited('k');
      assert.equal(last, 60_000);
    });

    it('slow backoff uses its own base and cap', () => {
      const { q } = setup({ random: () => 1 });
      assert.equal(q.addRateLimited('k', 'slow'), 30_000);
      assert.equal(q.addRateLimited('k', 'slow'), 60_000);
      for (let n = 0; n < 10; n++) q.addRateLimited('k', 'slow');
      assert.equal(q.addRateLimited('k', 'slow'), 600_000);
    });

    it('capacity backoff (a zone out of stock) grows from 5 s to at most one minute', () => {
      const { q } = setup({ random: () => 1 });
      const delays = Array.from({ length: 8 }, () => q.addRateLimited('k', 'capacity'));
      assert.deepEqual(delays, [5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
      const { q: low } = setup({ random: () => 0 });
      for (let n = 0; n < 20; n++) assert.ok(low.addRateLimited('k', 'capacity') <= 60_000);
    });

    it('honours a minimum delay (retry-after)', () => {
      const { q } = setup({ random: () => 0 });
      assert.equal(q.addRateLimited('k', 'normal', 7000), 7000);
      assert.equal(q.addRateLimited('k', 'normal', 10), 1000, 'the backoff wins when longer');
    });

    it('the key comes back after the returned delay', async () => {
      const { q, clock } = setup({ random: () => 0.3 });
      const d = q.addRateLimited('k');
      clock.advance(d - 1);
      assert.equal(q.length, 0);
      clock.advance(1);
      assert.deepEqual(await drain(q), ['k']);
    });

    it('backoff is per key', () => {
      const { q } = setup({ random: () => 1 });
      q.addRateLimited('a');
      q.addRateLimited('a');
      q.addRateLimited('a');
      assert.equal(q.addRateLimited('b'), 1000);
      assert.equal(q.numRequeues('a'), 3);
    });

    it('forget() resets the backoff', () => {
      const { q } = setup({ random: () => 1 });
      for (let n = 0; n < 6; n++) q.addRateLimited('k');
      q.forget('k');
      assert.equal(q.numRequeues('k'), 0);
      assert.equal(q.addRateLimited('k'), 1000);
    });
  });

  describe('shutDown', () => {
    it('resolves every waiting get() with undefined', async () => {
      const { q } = setup();
      const waiting = [q.get(), q.get(), q.get()];
      q.shutDown();
      assert.deepEqual(await Promise.all(waiting), [undefined, undefined, undefined]);
      assert.equal(await q.get(), undefined);
      assert.equal(q.isShuttingDown(), true);
    });

    it('drops new and delayed adds', async () => {
      const { q, clock } = setup();
      q.addAfter('later', 1000);
      q.shutDown();
      q.add('new');
      q.addAfter('newer', 10);
      q.addRateLimited('failed');
      clock.advance(120_000);
      assert.equal(q.length, 0);
      assert.equal(await q.get(), undefined);
      assert.equal(clock.pending(), 0);
    });

    it('a key added during processing is not re-queued after shutdown', async () => {
      const { q } = setup();
      q.add('k');
      await q.get();
      q.add('k');
      q.shutDown();
      q.done('k');
      assert.equal(await q.get(), undefined);
    });
  });

  describe('metrics', () => {
    it('adds, depth, retries, queue and work durations', async () => {
      const { q, clock, metrics } = setup();
      q.add('a');
      q.add('a'); // deduplicated: not an add
      q.add('b');
      assert.equal(metrics.adds, 2);
      assert.equal(metrics.depths.at(-1), 2);

      clock.advance(1500);
      assert.equal(await q.get(), 'a');
      assert.equal(metrics.depths.at(-1), 1);
      assert.deepEqual(metrics.queued, [1.5]);

      clock.advance(250);
      q.done('a');
      assert.deepEqual(metrics.worked, [0.25]);

      q.addRateLimited('a');
      assert.equal(metrics.retries, 1);
    });
  });
});

describe('GatedQueue (a standby queues nothing)', () => {
  it('drops adds before start, replays the cache at start, passes adds through after', () => {
    const added: string[] = [];
    const removed: string[] = [];
    const later: string[] = [];
    const cache = ['ns/a', 'ns/b'];
    const gate = new GatedQueue({ add: (k) => added.push(k), remove: (k) => removed.push(k), addAfter: (k, ms) => later.push(`${k}@${ms}`) }, () => cache);
    gate.add('ns/a');
    gate.remove('ns/gone');
    gate.addAfter('ns/a', 5);
    assert.deepEqual([added, removed, later], [[], [], []]);
    gate.start();
    assert.deepEqual(added, ['ns/a', 'ns/b']);
    gate.add('ns/c');
    gate.remove('ns/b');
    gate.addAfter('ns/d', 2000);
    assert.deepEqual([added, removed, later], [['ns/a', 'ns/b', 'ns/c'], ['ns/b'], ['ns/d@2000']]);
  });
});
