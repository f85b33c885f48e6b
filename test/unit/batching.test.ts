// BatchingGateway (and the Batcher under it) against the FakeEcsApi: which ECS calls the
// reconciler's per-instance requests become, and how each instance gets its own answer.
import assert from 'node:assert/strict';
import { BatchingGateway } from '../../src/ecs/batching-gateway.ts';
import { Batcher } from '../../src/ecs/batcher.ts';
import { EcsCallError } from '../../src/ecs/errors.ts';
import type { EcsApi, EcsTarget, StopOptions } from '../../src/ecs/gateway.ts';
import { accountKey } from '../../src/ecs/target.ts';
import { FakeEcsApi, ecsError } from '../support/fake-ecs.ts';
import { flushMicrotasks } from '../support/fake-clock.ts';

const WINDOW_MS = 3;
const HZ: EcsTarget = { regionId: 'cn-hangzhou' };
const SH: EcsTarget = { regionId: 'cn-shanghai' };
const HZ_TEAM_B: EcsTarget = { regionId: 'cn-hangzhou', accessKey: { accessKeyId: 'ak', accessKeySecret: 'sk' } };
const label = (t: EcsTarget): string => accountKey(t);

const STOP: StopOptions = { forceStop: false, confirmStop: false, hibernate: false, dryRun: false };

const ids = (n: number, prefix = 'i-a') => Array.from({ length: n }, (_, k) => `${prefix}${String(k).padStart(4, '0')}`);

/** One FakeEcsApi per region and credentials, as ecsClients() hands them out. */
function setup(options: { maxBatchSize?: number; batchWindowMs?: number } = {}) {
  const apis = new Map<string, FakeEcsApi>();
  const api = (t: EcsTarget): FakeEcsApi => {
    const key = label(t);
    let a = apis.get(key);
    if (!a) apis.set(key, (a = new FakeEcsApi(t.regionId, `req-${key}`)));
    return a;
  };
  const gw = new BatchingGateway((t): EcsApi => api(t), { maxBatchSize: options.maxBatchSize ?? 100, batchWindowMs: options.batchWindowMs ?? WINDOW_MS });
  return { gw, api };
}

