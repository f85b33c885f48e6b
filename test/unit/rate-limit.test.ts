// RegionRateLimiter on a FakeClock (its `now` and `sleep`), and resilient(): which failed ECS
// calls are retried in-call and how throttling slows the region.
import assert from 'node:assert/strict';
import type { EcsAction } from '../../src/ecs/gateway.ts';
import { EcsCallError } from '../../src/ecs/errors.ts';
import { RegionRateLimiter } from '../../src/ecs/rate-limit.ts';
import type { RateLimiterOptions } from '../../src/ecs/rate-limit.ts';
import { noFence } from '../../src/runtime/fence.ts';
import { resilient } from '../../src/ecs/resilient.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { FakeEcsApi, ecsError } from '../support/fake-ecs.ts';

const STOP = { forceStop: false, confirmStop: false, hibernate: false, dryRun: false };

function limiterOn(clock: FakeClock, o: Omit<RateLimiterOptions, 'now' | 'sleep'>): RegionRateLimiter {
  return new RegionRateLimiter({ ...o, now: () => clock.now(), sleep: clock.sleep });
}

/** Starts `n` acquires of `action`; records, per acquire, the fake time it was granted at. */
function acquireMany(limiter: RegionRateLimiter, clock: FakeClock, action: EcsAction, n: number, label = action): { grants: Array<{ label: string; k: number; at: number }>; all: Promise<void[]> } {
  const grants: Array<{ label: string; k: number; at: number }> = [];
  const all = Promise.all(
    Array.from({ length: n }, (_, k) =>
      limiter.acquire(action).then(() => {
        grants.push({ label, k, at: clock.now() });
      }),
    ),
  );
  return { grants, all };
}

const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

