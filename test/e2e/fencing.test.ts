// Fencing: a leader whose path to the API server hangs (a half-open connection: no bytes, no
// RST) must stop acting before the standby takes over, or two writers act on different specs.
//
// Two controller processes with the shipped RBAC share one ECS emulator, each signing with an
// AccessKey of its own so the emulator's record tells who called. Replica A reaches the API server
// through a TCP proxy that the test freezes once A leads and the fleet is stopped. B takes the
// Lease when it expires; the test then flips every spec to Running. A still holds a cache that
// says Stopped and resyncs every second: without fencing it stops the instances B starts. With
// it, A sends no ECS write after the takeover, exits non-zero, and every instance ends Running.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROLLER_NAMESPACE, CONTROLLER_USER, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator, type RecordedCall } from '../support/ecs-emulator/index.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { Resources } from '../support/operator-harness.ts';
import { startControllerProcess, type ControllerProcess } from '../support/process.ts';
import { TcpProxy, viaPort } from '../support/tcp-proxy.ts';
import { DeployOverlay, eventually, sleep } from './support.ts';

const NS = 'e2e-fencing';
const LEASE = 'ecs-power-fencing';
const LEASE_DURATION_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_PERIOD_MS = 250;
/** max(2 × --poll-interval, 10 s): how long a replica trusts a call ECS accepted before acting again. */
const REQUEST_GRACE_MS = 10_000;
const INSTANCES = ['i-fence0001', 'i-fence0002', 'i-fence0003', 'i-fence0004'];
const KEYS = {
  a: { accessKeyId: 'ak-fence-a', accessKeySecret: 'secret-a' },
  b: { accessKeyId: 'ak-fence-b', accessKeySecret: 'secret-b' },
} as const;

const isWrite = (c: RecordedCall): boolean => /^(Stop|Start)Instances?$/.test(c.action);

describe('e2e: fencing a leader whose API server connection hangs', function () {
  this.timeout(90_000);

  let cluster: TestCluster;
  let overlay: DeployOverlay;
  let emu: EcsEmulator;
  let proxy: TcpProxy;
  let res: Resources;
  const procs: ControllerProcess[] = [];

  const start = async (replica: 'a' | 'b', kubeconfig: string): Promise<ControllerProcess> => {
    const p = await startControllerProcess({
      name: `fencing-${replica}`,
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS[replica].accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS[replica].accessKeySecret },
      args: [
        '--kubeconfig', kubeconfig,
        '--namespace', NS,
        '--leader-elect',
        '--leader-election-id', LEASE,
        '--leader-election-namespace', CONTROLLER_NAMESPACE,
        '--leader-election-lease-duration', `${LEASE_DURATION_MS}ms`,
        '--leader-election-renew-deadline', `${RENEW_DEADLINE_MS}ms`,
        '--leader-election-retry-period', `${RETRY_PERIOD_MS}ms`,
        '--ecs-endpoint', emu.url,
        '--poll-interval', '250ms',
        '--resync-period', '1s',
        '--batch-window', '20ms',
        '--ecs-timeout', '2s',
      ],
    });
    procs.push(p);
    return p;
  };

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    overlay = await DeployOverlay.create();
    await overlay.apply(cluster);
    await cluster.kubectl(['create', 'namespace', NS]);
    res = new Resources(cluster.kubeConfig(), NS);
    emu = await startEcsEmulator({ stopMs: 500, startMs: 500, accessKeys: Object.values(KEYS) });
    for (const id of INSTANCES) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    proxy = new TcpProxy(Number(new URL(cluster.server).port));
    await proxy.listen();
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(procs.map((p) => p.stop(5_000)));
    await proxy?.close();
    await emu?.close();
    await overlay?.remove();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it('the frozen leader sends no ECS write after the takeover, exits non-zero, and the new leader converges the new specs', async function () {
    const frozenConfig = join(overlay.dir, 'via-proxy.kubeconfig');
    await writeFile(frozenConfig, viaPort(cluster.kubeConfig(CONTROLLER_USER), proxy.port).exportConfig());

    const a = await start('a', frozenConfig);
    await a.waitForLog(/"msg":"became leader"/, 20_000);
    const b = await start('b', cluster.kubeconfigFor(CONTROLLER_USER));
    await b.waitForLog(/"msg":"cache synced"/, 20_000);

    for (const id of INSTANCES) await res.create(id.replace('i-', 'fence-'), { instanceId: id, desiredState: 'Stopped' });
    for (const id of INSTANCES) await res.waitForReady(id.replace('i-', 'fence-'), 'Stopped', 20_000);
    assert.ok(emu.calls.some((c) => isWrite(c) && c.accessKeyId === KEYS.a.accessKeyId), 'replica A did not do the stopping');
    assert.equal(b.lines.some((l) => l.includes('became leader')), false, 'B leads already');

    const frozenAt = Date.now();
    proxy.freeze();
    await b.waitForLog(/"msg":"became leader"/, 15_000);
    const takeoverAt = Date.now();

    // A user flips the specs; only B can see it (A's watch is frozen too).
    for (const id of INSTANCES) await res.patchSpec(id.replace('i-', 'fence-'), { desiredState: 'Running' });
    for (const id of INSTANCES) await res.waitForReady(id.replace('i-', 'fence-'), 'Running', 20_000);
    // A resyncs every second from a cache that says Stopped: give it several rounds to misbehave,
    // past the 10 s in which it trusts its own accepted stops (a describe may lag behind them).
    const lastStopByA = Math.max(...emu.calls.filter((c) => isWrite(c) && c.accessKeyId === KEYS.a.accessKeyId).map((c) => c.time));
    await sleep(Math.max(4_000, lastStopByA + REQUEST_GRACE_MS + 3_000 - Date.now()));

    const aWrites = emu.calls.filter((c) => isWrite(c) && c.accessKeyId === KEYS.a.accessKeyId && c.time >= takeoverAt);
    assert.deepEqual(aWrites.map((c) => [c.action, c.code]), [], `the frozen leader called ECS after the takeover:\n${a.tail(30)}`);
    for (const id of INSTANCES) assert.equal(emu.instance(id)?.status, 'Running', `${id} was stopped again`);

    const exit = await Promise.race([a.exited, sleep(5_000).then(() => undefined)]);
    assert.ok(exit && exit.code !== 0 && exit.code !== null, `the frozen leader is still running or exited 0: ${JSON.stringify(exit)}\n${a.tail(20)}`);
    const fencedAfter = Date.parse((JSON.parse(await a.waitForLog(/"msg":"lost leadership"/)) as { ts: string }).ts) - frozenAt;
    assert.ok(fencedAfter <= RENEW_DEADLINE_MS + 1_000, `A gave up leadership ${fencedAfter} ms after the freeze`);
    await eventually('B still leads and is healthy', async () => (await b.get(`${b.healthUrl}/healthz`)).status === 200, 5_000);
    this.test!.title += ` [A fenced ${fencedAfter} ms after the freeze; B led ${takeoverAt - frozenAt} ms after it]`;
  });
});