async function rejection(p: Promise<unknown>): Promise<EcsCallError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EcsCallError, `expected an EcsCallError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('BatchingGateway', function () {
  this.timeout(5000);
  describe('observe', () => {
    it('150 concurrent observes in one region become 2 DescribeInstances calls (100 + 50)', async () => {
      const { gw, api } = setup();
      const fake = api(HZ);
      const all = ids(150);
      all.forEach((id, k) => fake.addInstance(id, k % 2 ? 'Running' : 'Stopped'));
      const results = await Promise.all(all.map((id) => gw.observe(HZ, id)));
      assert.deepEqual(fake.calls.map((c) => [c.action, c.ids.length]), [['DescribeInstances', 100], ['DescribeInstances', 50]]);
      assert.deepEqual(new Set(fake.calls.flatMap((c) => c.ids)), new Set(all), 'every id asked exactly once');
      results.forEach((o, k) => {
        assert.equal(o.instanceId, all[k]);
        assert.equal(o.found, true);
        assert.equal(o.status, k % 2 ? 'Running' : 'Stopped');
        assert.equal(o.requestId, fake.calls[k < 100 ? 0 : 1]!.requestId, 'the RequestId of the call that answered');
      });
    });

    it('a full batch goes out at once, without waiting for the window', async () => {
      const { gw, api } = setup({ batchWindowMs: 60_000 });
      const fake = api(HZ);
      const all = ids(100);
      for (const id of all) fake.addInstance(id);
      const results = Promise.all(all.map((id) => gw.observe(HZ, id)));
      await flushMicrotasks();
      assert.equal(fake.calls.length, 1);
      assert.equal((await results).length, 100);
    });

    it('regions and credentials never share a call', async () => {
      const { gw, api } = setup();
      for (const t of [HZ, SH, HZ_TEAM_B]) for (const id of ids(3, `i-${t.regionId.slice(3, 5)}${label(t).length}`)) api(t).addInstance(id);
      const asks = [HZ, SH, HZ_TEAM_B].flatMap((t) => ids(3, `i-${t.regionId.slice(3, 5)}${label(t).length}`).map((id) => ({ t, id })));
      const out = await Promise.all(asks.map(({ t, id }) => gw.observe(t, id)));
      for (const t of [HZ, SH, HZ_TEAM_B]) {
        const calls = api(t).calls;
        assert.equal(calls.length, 1, label(t));
        assert.deepEqual(calls[0]!.ids, asks.filter((a) => a.t === t).map((a) => a.id));
      }
      assert.ok(out.every((o) => o.found));
    });

    it('an instance missing from the answer is not found; lock reasons are passed on', async () => {
      const { gw, api } = setup();
      api(HZ).addInstance('i-locked', 'Running', ['security']);
      const [gone, locked] = await Promise.all([gw.observe(HZ, 'i-gone'), gw.observe(HZ, 'i-locked')]);
      assert.equal(gone.found, false);
      assert.equal(gone.status, undefined);
      assert.equal(locked.found, true);
      assert.deepEqual(locked.lockReasons, ['security']);
      assert.equal(api(HZ).calls.length, 1);
    });

    it('the same id asked twice in a window is described once and both get the answer', async () => {
      const { gw, api } = setup();
      api(HZ).addInstance('i-1', 'Stopped').addInstance('i-2', 'Running');
      const [a, b, c] = await Promise.all([gw.observe(HZ, 'i-1'), gw.observe(HZ, 'i-1'), gw.observe(HZ, 'i-2')]);
      assert.deepEqual(api(HZ).calls.map((x) => x.ids), [['i-1', 'i-2']]);
      assert.equal(a.status, 'Stopped');
      assert.deepEqual(a, b);
      assert.equal(c.status, 'Running');
    });

    it('a failed DescribeInstances rejects every observer with its error', async () => {
      const { gw, api } = setup();
      for (const id of ids(5)) api(HZ).addInstance(id);
      api(HZ).failNext('DescribeInstances', ecsError('Throttling.User', 'Request was denied due to user flow control.', { requestId: 'r-thr', httpStatus: 400 }));
      const errs = await Promise.all(ids(5).map((id) => rejection(gw.observe(HZ, id))));
      for (const e of errs) assert.equal(e.code, 'Throttling.User');
      assert.equal(api(HZ).calls.length, 1);
    });

    it('a maxBatchSize above ECS\'s limit of 100 is capped', async () => {
      const { gw, api } = setup({ maxBatchSize: 500 });
      for (const id of ids(150)) api(HZ).addInstance(id);
      await Promise.all(ids(150).map((id) => gw.observe(HZ, id)));
      assert.ok(api(HZ).calls.every((c) => c.ids.length <= 100), api(HZ).calls.map((c) => c.ids.length).join(','));
    });
  });

  describe('stop and start', () => {
    it('concurrent stops with the same options become one StopInstances', async () => {
      const { gw, api } = setup();
      for (const id of ids(4)) api(HZ).addInstance(id, 'Running');
      const res = await Promise.all(ids(4).map((id) => gw.stop(HZ, id, { ...STOP, stoppedMode: 'StopCharging' })));
      const calls = api(HZ).calls;
      assert.deepEqual(calls.map((c) => [c.action, c.ids]), [['StopInstances', ids(4)]]);
      assert.deepEqual(calls[0]!.options, { ...STOP, stoppedMode: 'StopCharging' });
      for (const r of res) assert.equal(r.requestId, calls[0]!.requestId);
      for (const id of ids(4)) assert.equal(api(HZ).status(id), 'Stopped');
    });

    it('concurrent starts become one StartInstances', async () => {
      const { gw, api } = setup();
      for (const id of ids(3)) api(HZ).addInstance(id, 'Stopped');
      await Promise.all(ids(3).map((id) => gw.start(HZ, id, { dryRun: false })));
      assert.deepEqual(api(HZ).calls.map((c) => [c.action, c.ids]), [['StartInstances', ids(3)]]);
    });

    it('stops with different stoppedMode or forceStop are never in one call', async () => {
      const { gw, api } = setup();
      const groups: Array<{ prefix: string; o: StopOptions }> = [
        { prefix: 'i-plain', o: STOP },
        { prefix: 'i-stopcharging', o: { ...STOP, stoppedMode: 'StopCharging' } },
        { prefix: 'i-keepcharging', o: { ...STOP, stoppedMode: 'KeepCharging' } },
        { prefix: 'i-force', o: { ...STOP, forceStop: true } },
      ];
      const asks = groups.flatMap((g) => ids(2, g.prefix).map((id) => ({ id, o: g.o })));
      for (const a of asks) api(HZ).addInstance(a.id, 'Running');
      await Promise.allSettled(asks.map((a) => gw.stop(HZ, a.id, a.o)));
      const calls = api(HZ).calls;
      assert.equal(calls.length, groups.length);
      for (const g of groups) {
        const call = calls.find((c) => c.ids[0]!.startsWith(g.prefix));
        assert.ok(call, g.prefix);
        assert.equal(call.action, 'StopInstances');
        assert.deepEqual(call.ids, ids(2, g.prefix), `${g.prefix}: only its own instances`);
        assert.deepEqual(call.options, g.o);
      }
    });

    it('dry runs are single calls, so each instance gets its own verdict (ECS answers a batched dry run as a whole)', async () => {
      const { gw, api } = setup();
      for (const id of ids(3)) api(HZ).addInstance(id, 'Running');
      api(HZ).addInstance('i-stopped', 'Stopped');
      const [a, b, c, stopped] = await Promise.all([...ids(3), 'i-stopped'].map((id) => rejection(gw.stop(HZ, id, { ...STOP, dryRun: true }))));
      for (const e of [a, b, c]) assert.equal(e!.classification.errorClass, 'dryRunPassed');
      assert.equal(stopped!.code, 'IncorrectInstanceStatus');
      assert.deepEqual(api(HZ).calls.map((call) => call.action), ['StopInstance', 'StopInstance', 'StopInstance', 'StopInstance']);
      for (const id of ids(3)) assert.equal(api(HZ).status(id), 'Running');
      const starts = await Promise.all(ids(2).map((id) => rejection(gw.start(HZ, id, { dryRun: true }))));
      for (const e of starts) assert.equal(e.code, 'IncorrectInstanceStatus');
      assert.equal(api(HZ).calls.filter((call) => call.action === 'StartInstance').length, 2);
    });

    it('stops and starts of one region do not share a call', async () => {
      const { gw, api } = setup();
      api(HZ).addInstance('i-r1', 'Running').addInstance('i-r2', 'Running').addInstance('i-s1', 'Stopped').addInstance('i-s2', 'Stopped');
      await Promise.all([gw.stop(HZ, 'i-r1', STOP), gw.start(HZ, 'i-s1', { dryRun: false }), gw.stop(HZ, 'i-r2', STOP), gw.start(HZ, 'i-s2', { dryRun: false })]);
      assert.deepEqual(
        api(HZ).calls.map((c) => [c.action, c.ids]).sort(),
        [['StartInstances', ['i-s1', 'i-s2']], ['StopInstances', ['i-r1', 'i-r2']]],
      );
    });

    it('stops in two regions or with two credentials do not share a call', async () => {
      const { gw, api } = setup();
      for (const t of [HZ, SH, HZ_TEAM_B]) api(t).addInstance('i-x1', 'Running').addInstance('i-x2', 'Running');
      await Promise.all([HZ, SH, HZ_TEAM_B].flatMap((t) => ['i-x1', 'i-x2'].map((id) => gw.stop(t, id, STOP))));
      for (const t of [HZ, SH, HZ_TEAM_B]) assert.deepEqual(api(t).calls.map((c) => [c.action, c.ids]), [['StopInstances', ['i-x1', 'i-x2']]], label(t));
    });

    for (const flag of ['confirmStop', 'hibernate'] as const) {
      it(`${flag} (not a StopInstances parameter) uses StopInstance for each instance`, async () => {
        const { gw, api } = setup();
        for (const id of ids(3)) api(HZ).addInstance(id, 'Running');
        await Promise.all(ids(3).map((id) => gw.stop(HZ, id, { ...STOP, [flag]: true })));
        const calls = api(HZ).calls;
        assert.deepEqual(calls.map((c) => [c.action, c.ids]), ids(3).map((id) => ['StopInstance', [id]]));
        for (const c of calls) assert.equal((c.options as StopOptions)[flag], true);
      });
    }

    it('a lone stop uses StopInstance, a lone start StartInstance', async () => {
      const { gw, api } = setup();
      api(HZ).addInstance('i-1', 'Running');
      api(SH).addInstance('i-2', 'Stopped');
      const r = await gw.stop(HZ, 'i-1', { ...STOP, forceStop: true });
      await gw.start(SH, 'i-2', { dryRun: false });
      assert.deepEqual(api(HZ).calls.map((c) => [c.action, c.ids, c.options]), [['StopInstance', ['i-1'], { ...STOP, forceStop: true }]]);
      assert.equal(r.requestId, api(HZ).calls[0]!.requestId);
      assert.deepEqual(api(SH).calls.map((c) => [c.action, c.ids]), [['StartInstance', ['i-2']]]);
    });

    it('a lone stop that fails rejects with the ECS error', async () => {
      const { gw, api } = setup();
      api(HZ).addInstance('i-1', 'Stopped');
      const e = await rejection(gw.stop(HZ, 'i-1', STOP));
      assert.equal(e.code, 'IncorrectInstanceStatus');
      assert.equal(e.requestId, api(HZ).calls[0]!.requestId);
    });

    it('maxBatchSize 1 turns batching off: one call per instance for observe, stop and start', async () => {
      const { gw, api } = setup({ maxBatchSize: 1 });
      const f = api(HZ);
      for (const id of ids(3, 'i-r')) f.addInstance(id, 'Running');
      for (const id of ids(3, 'i-s')) f.addInstance(id, 'Stopped');
      await Promise.all([...ids(3, 'i-r'), ...ids(3, 'i-s')].map((id) => gw.observe(HZ, id)));
      await Promise.all([...ids(3, 'i-r').map((id) => gw.stop(HZ, id, STOP)), ...ids(3, 'i-s').map((id) => gw.start(HZ, id, { dryRun: false }))]);
      assert.equal(f.calls.length, 12);
      assert.ok(f.calls.every((c) => c.ids.length === 1), 'single-id calls only');
      assert.deepEqual(
        [...new Set(f.calls.map((c) => c.action))].sort(),
        ['DescribeInstances', 'StartInstance', 'StopInstance'],
      );
    });
  });

  describe('batch answers', () => {
    it('a per-instance failure rejects only that instance, with its code and the batch RequestId', async () => {
      const { gw, api } = setup();
      const f = api(HZ);
      f.addInstance('i-ok', 'Running').addInstance('i-stopped', 'Stopped').addInstance('i-locked', 'Running').addInstance('i-ok2', 'Running');
      f.failInBatch('i-locked', 'InstanceLockedForSecurity', 'The specified operation is denied as your instance is locked for security reasons.');
      const [ok, stopped, locked, ok2] = await Promise.allSettled(['i-ok', 'i-stopped', 'i-locked', 'i-ok2'].map((id) => gw.stop(HZ, id, STOP)));
      const call = f.calls[0]!;
      assert.equal(f.calls.length, 1);
      assert.equal(call.action, 'StopInstances');
      // The batch's RequestId, and the state ECS reported for the instance right after the call.
      assert.deepEqual(ok, { status: 'fulfilled', value: { requestId: call.requestId, currentStatus: f.status('i-ok') } });
      assert.deepEqual(ok2, { status: 'fulfilled', value: { requestId: call.requestId, currentStatus: f.status('i-ok2') } });

      assert.equal(stopped!.status, 'rejected');
      const e1 = (stopped as PromiseRejectedResult).reason as EcsCallError;
      assert.ok(e1 instanceof EcsCallError);
      assert.equal(e1.code, 'IncorrectInstanceStatus');
      assert.equal(e1.requestId, call.requestId);
      assert.equal(e1.classification.reason, 'IncorrectInstanceStatus');

      const e2 = (locked as PromiseRejectedResult).reason as EcsCallError;
      assert.ok(e2 instanceof EcsCallError);
      assert.equal(e2.code, 'InstanceLockedForSecurity');
      assert.equal(e2.classification.errorClass, 'terminal');
      assert.equal(e2.message, `InstanceLockedForSecurity: The specified operation is denied as your instance is locked for security reasons. (RequestId ${call.requestId})`);
    });

    it('a whole-call failure (throttled mid-batch) rejects every member with that error', async () => {
      const { gw, api } = setup();
      const f = api(HZ);
      for (const id of ids(5)) f.addInstance(id, 'Running');
      f.failNext('StopInstances', ecsError('Throttling.User', 'Request was denied due to user flow control.', { requestId: 'r-thr', httpStatus: 400, retryAfterMs: 1500 }));
      const errs = await Promise.all(ids(5).map((id) => rejection(gw.stop(HZ, id, STOP))));
      for (const e of errs) {
        assert.equal(e.code, 'Throttling.User');
        assert.equal(e.requestId, 'r-thr');
        assert.equal(e.retryAfterMs, 1500);
      }
      for (const id of ids(5)) assert.equal(f.status(id), 'Running', 'nothing was stopped');
    });

    it('an instance missing from the batch answer is rejected, the others answered', async () => {
      const { gw, api } = setup();
      const f = api(HZ);
      f.addInstance('i-1', 'Running').addInstance('i-2', 'Running').addInstance('i-3', 'Running');
      f.omitFromBatch('i-2');
      const [a, b, c] = await Promise.allSettled(['i-1', 'i-2', 'i-3'].map((id) => gw.stop(HZ, id, STOP)));
      assert.equal(a!.status, 'fulfilled');
      assert.equal(c!.status, 'fulfilled');
      assert.equal(b!.status, 'rejected');
      const e = (b as PromiseRejectedResult).reason as EcsCallError;
      assert.ok(e instanceof EcsCallError);
      assert.match(e.message, /i-2/);
      assert.equal(e.requestId, f.calls[0]!.requestId);
    });

    it('the same instance stopped twice in a window is sent once and both callers get the answer', async () => {
      const { gw, api } = setup();
      const f = api(HZ);
      f.addInstance('i-1', 'Running').addInstance('i-2', 'Running');
      const [a, b, c] = await Promise.all([gw.stop(HZ, 'i-1', STOP), gw.stop(HZ, 'i-1', STOP), gw.stop(HZ, 'i-2', STOP)]);
      assert.deepEqual(f.calls.map((x) => [x.action, x.ids]), [['StopInstances', ['i-1', 'i-2']]]);
      assert.deepEqual(a, b);
      assert.equal(c.requestId, a.requestId);
    });

    it('a duplicate that fails fails for both callers', async () => {
      const { gw, api } = setup();
      api(HZ).addInstance('i-1', 'Stopped').addInstance('i-2', 'Running');
      const [a, b] = await Promise.allSettled([gw.stop(HZ, 'i-1', STOP), gw.stop(HZ, 'i-1', STOP), gw.stop(HZ, 'i-2', STOP)]);
      assert.equal(a.status, 'rejected');
      assert.equal(b.status, 'rejected');
      assert.equal(((a as PromiseRejectedResult).reason as EcsCallError).code, 'IncorrectInstanceStatus');
    });
  });
});

describe('Batcher', function () {
  this.timeout(5000);
  it('an id missing from the executor\'s answer is rejected with an error naming it', async () => {
    const b = new Batcher<string>({ maxBatchSize: 10, windowMs: WINDOW_MS });
    const exec = async (got: string[]) => new Map(got.filter((id) => id !== 'y').map((id) => [id, `ok ${id}`] as [string, string]));
    const [x, y] = await Promise.allSettled([b.request('k', 'x', exec), b.request('k', 'y', exec)]);
    assert.deepEqual(x, { status: 'fulfilled', value: 'ok x' });
    assert.equal(y.status, 'rejected');
    assert.match(String((y as PromiseRejectedResult).reason), /\by\b/);
  });

  it('requests after a flush start a new batch', async () => {
    const b = new Batcher<number>({ maxBatchSize: 2, windowMs: WINDOW_MS });
    const batches: string[][] = [];
    const exec = async (got: string[]) => {
      batches.push(got);
      return new Map(got.map((id) => [id, got.length] as [string, number]));
    };
    const out = await Promise.all(['a', 'b', 'c'].map((id) => b.request('k', id, exec)));
    assert.deepEqual(batches, [['a', 'b'], ['c']]);
    assert.deepEqual(out, [2, 2, 1]);
  });
});