describe('RegionRateLimiter', function () {
  this.timeout(5000);
  it('serves the burst at once, then no more than qps per second', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 5, burst: 2 });
    const t0 = clock.now();
    const { grants } = acquireMany(limiter, clock, 'DescribeInstances', 40);
    await clock.advanceAsync(0);
    assert.equal(grants.length, 2, 'the burst');
    for (let s = 1; s <= 6; s++) {
      await clock.advanceAsync(1000);
      assert.ok(grants.length <= 2 + 5 * s, `after ${s}s: ${grants.length} > ${2 + 5 * s}`);
      assert.ok(grants.length >= 2 + 5 * s - 1, `after ${s}s: ${grants.length} < ${2 + 5 * s - 1} (too slow)`);
    }
    // In any 1 s window of the simulated run, at most qps + burst calls.
    const times = grants.map((g) => g.at - t0);
    for (const start of times) assert.ok(times.filter((t) => t >= start && t < start + 1000).length <= 5 + 2);
  });

  it('grants in first-come, first-served order', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 1 });
    const { grants, all } = acquireMany(limiter, clock, 'StopInstance', 12);
    await clock.advanceAsync(5000);
    await all;
    assert.deepEqual(grants.map((g) => g.k), Array.from({ length: 12 }, (_, k) => k));
    for (let k = 1; k < grants.length; k++) assert.ok(grants[k]!.at >= grants[k - 1]!.at);
  });

  it('first-come, first-served holds across a throttling pause', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 1 });
    await limiter.acquire('StopInstance');
    const order: string[] = [];
    const first = limiter.acquire('StopInstance').then(() => order.push('first'));
    await clock.advanceAsync(50);
    limiter.onThrottled(2000);
    const second = limiter.acquire('StopInstance').then(() => order.push('second'));
    await clock.advanceAsync(5000);
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first', 'second']);
  });

  it('after a short throttling pause the saved-up burst is not released at once', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 5, recoveryPerSecond: 0.0001 });
    await limiter.acquire('DescribeInstances'); // the bucket exists, 4 tokens left
    const t0 = clock.now();
    limiter.onThrottled(100);
    const g = acquireMany(limiter, clock, 'DescribeInstances', 5);
    await clock.advanceAsync(350);
    const early = g.grants.filter((x) => x.at - t0 <= 350).length;
    assert.ok(early <= 2, `${early} calls within 350 ms of a throttled answer; at 5 qps after a 100 ms pause at most 2`);
  });

  // Regression (was a bug): onThrottled() empties the buckets but leaves their `updatedAt`, so while the region is
  // paused for the retry-after the buckets refill as if nothing happened; when the pause ends a
  // whole burst (up to --ecs-burst, default 10 per action) goes out at once to a region ECS has
  // just throttled, instead of calls at the halved rate. (Short pauses are fine, see above.)
  it('after a long throttling pause, calls resume at the halved rate, not as a burst', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 5, recoveryPerSecond: 0.0001 });
    await limiter.acquire('DescribeInstances');
    const t0 = clock.now();
    limiter.onThrottled(2000);
    const g = acquireMany(limiter, clock, 'DescribeInstances', 5);
    await clock.advanceAsync(5000);
    await g.all;
    const atPauseEnd = g.grants.filter((x) => x.at - t0 <= 2000 + 150).length;
    assert.ok(atPauseEnd <= 1, `${atPauseEnd} calls within 150 ms of the end of the pause (at 5 qps: 1)`);
  });

  it('each action has its own bucket', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 1, burst: 1 });
    const a = acquireMany(limiter, clock, 'DescribeInstances', 2);
    const b = acquireMany(limiter, clock, 'StopInstances', 1);
    await clock.advanceAsync(0);
    assert.equal(a.grants.length, 1);
    assert.equal(b.grants.length, 1, 'StopInstances does not wait behind DescribeInstances');
  });

  it('throttling pauses every action of the region for the retry-after, then runs at half rate', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 1, recoveryPerSecond: 0.0001 });
    // Both buckets exist and are drained.
    const warm = [acquireMany(limiter, clock, 'DescribeInstances', 1), acquireMany(limiter, clock, 'StopInstance', 1)];
    await clock.advanceAsync(0);
    assert.ok(warm.every((w) => w.grants.length === 1));

    const t0 = clock.now();
    limiter.onThrottled(2000);
    near(limiter.currentFactor(), 0.5, 'factor after one throttle');
    const d = acquireMany(limiter, clock, 'DescribeInstances', 6);
    const s = acquireMany(limiter, clock, 'StopInstance', 6);
    const fresh = acquireMany(limiter, clock, 'StartInstances', 1);
    await clock.advanceAsync(1999);
    assert.equal(d.grants.length + s.grants.length + fresh.grants.length, 0, 'nothing goes out during the pause, not even a new action');
    await clock.advanceAsync(5000);
    await Promise.all([d.all, s.all, fresh.all]);
    for (const [name, g] of [['DescribeInstances', d.grants], ['StopInstance', s.grants]] as const) {
      assert.ok(g[0]!.at - t0 >= 2000, `${name} waited for the retry-after`);
      for (let k = 1; k < g.length; k++) {
        const gap = g[k]!.at - g[k - 1]!.at;
        assert.ok(gap >= 190, `${name}: ${gap} ms between calls; at half of 10 qps it must be about 200 ms`);
      }
    }
    assert.ok(fresh.grants[0]!.at - t0 >= 2000);
  });

  it('without a retry-after, throttling pauses for one call at the reduced rate', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 5 });
    const t0 = clock.now();
    limiter.onThrottled();
    const g = acquireMany(limiter, clock, 'DescribeInstances', 1);
    await clock.advanceAsync(150);
    assert.equal(g.grants.length, 0, 'burst tokens are dropped on throttling');
    await clock.advanceAsync(1000);
    assert.equal(g.grants.length, 1);
    assert.ok(g.grants[0]!.at - t0 >= 200 && g.grants[0]!.at - t0 <= 250, `${g.grants[0]!.at - t0}`);
  });

  it('repeated throttling halves the rate each time, down to the floor', () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 1, minFactor: 0.05 });
    const seen: number[] = [];
    for (let k = 0; k < 8; k++) {
      limiter.onThrottled(1);
      seen.push(limiter.currentFactor());
    }
    [0.5, 0.25, 0.125, 0.0625, 0.05, 0.05, 0.05, 0.05].forEach((f, k) => near(seen[k]!, f, `after ${k + 1} throttles`));
  });

  it('recovers gradually to the full rate, never beyond', () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 1, recoveryPerSecond: 0.05 });
    limiter.onThrottled(1000);
    const at: Array<[number, number]> = [];
    for (const s of [0, 2, 5, 8, 10, 30]) {
      clock.advance(s * 1000 - (at.length ? at[at.length - 1]![0] * 1000 : 0));
      at.push([s, limiter.currentFactor()]);
    }
    const want = [0.5, 0.6, 0.75, 0.9, 1, 1];
    at.forEach(([s, f], k) => near(f, want[k]!, `factor after ${s}s`));
  });

  it('after recovering, calls go out at the full rate again', async () => {
    const clock = new FakeClock();
    const limiter = limiterOn(clock, { qps: 10, burst: 1, recoveryPerSecond: 0.5 });
    limiter.onThrottled(100);
    await clock.advanceAsync(5000);
    assert.equal(limiter.currentFactor(), 1);
    const g = acquireMany(limiter, clock, 'DescribeInstances', 11);
    await clock.advanceAsync(1000);
    assert.equal(g.grants.length, 11, 'burst 1 + 10 per second');
  });
});

