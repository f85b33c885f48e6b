// The fault suite (issue 5): many resources, a hostile ECS and a Kubernetes API server that goes
// away, with nothing lost, nothing stopped twice in a way a user sees, and no crash.
//
// Profiles: the default short profile runs in CI (~60 resources, ~20 s of chaos);
// FAULT_PROFILE=soak multiplies the resources by 5, the chaos by 4 and restarts the API server
// 3 times. FAULT_SEED picks the random schedule (printed with the report, so a failing run can be
// replayed):
//
//   FAULT_PROFILE=soak FAULT_SEED=42 mocha test/integration/faults.test.ts
//
// Part 1 (ECS) runs on the shared cluster; part 2 (Kubernetes) on a private cluster of its own,
// since it stops the API server and deletes the CRD.

import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { sharedCluster } from '../support/global-cluster.ts';
import { startTestCluster, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator, type RecordedCall } from '../support/ecs-emulator/index.ts';
import { Resources, cond, metricValue, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.ts';
import type { DesiredState, EcsInstancePower, EcsInstancePowerSpec } from '../../src/api/types.ts';

const SOAK = process.env['FAULT_PROFILE'] === 'soak';
const PROFILE = SOAK ? 'soak' : 'short';
const SEED = Number(process.env['FAULT_SEED'] ?? 20_250_601) >>> 0;
const SCALE = SOAK ? 5 : 1;
const N = 60 * SCALE;
const CHAOS_MS = (SOAK ? 4 : 1) * 20_000;
const RESTARTS = SOAK ? 3 : 1;
const ECS_TIMEOUT_MS = 1_000;
const CRD_FILE = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'crds/ecspower.io_ecsinstancepowers.yaml');
const TERMINAL_REASONS = new Set([
  'InstanceLockedForSecurity',
  'InstanceNotFound',
  'ConfirmStopRequired',
  'InstanceExpiredOrInArrears',
  'OperationNotSupported',
  'KMSUnauthorized',
  'InvalidCredentials',
  'Forbidden',
  'InvalidSpec',
]);

/** mulberry32: a small seeded PRNG, so that a run's fault schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isWrite = (c: RecordedCall): boolean => /^(Stop|Start)Instances?$/.test(c.action);
const names = (c: RecordedCall, id: string): boolean =>
  c.params['InstanceId'] === id ||
  Object.entries(c.params).some(([k, v]) => k.startsWith('InstanceId.') && v === id) ||
  (c.params['InstanceIds'] ?? '').includes(`"${id}"`);

async function listAll(res: Resources): Promise<EcsInstancePower[]> {
  const list = (await res.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: res.namespace, plural: PLURAL })) as {
    items: EcsInstancePower[];
  };
  return list.items;
}

/** Ready=True for the current generation with reason = desiredState, and the instance really there. */
function convergedAs(o: EcsInstancePower, emu: EcsEmulator): boolean {
  const r = cond(o, 'Ready');
  return (
    r?.status === 'True' &&
    r.reason === o.spec.desiredState &&
    o.status?.observedGeneration === o.metadata.generation &&
    cond(o, 'Reconciling')?.status === 'False' &&
    cond(o, 'Stalled')?.status === 'False' &&
    emu.instance(o.spec.instanceId)?.status === o.spec.desiredState
  );
}

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 250): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function summary(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const hist = new Map<number, number>();
  for (const v of s) hist.set(v, (hist.get(v) ?? 0) + 1);
  return `min ${s[0]} / median ${at(0.5)} / p90 ${at(0.9)} / max ${s.at(-1)}; histogram {${[...hist].map(([k, v]) => `${k}:${v}`).join(', ')}}`;
}

