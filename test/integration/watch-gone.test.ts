// A watch resumed from a resourceVersion that etcd has compacted away must get 410 Gone, relist,
// and deliver every change made while the controller was cut off: a creation, a spec change and
// a deletion.
//
// The controller talks to kube-apiserver through a TCP proxy run by this test (TLS passes through
// untouched), so the test can cut the controller off without touching the API server. While it
// is cut off the test changes resources as admin, advances and compacts etcd, and restarts
// kube-apiserver so that its watch cache (which would otherwise still hold the old
// resourceVersion) starts empty. Then the proxy lets the controller back in.
//
// That the controller's own watch got the 410 is observed with a passive spy on the client-node
// ListWatch inside ResourceCache (private; it records watch/list calls and ERROR events and changes
// nothing); independently, a raw watch from the same resourceVersion must get 410 Expired.

import assert from 'node:assert/strict';
import { eventually } from '../support/eventually.ts';
import { request as httpsRequest } from 'node:https';
import { ADMIN_USER, startTestCluster, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator, type RecordedCall } from '../support/ecs-emulator/index.ts';
import { Resources, cond, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';
import { TcpProxy, viaPort } from '../support/tcp-proxy.ts';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.ts';

const NS = 'it-watch-gone';

/** Write calls the emulator saw for one instance. */
function writes(calls: readonly RecordedCall[], id: string): RecordedCall[] {
  return calls.filter((c) => /^(Stop|Start)Instances?$/.test(c.action) && names(c, id));
}

/** Whether a call names the instance in any parameter (InstanceId, InstanceId.N, InstanceIds JSON). */
function names(c: RecordedCall, id: string): boolean {
  return Object.values(c.params).some((v) => v === id || v.includes(`"${id}"`));
}

async function etcd<T>(cluster: TestCluster, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${cluster.etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  assert.equal(res.status, 200, `etcd ${path}: ${text}`);
  return JSON.parse(text) as T;
}

/** The first event of a raw watch of this namespace's resources from `resourceVersion`, as admin, straight to the API server. */
function firstWatchEvent(cluster: TestCluster, resourceVersion: string): Promise<{ httpStatus: number; line: string }> {
  const url = new URL(`${cluster.server}/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`);
  url.searchParams.set('watch', 'true');
  url.searchParams.set('resourceVersion', resourceVersion);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { headers: { Authorization: `Bearer ${cluster.tokenFor(ADMIN_USER)}` }, rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          const nl = buf.indexOf('\n');
          if (nl >= 0) {
            resolve({ httpStatus: res.statusCode ?? 0, line: buf.slice(0, nl) });
            req.destroy();
          }
        });
        res.on('end', () => resolve({ httpStatus: res.statusCode ?? 0, line: buf }));
        res.on('error', () => undefined);
      },
    );
    req.on('timeout', () => req.destroy(new Error('raw watch: no event within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

// ---- a passive spy on the controller's ListWatch (private to ResourceCache; nothing is changed)

interface SpyRecord {
  t: number;
  kind: 'list' | 'watch' | 'error-event' | 'done';
  rv?: string;
  code?: number;
  message?: string;
}

type WatchFn = (path: string, qp: Record<string, unknown>, cb: (phase: string, obj: unknown, raw: unknown) => void, done: (err: unknown) => void) => Promise<unknown>;
interface ListWatchInternals {
  watch: { watch: WatchFn };
  listFn: () => Promise<{ metadata?: { resourceVersion?: string } }>;
  latestResourceVersion(): string;
}

function spyOnListWatch(op: RunningOperator): { records: SpyRecord[]; informer: ListWatchInternals } {
  const informer = (op.operator.powers as unknown as { informer?: ListWatchInternals }).informer;
  assert.ok(informer && typeof informer.watch?.watch === 'function' && typeof informer.listFn === 'function', 'ResourceCache has no ListWatch to observe');
  const records: SpyRecord[] = [];
  const watcher = informer.watch;
  const watch = watcher.watch.bind(watcher);
  watcher.watch = (path, qp, cb, done) => {
    records.push({ t: Date.now(), kind: 'watch', rv: String(qp['resourceVersion'] ?? '') });
    return watch(
      path,
      qp,
      (phase, obj, raw) => {
        if (phase === 'ERROR') {
          const s = obj as { code?: number; message?: string };
          records.push({ t: Date.now(), kind: 'error-event', ...(s.code !== undefined ? { code: s.code } : {}), ...(s.message ? { message: s.message } : {}) });
        }
        cb(phase, obj, raw);
      },
      (err) => {
        const e = err as { statusCode?: number; message?: string } | null;
        records.push({ t: Date.now(), kind: 'done', ...(e?.statusCode !== undefined ? { code: e.statusCode } : {}), ...(e?.message ? { message: e.message } : {}) });
        done(err);
      },
    );
  };
  const list = informer.listFn;
  informer.listFn = async () => {
    const out = await list();
    records.push({ t: Date.now(), kind: 'list', rv: out.metadata?.resourceVersion ?? '' });
    return out;
  };
  return { records, informer };
}

describe('watch resumption after etcd compaction', function () {
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let proxy: TcpProxy;
  let op: RunningOperator;
  let res: Resources;
  let unhandled = 0;
  const onUnhandled = (): void => {
    unhandled++;
  };

  before(async function () {
    this.timeout(240_000);
    process.on('unhandledRejection', onUnhandled);
    cluster = await startTestCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    emu = await startEcsEmulator({ stopMs: 200, forceStopMs: 100, startMs: 200 });
    proxy = new TcpProxy(Number(new URL(cluster.server).port));
    await proxy.listen();
    op = await startOperator(cluster, emu, { namespace: NS, kubeConfig: viaPort(cluster.kubeConfig(), proxy.port) });
    res = new Resources(cluster.kubeConfig(), NS);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await op?.stop();
    await proxy?.close();
    await emu?.close();
    await cluster?.stop();
  });

  it('a watch resumed after its resourceVersion was compacted away gets 410 Gone, relists, and misses nothing', async function () {
    this.timeout(60_000); // typically ~9 s; the controller's restart backoff (1, 2, 4, 8, 16 s) decides how soon it retries
    const t0 = Date.now();
    const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${op.operator.healthPort}/readyz`)).status;
    const { records, informer } = spyOnListWatch(op);

    // 1. Two resources, converged.
    emu.addInstance({ instanceId: 'i-wgkeep', regionId: 'cn-hangzhou' });
    emu.addInstance({ instanceId: 'i-wggone', regionId: 'cn-hangzhou' });
    await res.create('keep', { instanceId: 'i-wgkeep' });
    await res.create('gone', { instanceId: 'i-wggone' });
    await res.waitForReady('keep', 'Stopped');
    await res.waitForReady('gone', 'Stopped');
    assert.equal(await readyz(), 200);
    assert.ok(proxy.open > 0, 'the controller does not go through the proxy');

    // 2. Cut the controller off.
    const callsAtCut = emu.calls.length;
    proxy.sever();
    const tCut = Date.now();
    await eventually('/readyz 503 after the cut', async () => (await readyz()) === 503, 10_000, undefined, 50);
    const readyzDuringCut: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        readyzDuringCut.push(await readyz().catch(() => -1));
        await sleep(100);
      }
    })();
    const staleRv = informer.latestResourceVersion();
    assert.match(staleRv, /^\d+$/, 'the controller has no resourceVersion to resume from');

    // 3. While it is cut off: create, change, delete; advance etcd; compact; restart the API server.
    let samplerStopped = false;
    const stopSampler = async (): Promise<void> => {
      if (samplerStopped) return;
      samplerStopped = true;
      sampling = false;
      await sampler;
    };
    try {
      emu.addInstance({ instanceId: 'i-wgfresh', regionId: 'cn-hangzhou' });
      await res.create('fresh', { instanceId: 'i-wgfresh', desiredState: 'Stopped' });
      await res.patchSpec('keep', { desiredState: 'Running' });
      await res.delete('gone');
      for (let i = 0; i < 40; i += 8) {
        await Promise.all(
          Array.from({ length: 8 }, (_, j) =>
            res.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `filler-${i + j}` }, data: { n: String(i + j) } } }),
          ),
        );
      }
      const head = await etcd<{ header: { revision: string } }>(cluster, '/v3/kv/range', { key: 'AA==', count_only: true });
      const compactedAt = head.header.revision;
      assert.ok(Number(compactedAt) > Number(staleRv) + 40, `etcd revision ${compactedAt} vs the controller's ${staleRv}`);
      await etcd(cluster, '/v3/kv/compaction', { revision: compactedAt, physical: true });
      // Below the compacted revision etcd itself refuses a read now.
      const old = await fetch(`${cluster.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==', count_only: true, revision: staleRv }) });
      assert.match(await old.text(), /compacted/, 'etcd did not compact');
      await cluster.restartApiServer();

      // The server now answers the controller's resourceVersion with 410 Gone (as a watch ERROR event).
      const raw = await firstWatchEvent(cluster, staleRv);
      const ev = JSON.parse(raw.line) as { type: string; object: { code?: number; reason?: string; message?: string } };
      assert.equal(ev.type, 'ERROR', raw.line);
      assert.equal(ev.object.code, 410, raw.line);
      assert.equal(ev.object.reason, 'Expired', raw.line);

      // Still cut off, still not ready.
      assert.equal(await readyz(), 503);
      await stopSampler();
      assert.ok(readyzDuringCut.length >= 5, `only ${readyzDuringCut.length} /readyz samples`);
      assert.deepEqual([...new Set(readyzDuringCut)], [503], '/readyz answered other than 503 while cut off');
      assert.ok(proxy.refused > 0, 'the controller never tried to reconnect while cut off');
      const tRestore = Date.now();

      // 4. Let it back in.
      proxy.restore();
      const fresh = await res.waitForReady('fresh', 'Stopped', 40_000);
      const keep = await res.waitForReady('keep', 'Running', 10_000);
      await eventually('/readyz 200 after recovery', async () => (await readyz()) === 200, 10_000, undefined, 50);
      await sleep(500); // anything a stale cache would still do for the deleted resource happens now

      // The 410 the controller's watch got, and the relist that followed.
      const after = records.filter((r) => r.t >= tRestore);
      const resumed = after.find((r) => r.kind === 'watch');
      assert.ok(resumed, `no watch after the restore: ${JSON.stringify(records)}`);
      assert.equal(resumed.rv, staleRv, `the first watch after the restore did not resume from ${staleRv}: ${JSON.stringify(after)}`);
      const gone410 = after.find((r) => (r.kind === 'error-event' || r.kind === 'done') && r.code === 410);
      assert.ok(gone410, `the controller never saw 410 Gone: ${JSON.stringify(after)}`);
      const relist = after.find((r) => r.kind === 'list' && r.t >= gone410.t);
      assert.ok(relist && Number(relist.rv) >= Number(compactedAt), `no relist after the 410: ${JSON.stringify(after)}`);
      const rewatch = after.find((r) => r.kind === 'watch' && r.t >= relist.t);
      assert.equal(rewatch?.rv, relist.rv, `no watch from the relist's resourceVersion: ${JSON.stringify(after)}`);

      // Nothing missed: the cache has the creation, the spec change, and not the deleted one.
      assert.equal(op.operator.powers.get(`${NS}/gone`), undefined, 'the deletion was missed');
      assert.equal(op.operator.powers.get(`${NS}/keep`)?.metadata.generation, 2, 'the spec change was missed');
      assert.ok(op.operator.powers.get(`${NS}/fresh`), 'the creation was missed');
      assert.deepEqual(op.operator.powers.list().map((o) => o.metadata.name).sort(), ['fresh', 'keep']);

      // ... and ECS saw exactly the calls those changes call for.
      const since = emu.calls.slice(callsAtCut);
      const freshWrites = writes(since, 'i-wgfresh');
      assert.ok(freshWrites.length >= 1 && freshWrites.every((c) => /^StopInstances?$/.test(c.action)), JSON.stringify(freshWrites));
      assert.equal(emu.instance('i-wgfresh')?.status, 'Stopped');
      assert.equal(fresh.status?.instanceStatus, 'Stopped');
      assert.deepEqual(writes(since, 'i-wgkeep').map((c) => c.action), ['StartInstance']);
      assert.equal(emu.instance('i-wgkeep')?.status, 'Running');
      assert.equal(keep.status?.observedGeneration, 2);
      assert.equal(cond(keep, 'Ready')?.reason, 'Running');
      // Cut off, a resync may still read the deleted resource's instance from the stale cache (the
      // test can outlast the resync period on a loaded machine); it must never act on it, and
      // nothing may touch it once the relist has shown the deletion.
      assert.deepEqual(writes(since, 'i-wggone'), [], 'the deleted resource\'s instance was acted on');
      assert.deepEqual(since.filter((c) => names(c, 'i-wggone') && c.time > relist.t + 1_000), [], 'the deleted resource\'s instance was called after the relist');
      assert.equal(emu.instance('i-wggone')?.status, 'Stopped');
      assert.equal(unhandled, 0, 'unhandled rejections');

      process.stdout.write(
        `      cut off ${((tRestore - tCut) / 1000).toFixed(1)} s; stale rv ${staleRv}, compacted at ${compactedAt}; ` +
          `410 ${((gone410.t - tRestore) / 1000).toFixed(1)} s after the restore (${gone410.message ?? gone410.kind}); ` +
          `relist at rv ${relist.rv}; total ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    } finally {
      await stopSampler();
      proxy.restore();
    }
  });
});