describe('resilient()', function () {
  this.timeout(5000);
  function setup(retries = 3) {
    const clock = new FakeClock();
    // A sleep that moves fake time forward at once: waits cost no real time, yet are measurable.
    const limiter = new RegionRateLimiter({
      qps: 1000,
      burst: 1000,
      now: () => clock.now(),
      sleep: async (ms) => clock.advance(ms),
    });
    const fake = new FakeEcsApi('cn-hangzhou').addInstance('i-1', 'Running').addInstance('i-2', 'Stopped');
    const api = resilient(fake, limiter, { retries, minTimeoutMs: 1, maxTimeoutMs: 2 }, noFence);
    return { clock, limiter, fake, api };
  }

  type Call = 'DescribeInstances' | 'StopInstance' | 'StopInstances' | 'StartInstance' | 'StartInstances';
  const invoke = (api: ReturnType<typeof setup>['api'], call: Call): Promise<unknown> => {
    switch (call) {
      case 'DescribeInstances':
        return api.describeInstances(['i-1']);
      case 'StopInstance':
        return api.stopInstance('i-1', STOP);
      case 'StopInstances':
        return api.stopInstances(['i-1'], STOP);
      case 'StartInstance':
        return api.startInstance('i-2', { dryRun: false });
      case 'StartInstances':
        return api.startInstances(['i-2'], { dryRun: false });
    }
  };

  const table: Array<{ call: Call; code: string; retried: boolean }> = [
    { call: 'DescribeInstances', code: 'InternalError', retried: true },
    { call: 'StopInstance', code: 'InternalError', retried: true },
    { call: 'StartInstances', code: 'ServiceUnavailable', retried: true },
    { call: 'StopInstances', code: 'Throttling.User', retried: true },
    { call: 'DescribeInstances', code: 'Throttling.Api', retried: true },
    { call: 'StopInstance', code: 'OperationConflict', retried: true },
    { call: 'DescribeInstances', code: 'Timeout', retried: true },
    { call: 'DescribeInstances', code: 'NetworkError', retried: true },
    { call: 'StopInstance', code: 'Timeout', retried: false },
    { call: 'StartInstance', code: 'Timeout', retried: false },
    { call: 'StopInstances', code: 'NetworkError', retried: false },
    { call: 'StopInstance', code: 'IncorrectInstanceStatus', retried: false },
    { call: 'StartInstance', code: 'IncorrectInstanceStatus', retried: false },
    { call: 'StopInstance', code: 'InstanceLockedForSecurity', retried: false },
    { call: 'StopInstance', code: 'InstanceType.ParameterMismatch', retried: false },
    { call: 'DescribeInstances', code: 'InvalidAccessKeyId.NotFound', retried: false },
    { call: 'DescribeInstances', code: 'Forbidden.RAM', retried: false },
    { call: 'StopInstance', code: 'DryRunOperation', retried: false },
    { call: 'StopInstance', code: 'IncorrectDiskStatus', retried: false },
    { call: 'StartInstance', code: 'OperationDenied.NoStock', retried: false },
  ];
  for (const r of table) {
    it(`${r.call} failing with ${r.code}: ${r.retried ? 'retried, then succeeds' : 'not retried'}`, async () => {
      const { fake, api } = setup(3);
      fake.failNext(r.call, ecsError(r.code, 'm', { requestId: 'r-x' }));
      if (r.retried) {
        await invoke(api, r.call);
        assert.equal(fake.callsOf(r.call).length, 2);
      } else {
        await assert.rejects(invoke(api, r.call), (e: unknown) => e instanceof EcsCallError && e.code === r.code);
        assert.equal(fake.callsOf(r.call).length, 1);
      }
    });
  }

  it('a transient error that persists is tried retries + 1 times, then surfaces', async () => {
    const { fake, api } = setup(3);
    fake.failNext('DescribeInstances', ecsError('InternalError', 'm'), 10);
    await assert.rejects(api.describeInstances(['i-1']), (e: unknown) => e instanceof EcsCallError && e.code === 'InternalError');
    assert.equal(fake.callsOf('DescribeInstances').length, 4);
  });

  it('SDK-shaped errors are converted: a raw ServerError object is retried and surfaces as EcsCallError', async () => {
    const { fake, api } = setup(1);
    const raw = { name: 'ServerError', code: 'InternalError', statusCode: 500, message: 'InternalError: code: 500, boom request id: r-5', data: { RequestId: 'r-5', Message: 'boom' } };
    fake.failNext('StopInstance', raw, 5);
    await assert.rejects(api.stopInstance('i-1', STOP), (e: unknown) => e instanceof EcsCallError && e.code === 'InternalError' && e.requestId === 'r-5');
    assert.equal(fake.callsOf('StopInstance').length, 2);
  });

  it('a raw Node timeout on a write is not retried (it may have been applied)', async () => {
    const { fake, api } = setup(3);
    fake.failNext('StopInstance', Object.assign(new Error('ReadTimeout(10000). POST https://ecs.cn-hangzhou.aliyuncs.com/ failed.'), { name: 'RequestTimeoutError' }));
    await assert.rejects(api.stopInstance('i-1', STOP), (e: unknown) => e instanceof EcsCallError && e.code === 'Timeout');
    assert.equal(fake.callsOf('StopInstance').length, 1);
  });

  it('throttling slows the whole region: the next call of another action waits for the retry-after', async () => {
    const { clock, limiter, fake, api } = setup(0);
    fake.failNext('DescribeInstances', ecsError('Throttling.User', 'Request was denied due to user flow control.', { requestId: 'r-t', httpStatus: 400, retryAfterMs: 1500 }));
    const t0 = clock.now();
    await assert.rejects(api.describeInstances(['i-1']));
    assert.ok(limiter.currentFactor() < 1, 'the region rate was lowered');
    await api.stopInstance('i-1', STOP);
    assert.ok(clock.now() - t0 >= 1500, `StopInstance went out ${clock.now() - t0} ms after the throttled call`);
  });

  it('a retried throttled call waits for the retry-after before its next attempt', async () => {
    const { clock, fake, api } = setup(2);
    fake.failNext('StopInstances', ecsError('Throttling', 'm', { retryAfterMs: 3000 }));
    const t0 = clock.now();
    await api.stopInstances(['i-1'], STOP);
    assert.equal(fake.callsOf('StopInstances').length, 2);
    assert.ok(clock.now() - t0 >= 3000);
  });

  it('non-throttling errors do not slow the region', async () => {
    const { limiter, fake, api } = setup(0);
    fake.failNext('DescribeInstances', ecsError('InternalError', 'm'));
    await assert.rejects(api.describeInstances(['i-1']));
    assert.equal(limiter.currentFactor(), 1);
  });
});