describe(`fault suite (${PROFILE} profile, seed ${SEED})`, function () {
  let unhandled = 0;
  const onUnhandled = (): void => {
    unhandled++;
  };
  const report: string[] = [];

  before(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  after(() => {
    process.off('unhandledRejection', onUnhandled);
    report.push(`unhandled rejections in this process: ${unhandled}`);
    console.log(`\n  Fault suite report (${PROFILE} profile, seed ${SEED})\n  ${report.join('\n  ')}\n`);
  });

  describe('ECS: failures, throttling bursts, latency spikes, resets, non-JSON and truncated answers', function () {
    this.timeout(CHAOS_MS + 60_000 * SCALE + 120_000);
    const NS = 'it-faults-ecs';
    let cluster: TestCluster;
    let emu: EcsEmulator;
    let op: RunningOperator;
    let res: Resources;

    before(async function () {
      this.timeout(240_000);
      cluster = await sharedCluster();
      await cluster.kubectl(['create', 'namespace', NS]);
      emu = await startEcsEmulator({ stopMs: 300, forceStopMs: 100, startMs: 300, maxRecordedCalls: 500_000 });
      op = await startOperator(cluster, emu, {
        namespace: NS,
        pollIntervalMs: 200,
        resyncPeriodMs: 3_000,
        terminalRecheckMs: 2_000,
        ecsTimeoutMs: ECS_TIMEOUT_MS,
        logLevel: 'info',
      });
      res = new Resources(cluster.kubeConfig(), NS);
    });

    after(async () => {
      emu?.clearFaults();
      await op?.stop();
      await emu?.close();
      await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
    });

    it(`${N} resources converge while 30% of ECS calls fail and the rest of the chaos runs`, async () => {
      const unhandledBefore = unhandled;
      const random = prng(SEED);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const regions = ['cn-hangzhou', 'cn-shanghai', 'cn-beijing'];
      const desired = new Map<string, DesiredState>();
      const touched = new Set<string>(); // flipped or drifted: may need more than one write
      const specs: Array<{ name: string; spec: Partial<EcsInstancePowerSpec> & { instanceId: string } }> = [];
      const initiallyDesired = new Set<string>();
      for (let i = 0; i < N; i++) {
        const name = `chaos-${String(i).padStart(3, '0')}`;
        const instanceId = `i-chaos${i}`;
        const regionId = pick(regions);
        const status = random() < 0.5 ? 'Running' : 'Stopped';
        const desiredState: DesiredState = random() < 0.6 ? 'Stopped' : 'Running';
        emu.addInstance({ instanceId, regionId, status });
        if (status === desiredState) initiallyDesired.add(name);
        desired.set(name, desiredState);
        const mode = random();
        specs.push({
          name,
          spec: {
            instanceId,
            regionId,
            desiredState,
            ...(random() < 0.4 ? { forceStop: true } : {}),
            ...(mode < 0.3 ? { stoppedMode: 'KeepCharging' as const } : mode < 0.5 ? { stoppedMode: 'StopCharging' as const } : {}),
            ...(random() < 0.2 ? { confirmStop: true } : {}), // a single StopInstance instead of a batch
          },
        });
      }

      // ---- the chaos driver: a timer that keeps re-arming count-based faults on a seeded schedule
      const injected: Record<string, number> = {};
      const count = (kind: string, n = 1): void => {
        injected[kind] = (injected[kind] ?? 0) + n;
      };
      const callsAtStart = emu.calls.length;
      let baseInjected = 0;
      const baseHit = (): number =>
        emu.calls.slice(callsAtStart).filter((c) => c.fault === 'error' && (c.code === 'InternalError' || c.code === 'ServiceUnavailable')).length;
      const quotaTimers = new Set<ReturnType<typeof setTimeout>>();
      const tick = (): void => {
        // 30% of calls fail with InternalError or ServiceUnavailable: arm count-1 faults to keep
        // the share of faulted calls at 30%, never more than 5 waiting at a time.
        const calls = emu.calls.length - callsAtStart;
        const waiting = baseInjected - baseHit();
        const deficit = Math.min(Math.round(0.3 * calls) - baseInjected, 5 - waiting);
        for (let i = 0; i < deficit; i++) {
          const code = random() < 0.6 ? 'InternalError' : 'ServiceUnavailable';
          emu.injectFault({ code, count: 1 });
          baseInjected++;
          count(code);
        }
        const r = random();
        if (r < 0.02) {
          // a throttling burst: one action of the whole account at 2 calls/s for 1.5 s
          const action = pick(['DescribeInstances', 'StopInstances', 'StopInstance', 'StartInstances', 'StartInstance']);
          emu.setQuota(action, { perSecond: 2, burst: 2 });
          count('throttling burst');
          const t = setTimeout(() => {
            quotaTimers.delete(t);
            emu.setQuota(action, undefined);
          }, 1_500);
          quotaTimers.add(t);
        } else if (r < 0.05) {
          const n = 1 + Math.floor(random() * 3);
          // past the client timeout; half of them reach ECS anyway (the answer is lost)
          emu.injectFault({ kind: 'delay', delayMs: ECS_TIMEOUT_MS + 500, count: n, applyAfterTimeout: random() < 0.5 });
          count('latency spike past the timeout', n);
        } else if (r < 0.08) {
          const n = 1 + Math.floor(random() * 2);
          emu.injectFault({ kind: 'reset', count: n });
          count('connection reset', n);
        } else if (r < 0.1) {
          emu.injectFault({ kind: 'non-json', count: 1 });
          count('non-JSON 502');
        } else if (r < 0.12) {
          emu.injectFault({ kind: 'truncated', count: 1 });
          count('truncated JSON');
        }
      };
      const chaos = setInterval(tick, 100);

      // ---- churn: spec flips and out-of-band drift while the chaos runs
      const resourceNames = specs.map((s) => s.name);
      let flips = 0;
      let drifts = 0;
      const churn = async (until: number): Promise<void> => {
        await sleep(1_000);
        while (Date.now() < until) {
          for (let k = 0; k < 2; k++) {
            const name = pick(resourceNames);
            const next: DesiredState = desired.get(name) === 'Stopped' ? 'Running' : 'Stopped';
            desired.set(name, next);
            touched.add(name);
            await res.patchSpec(name, { desiredState: next });
            flips++;
          }
          const name = pick(resourceNames);
          const id = specs.find((s) => s.name === name)!.spec.instanceId;
          const now = emu.instance(id)?.status;
          if (now === 'Running' || now === 'Stopped') {
            emu.setStatus(id, now === 'Running' ? 'Stopped' : 'Running');
            touched.add(name);
            drifts++;
          }
          await sleep(1_000);
        }
      };

      const t0 = Date.now();
      try {
        for (let i = 0; i < specs.length; i += 10) await Promise.all(specs.slice(i, i + 10).map((s) => res.create(s.name, s.spec)));
        await churn(t0 + CHAOS_MS * 0.6);
        const left = Math.max(0, CHAOS_MS - (Date.now() - t0));
        await sleep(left);
        // Every resource converges while the chaos still runs.
        await until(
          'every resource Ready in its desired state, chaos still on',
          async () => {
            const all = await listAll(res);
            return all.length === N && all.every((o) => convergedAs(o, emu) && o.spec.desiredState === desired.get(o.metadata.name!));
          },
          60_000 * SCALE,
          500,
        );
      } finally {
        clearInterval(chaos);
        for (const t of quotaTimers) clearTimeout(t);
        for (const a of ['DescribeInstances', 'StopInstances', 'StopInstance', 'StartInstances', 'StartInstance']) emu.setQuota(a, undefined);
        emu.clearFaults();
      }
      const convergedAfterMs = Date.now() - t0;

      // Stable once the chaos is over: nothing flaps, nothing moves.
      const writesBefore = emu.calls.filter(isWrite).length;
      await sleep(4_000);
      const all = await listAll(res);
      assert.equal(all.length, N);
      const wrong = all.filter((o) => !convergedAs(o, emu) || o.spec.desiredState !== desired.get(o.metadata.name!));
      assert.deepEqual(
        wrong.map((o) => `${o.metadata.name}: ${cond(o, 'Ready')?.reason} instance=${emu.instance(o.spec.instanceId)?.status}`),
        [],
      );
      assert.equal(emu.calls.filter(isWrite).length, writesBefore, 'write calls after convergence');
      const stalled = all.filter((o) => cond(o, 'Stalled')?.status === 'True');
      assert.equal(stalled.length, 0);
      for (const o of all) assert.ok(['Stopped', 'Running'].includes(cond(o, 'Ready')!.reason), `${o.metadata.name} ends with ${cond(o, 'Ready')!.reason}`);

      // Observe before acting: an instance already in its desired state, never flipped nor
      // drifted, got no write call at all, chaos or not.
      const calls = emu.calls.slice(callsAtStart);
      const writesOf = (id: string): RecordedCall[] => calls.filter((c) => isWrite(c) && names(c, id));
      for (const name of initiallyDesired) {
        if (touched.has(name)) continue;
        const id = specs.find((s) => s.name === name)!.spec.instanceId;
        assert.deepEqual(writesOf(id).map((c) => c.action), [], `${name} was already ${desired.get(name)}`);
      }

      // No terminal reason surfaced at any time (a double stop would show IncorrectInstanceStatus,
      // which is transient; a terminal one would mean a wrong call).
      const events = (await res.core.listNamespacedEvent({ namespace: NS })).items;
      const warnings = new Map<string, number>();
      for (const e of events.filter((x) => x.type === 'Warning')) warnings.set(e.reason ?? '', (warnings.get(e.reason ?? '') ?? 0) + (e.count ?? 1));
      for (const reason of warnings.keys()) assert.ok(!TERMINAL_REASONS.has(reason), `a terminal Warning surfaced: ${reason}`);
      assert.equal(unhandled - unhandledBefore, 0, 'unhandled rejections');

      // ---- report
      const hits = new Map<string, number>();
      for (const c of calls) {
        const k = c.fault ? `${c.fault}${c.fault === 'error' ? ` ${c.code}` : ''}` : c.code.startsWith('Throttling') ? `throttled (${c.code})` : undefined;
        if (k) hits.set(k, (hits.get(k) ?? 0) + 1);
      }
      const perResource = specs.map((s) => writesOf(s.spec.instanceId).length);
      const perResourceOk = specs.map((s) => writesOf(s.spec.instanceId).filter((c) => c.code === 'OK').length);
      const faulted = calls.filter((c) => c.fault !== undefined || c.code.startsWith('Throttling')).length;
      report.push(
        `[ECS] ${N} resources, ${CHAOS_MS / 1000} s of chaos, ${flips} spec flips, ${drifts} out-of-band drifts; converged ${all.length}/${N} after ${(convergedAfterMs / 1000).toFixed(1)} s`,
        `[ECS] ECS calls ${calls.length}, answered by a fault or throttling ${faulted} (${((100 * faulted) / calls.length).toFixed(1)}%)`,
        `[ECS] faults injected by kind: ${Object.entries(injected).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `[ECS] faulted answers by kind: ${[...hits].map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `[ECS] write calls per resource (all): ${summary(perResource)}`,
        `[ECS] write calls per resource (answered OK): ${summary(perResourceOk)}`,
        `[ECS] Warning events by reason: ${[...warnings].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
        `[ECS] resources ending Stalled: ${stalled.length}; ending with an error reason: ${all.filter((o) => !['Stopped', 'Running'].includes(cond(o, 'Ready')!.reason)).length}`,
      );
    });
  });

  describe('Kubernetes: API server restarts, resourceVersion conflicts, the CRD deleted and re-created', function () {
    this.timeout(120_000 + RESTARTS * 90_000);
    const NS = 'it-faults-kube';
    let cluster: TestCluster;
    let emu: EcsEmulator;
    let op: RunningOperator;
    let res: Resources;
    const random = prng(SEED ^ 0x5eed);

    const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${op.operator.healthPort}/readyz`)).status;
    const healthz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${op.operator.healthPort}/healthz`)).status;
    let nextInstance = 0;
    const newResource = async (prefix: string): Promise<{ name: string; id: string; desired: DesiredState }> => {
      const k = nextInstance++;
      const id = `i-kube${k}`;
      const desired: DesiredState = random() < 0.5 ? 'Stopped' : 'Running';
      emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou', status: desired === 'Stopped' ? 'Running' : 'Stopped' });
      const name = `${prefix}-${k}`;
      await res.create(name, { instanceId: id, desiredState: desired });
      return { name, id, desired };
    };
    const allConverged = async (expected: Map<string, DesiredState>, timeoutMs: number): Promise<number> =>
      until(
        `${expected.size} resources converged`,
        async () => {
          try {
            const all = await listAll(res);
            return [...expected].every(([name, d]) => {
              const o = all.find((x) => x.metadata.name === name);
              return o !== undefined && o.spec.desiredState === d && convergedAs(o, emu);
            });
          } catch {
            return false;
          }
        },
        timeoutMs,
        300,
      );

    before(async function () {
      this.timeout(240_000);
      cluster = await startTestCluster();
      await cluster.kubectl(['create', 'namespace', NS]);
      emu = await startEcsEmulator({ stopMs: 300, forceStopMs: 100, startMs: 300 });
      op = await startOperator(cluster, emu, {
        namespace: NS,
        pollIntervalMs: 200,
        resyncPeriodMs: 3_000,
        terminalRecheckMs: 2_000,
        ecsTimeoutMs: ECS_TIMEOUT_MS,
        logLevel: 'info',
      });
      res = new Resources(cluster.kubeConfig(), NS);
      assert.equal(await readyz(), 200);
    });

    after(async () => {
      await op?.stop();
      await emu?.close();
      await cluster?.stop();
    });

    it(`survives ${RESTARTS} API server restart(s) mid-run: /readyz is 503 while it is down, and nothing is missed`, async () => {
      const unhandledBefore = unhandled;
      const expected = new Map<string, DesiredState>();
      const restarts: string[] = [];
      let readyDuringOutage = 0;
      let outageSamples = 0;
      for (let round = 0; round < RESTARTS; round++) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => newResource(`restart${round}`)));
        for (const r of batch) expected.set(r.name, r.desired);
        // mid-run: some converged, some not yet
        await until('a third of the batch converged', async () => {
          const all = await listAll(res);
          return all.filter((o) => batch.some((b) => b.name === o.metadata.name) && convergedAs(o, emu)).length >= batch.length / 3;
        }, 30_000, 50);

        const tStop = Date.now();
        await cluster.stopApiServer();
        const to503 = await until('/readyz 503 with the API server down', async () => (await readyz()) === 503, 30_000, 50);
        // While it is down: out-of-band drift of converged instances, which the controller can
        // see and fix (ECS is up), but not report until the API server is back.
        const drifted: string[] = [];
        for (const r of batch.slice(0, 3)) {
          const s = emu.instance(r.id)?.status;
          if (s === 'Running' || s === 'Stopped') {
            emu.setStatus(r.id, s === 'Running' ? 'Stopped' : 'Running');
            drifted.push(r.name);
          }
        }
        const outageUntil = Date.now() + 4_000;
        while (Date.now() < outageUntil) {
          outageSamples++;
          if ((await readyz()) === 200) readyDuringOutage++;
          assert.equal(await healthz(), 200, '/healthz stays 200: the process is alive');
          await sleep(50);
        }
        await cluster.startApiServer();
        const downMs = Date.now() - tStop;
        const to200 = await until('/readyz 200 after the API server came back', async () => (await readyz()) === 200, 60_000, 100);
        // Work created after the restart, and a spec flip of an old resource, are seen too.
        const after = await Promise.all(Array.from({ length: 5 }, () => newResource(`after${round}`)));
        for (const r of after) expected.set(r.name, r.desired);
        const flip = batch[batch.length - 1]!;
        const flipped: DesiredState = flip.desired === 'Stopped' ? 'Running' : 'Stopped';
        await res.patchSpec(flip.name, { desiredState: flipped });
        expected.set(flip.name, flipped);
        const convergedMs = await allConverged(expected, 90_000);
        restarts.push(
          `restart ${round + 1}: API server stopped and started again over ${(downMs / 1000).toFixed(1)} s, /readyz 503 after ${to503} ms, 200 again ${to200} ms after it came back, ` +
            `${expected.size} resources converged ${(convergedMs / 1000).toFixed(1)} s later (${drifted.length} drifted during the outage)`,
        );
      }
      assert.equal(unhandled - unhandledBefore, 0, 'unhandled rejections');
      report.push(`[kube] API server restarts survived: ${RESTARTS}`, ...restarts.map((r) => `[kube]   ${r}`));
      report.push(`[kube] /readyz answered 200 ${readyDuringOutage} of ${outageSamples} times while the API server was down (sampled every 50 ms)`);
      // Each watch restart attempt flips /readyz to 200 for well under a millisecond (see the
      // skipped test below), which a 50 ms sampler almost never sees; allow one such sample.
      assert.ok(readyDuringOutage <= 1, `/readyz said ready ${readyDuringOutage} of ${outageSamples} times while the API server was down`);
    });

    // Regression (was a bug): src/runtime/resource-cache.ts, `informer.on('connect', () => { this.healthy = true; })`.
    // client-node's ListWatch emits 'connect' at the start of doneHandler, before it lists or
    // opens the watch; every restart attempt of ResourceCache.onError (1 s, 2 s, 4 s, ... into an
    // outage) therefore marks the cache healthy until the fetch fails a moment later, and /readyz
    // answers 200 while the API server is down (seen with a tight poll: 200 at +1.0 s, +3.0 s,
    // +7.0 s, +15.0 s of an outage). Suggested fix: do not set `healthy` on 'connect'; set it
    // after a list succeeds (wrap `list` in start()) and on upsert/remove, and for a watch resumed
    // without a list, once it has stayed up for a short while (a timer started on 'connect' and
    // cancelled by 'error').
    it('/readyz never answers 200 while the API server is down, not even during a watch restart attempt', async () => {
      await cluster.stopApiServer();
      try {
        await until('/readyz 503', async () => (await readyz()) === 503, 30_000, 10);
        const t0 = Date.now();
        let ready = 0;
        let samples = 0;
        // Covers the cache's restart attempts 1 s and 3 s into the outage.
        while (Date.now() - t0 < 3_500) {
          samples++;
          if ((await readyz()) === 200) ready++;
        }
        assert.equal(ready, 0, `/readyz answered 200 ${ready} of ${samples} times while the API server was down`);
      } finally {
        await cluster.startApiServer();
        await until('/readyz 200', async () => (await readyz()) === 200, 60_000, 100);
      }
    });

    it('status writes hitting resourceVersion conflicts: converges, and never overwrites a newer spec', async () => {
      const unhandledBefore = unhandled;
      const batch = await Promise.all(Array.from({ length: 10 }, () => newResource('conflict')));
      const conflictsBefore = op.logs.filter((l) => l.includes('status changed since it was read')).length;
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      let stop = false;
      let bumps = 0;
      // Several writers bump metadata (a label) in a tight loop while the controller writes status.
      const bumpers = [0, 1, 2].map(async (w) => {
        while (!stop) {
          for (const r of batch) {
            if (stop) break;
            bumps++;
            await res.custom.patchNamespacedCustomObject(
              { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: r.name, body: { metadata: { labels: { [`bump${w}`]: String(bumps) } } } },
              merge,
            );
          }
        }
      });
      await sleep(2_000);
      // A spec change in the middle of it: the newest generation must win.
      const flipped = new Map<string, DesiredState>();
      for (const r of batch.slice(0, 5)) {
        const d: DesiredState = r.desired === 'Stopped' ? 'Running' : 'Stopped';
        await res.patchSpec(r.name, { desiredState: d });
        flipped.set(r.name, d);
      }
      await sleep(4_000);
      stop = true;
      await Promise.all(bumpers);
      const lastLabels = new Map((await listAll(res)).map((o) => [o.metadata.name!, o.metadata.labels ?? {}]));
      const expected = new Map(batch.map((r) => [r.name, flipped.get(r.name) ?? r.desired]));
      const convergedMs = await allConverged(expected, 60_000);
      const conflicts = op.logs.filter((l) => l.includes('status changed since it was read')).length - conflictsBefore;
      assert.equal(unhandled - unhandledBefore, 0, 'unhandled rejections');
      assert.ok(conflicts > 0, 'no status write hit a conflict: the test did not test anything');
      for (const o of await listAll(res)) {
        if (!expected.has(o.metadata.name!)) continue;
        assert.equal(o.spec.desiredState, expected.get(o.metadata.name!), 'spec overwritten');
        assert.deepEqual(o.metadata.labels ?? {}, lastLabels.get(o.metadata.name!), 'metadata overwritten');
        assert.equal(o.status?.observedGeneration, o.metadata.generation);
      }
      report.push(
        `[kube] resourceVersion conflicts: ${bumps} label patches by 3 writers, ${conflicts} status writes refused with 409 and retried; ${expected.size} resources converged ${(convergedMs / 1000).toFixed(1)} s after the writers stopped`,
      );
    });

    it('the CRD deleted and re-created: the resources go with it, new ones converge', async () => {
      const unhandledBefore = unhandled;
      const before = await listAll(res);
      assert.ok(before.length > 0);
      const oldIds = before.map((o) => o.spec.instanceId);
      const del = await cluster.kubectl(['delete', 'crd', `${PLURAL}.${GROUP}`, '--timeout=60s']);
      assert.equal(del.code, 0, del.stderr);
      const tDeleted = Date.now();
      const gone = await cluster.kubectl(['get', PLURAL, '-n', NS]);
      assert.notEqual(gone.code, 0, 'the resource type is gone');
      await until('the cache dropped every resource', async () => {
        const m = metricValue(await op.metricsText(), 'ecspower_resources') ?? 0;
        return m === 0;
      }, 30_000);
      let readyzWhileGone: number | undefined;
      try {
        await until('/readyz 503 without the CRD', async () => (await readyz()) === 503, 10_000, 50);
        readyzWhileGone = 503;
      } catch {
        readyzWhileGone = await readyz();
      }
      await sleep(1_000);

      const applied = await cluster.kubectl(['apply', '-f', CRD_FILE]);
      assert.equal(applied.code, 0, applied.stderr);
      const est = await cluster.kubectl(['wait', '--for=condition=Established', `crd/${PLURAL}.${GROUP}`, '--timeout=60s']);
      assert.equal(est.code, 0, est.stderr);
      // Creating objects right after Established may still race the new storage: retry briefly.
      const fresh: Array<{ name: string; id: string; desired: DesiredState }> = [];
      for (let i = 0; i < 10; i++) {
        for (let attempt = 0; ; attempt++) {
          try {
            fresh.push(await newResource('recreated'));
            break;
          } catch (err) {
            if (attempt > 20) throw err;
            nextInstance--; // reuse the instance id
            emu.removeInstance(`i-kube${nextInstance}`);
            await sleep(250);
          }
        }
      }
      const expected = new Map(fresh.map((r) => [r.name, r.desired]));
      const convergedMs = await allConverged(expected, 90_000);
      assert.equal(await readyz(), 200);
      const metrics = await op.metricsText();
      assert.equal(metricValue(metrics, 'ecspower_resources'), fresh.length, 'the cache holds exactly the new resources');
      const lateWrites = emu.calls.filter((c) => isWrite(c) && c.time > tDeleted && oldIds.some((id) => names(c, id)));
      assert.deepEqual(lateWrites.map((c) => c.action), [], 'an instance of a deleted resource was called');
      assert.equal(unhandled - unhandledBefore, 0, 'unhandled rejections');
      report.push(
        `[kube] CRD deleted with ${before.length} resources (cache emptied; /readyz ${readyzWhileGone} without the CRD), re-created: ${fresh.length} new resources converged in ${(convergedMs / 1000).toFixed(1)} s; no call for the ${oldIds.length} old instances`,
      );
    });
  });
});
