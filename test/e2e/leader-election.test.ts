// Leader election with real processes on a real API server: two controllers (`node dist/main.js
// --leader-elect`, the controller's ServiceAccount identity bound by the shipped roles) share one
// ECS emulator. Each signs with an AccessKey of its own, so the emulator's record tells who called.
//
// - only the leader calls ECS, and leader_election_master_status says which one it is;
// - SIGKILL of the leader in the middle of a stop: the other takes over within the lease
//   duration (+ one retry period) and finishes the work, without repeating the stop;
// - SIGTERM: the leader exits 0 within the shutdown bound and releases the Lease (the watch on it
//   sees holderIdentity ""), so the standby takes over without waiting for the lease to expire.

import assert from 'node:assert/strict';
import { Watch, type V1Lease } from '@kubernetes/client-node';
import { CONTROLLER_NAMESPACE, CONTROLLER_USER, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { Resources, metricValue } from '../support/operator-harness.ts';
import { startControllerProcess, type ControllerProcess } from '../support/process.ts';
import { DeployOverlay, eventually } from './support.ts';

const NS = 'e2e-leader';
const LEASE = 'ecs-power-controller';
const LEASE_DURATION_MS = 3_000;
const RETRY_PERIOD_MS = 500;
const SHUTDOWN_TIMEOUT_MS = 5_000;

const KEYS = {
  a: { accessKeyId: 'ak-replica-a', accessKeySecret: 'secret-a' },
  b: { accessKeyId: 'ak-replica-b', accessKeySecret: 'secret-b' },
  c: { accessKeyId: 'ak-replica-c', accessKeySecret: 'secret-c' },
} as const;
type Replica = keyof typeof KEYS;

const STOPS = ['i-le000001', 'i-le000002', 'i-le000003', 'i-le000004'];
const STARTS = ['i-le000005', 'i-le000006'];

describe('e2e: leader election between two controller processes', function () {
  this.timeout(60_000);

  let cluster: TestCluster;
  let overlay: DeployOverlay;
  let emu: EcsEmulator;
  let res: Resources;
  const procs: Partial<Record<Replica, ControllerProcess>> = {};
  const leaseHolders: Array<{ at: number; holder: string }> = [];
  let stopLeaseWatch: (() => void) | undefined;

  const start = async (r: Replica): Promise<ControllerProcess> => {
    const p = await startControllerProcess({
      name: `replica-${r}`,
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS[r].accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS[r].accessKeySecret },
      args: [
        '--kubeconfig', cluster.kubeconfigFor(CONTROLLER_USER),
        '--namespace', NS,
        '--leader-elect',
        '--leader-election-namespace', CONTROLLER_NAMESPACE,
        '--leader-election-lease-duration', `${LEASE_DURATION_MS}ms`,
        '--leader-election-renew-deadline', '2s',
        '--leader-election-retry-period', `${RETRY_PERIOD_MS}ms`,
        '--ecs-endpoint', emu.url,
        '--poll-interval', '250ms',
        '--batch-window', '20ms',
        '--ecs-timeout', '2s',
        '--shutdown-timeout', `${SHUTDOWN_TIMEOUT_MS}ms`,
      ],
    });
    procs[r] = p;
    return p;
  };
  const leaderStatus = async (p: ControllerProcess): Promise<number | undefined> =>
    metricValue(await p.metrics(), 'leader_election_master_status', { name: LEASE });
  const callsBy = (r: Replica, since = 0) => emu.calls.filter((c) => c.accessKeyId === KEYS[r].accessKeyId && c.time >= since);
  const writesFor = (id: string) =>
    emu.calls.filter(
      (c) =>
        /^(Stop|Start)Instances?$/.test(c.action) &&
        (c.params['InstanceId'] === id || Object.entries(c.params).some(([k, v]) => k.startsWith('InstanceId.') && v === id)),
    );
  const lastLeaderLine = (p: ControllerProcess): number => {
    const line = [...p.lines].reverse().find((l) => l.includes('"msg":"became leader"'));
    return line ? Date.parse((JSON.parse(line) as { ts: string }).ts) : NaN;
  };

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    overlay = await DeployOverlay.create();
    await overlay.apply(cluster); // the Lease Role and the ClusterRole, bound to the ServiceAccount
    await cluster.kubectl(['create', 'namespace', NS]);
    res = new Resources(cluster.kubeConfig(), NS);
    emu = await startEcsEmulator({ stopMs: 3_000, startMs: 3_000, accessKeys: Object.values(KEYS) });
    for (const id of STOPS) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    for (const id of STARTS) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou', status: 'Stopped' });

    // Every holderIdentity the Lease ever has, as a watch sees it.
    const controller = await new Watch(cluster.kubeConfig()).watch(
      `/apis/coordination.k8s.io/v1/namespaces/${CONTROLLER_NAMESPACE}/leases`,
      { fieldSelector: `metadata.name=${LEASE}` },
      (_type: string, obj: V1Lease) => leaseHolders.push({ at: Date.now(), holder: obj.spec?.holderIdentity ?? '' }),
      () => undefined,
    );
    stopLeaseWatch = () => controller.abort();
  });

  after(async function () {
    this.timeout(60_000);
    stopLeaseWatch?.();
    await Promise.all(Object.values(procs).map((p) => p.stop(5_000)));
    await emu?.close();
    await overlay?.remove();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  let leader: Replica;
  let follower: Replica;

  it('one of two replicas leads; leader_election_master_status is 1 there and 0 on the other; both are ready', async () => {
    const [a, b] = await Promise.all([start('a'), start('b')]);
    const first = await Promise.race([
      a.waitForLog(/"msg":"became leader"/).then(() => 'a' as const),
      b.waitForLog(/"msg":"became leader"/).then(() => 'b' as const),
    ]);
    leader = first;
    follower = first === 'a' ? 'b' : 'a';
    const L = procs[leader]!;
    const F = procs[follower]!;
    await Promise.all([L.waitForHttp(`${L.healthUrl}/readyz`, 200), F.waitForHttp(`${F.healthUrl}/readyz`, 200)]);
    await F.waitForLog(/"msg":"cache synced"/);
    await new Promise((r) => setTimeout(r, 3 * RETRY_PERIOD_MS)); // a few lease rounds
    assert.equal(await leaderStatus(L), 1);
    assert.equal(await leaderStatus(F), 0);
    assert.equal(F.lines.some((l) => l.includes('became leader')), false, 'both lead');
    const lease = await cluster.kubectl(['get', 'lease', '-n', CONTROLLER_NAMESPACE, LEASE, '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.equal(lease.stdout, (JSON.parse(await L.waitForLog(/"msg":"became leader"/)) as { identity: string }).identity);
  });

  it('only the leader calls ECS', async () => {
    for (const id of STOPS) await res.create(id.replace('i-', 'stop-'), { instanceId: id });
    for (const id of STARTS) await res.create(id.replace('i-', 'start-'), { instanceId: id, desiredState: 'Running' });
    await eventually(
      'a StopInstance or StartInstance for every instance',
      async () => [...STOPS, ...STARTS].every((id) => writesFor(id).length > 0),
      20_000,
      () => JSON.stringify(emu.calls.map((c) => [c.action, c.accessKeyId, c.code])),
    );
    assert.ok(callsBy(leader).length > 0);
    assert.deepEqual(callsBy(follower), [], 'the standby called ECS');
    for (const id of [...STOPS, ...STARTS]) {
      const w = writesFor(id);
      assert.equal(w.length, 1, `${id}: ${JSON.stringify(w)}`);
      assert.equal(w[0]!.accessKeyId, KEYS[leader].accessKeyId);
    }
  });

  it('SIGKILL of the leader mid-transition: the other takes over within the lease duration and finishes the work', async function () {
    this.timeout(40_000);
    // The instances are Stopping/Starting for 3 s; nothing is Ready yet.
    for (const id of STOPS) assert.equal(emu.instance(id)?.status, 'Stopping');
    const L = procs[leader]!;
    const F = procs[follower]!;
    const killedAt = Date.now();
    L.kill('SIGKILL');
    assert.deepEqual(await L.exited, { code: null, signal: 'SIGKILL' });

    await F.waitForLog(/"msg":"became leader"/, 10_000);
    const tookOverAfter = lastLeaderLine(F) - killedAt;
    // The lease counts as expired one lease duration after the standby last saw it renewed (at
    // most a retry period before the kill); it notices on its next retry.
    assert.ok(tookOverAfter <= LEASE_DURATION_MS + 2 * RETRY_PERIOD_MS + 1_000, `took over after ${tookOverAfter} ms`);
    assert.equal(await leaderStatus(F), 1);
    this.test!.title += ` [took over ${tookOverAfter} ms after SIGKILL; lease ${LEASE_DURATION_MS} ms]`;

    for (const id of STOPS) await res.waitForReady(id.replace('i-', 'stop-'), 'Stopped', 15_000);
    for (const id of STARTS) await res.waitForReady(id.replace('i-', 'start-'), 'Running', 15_000);
    // The new leader observed the transitions in progress and did not repeat them.
    for (const id of [...STOPS, ...STARTS]) assert.equal(writesFor(id).length, 1, `${id} acted on twice`);
    assert.ok(callsBy(follower, killedAt).some((c) => /^Describe/.test(c.action)), 'the new leader observed the instances');
    assert.deepEqual(callsBy(leader, killedAt + 100), [], 'the killed leader still called ECS');
    const lease = await cluster.kubectl(['get', 'lease', '-n', CONTROLLER_NAMESPACE, LEASE, '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.equal(lease.stdout, (JSON.parse(await F.waitForLog(/"msg":"became leader"/)) as { identity: string }).identity);
  });

  it('SIGTERM: the leader exits 0 within the shutdown bound and releases the Lease; the standby takes over at once', async function () {
    this.timeout(40_000);
    const L = procs[follower]!; // the leader since the previous test
    const S = await start('c');
    await S.waitForLog(/"msg":"cache synced"/);
    await new Promise((r) => setTimeout(r, 2 * RETRY_PERIOD_MS));
    assert.equal(await leaderStatus(S), 0);
    const leaderIdentity = (JSON.parse(await L.waitForLog(/"msg":"became leader"/)) as { identity: string }).identity;

    const termAt = Date.now();
    L.kill('SIGTERM');
    const exit = await Promise.race([L.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), SHUTDOWN_TIMEOUT_MS + 5_000))]);
    const exitedAfter = Date.now() - termAt;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${L.tail()}`);
    assert.ok(exitedAfter <= SHUTDOWN_TIMEOUT_MS + 2_000, `exited ${exitedAfter} ms after SIGTERM`);

    await S.waitForLog(/"msg":"became leader"/, 10_000);
    const tookOverAfter = lastLeaderLine(S) - termAt;
    // Without the release it would wait for the lease to expire (>= LEASE_DURATION_MS after the last renewal).
    assert.ok(tookOverAfter < LEASE_DURATION_MS, `took over ${tookOverAfter} ms after SIGTERM`);
    assert.equal(await leaderStatus(S), 1);
    this.test!.title += ` [exit 0 after ${exitedAfter} ms; standby leading ${tookOverAfter} ms after SIGTERM]`;

    const holders = leaseHolders.filter((h) => h.at >= termAt).map((h) => h.holder);
    const released = holders.indexOf('');
    assert.ok(released >= 0, `the Lease was never released: holders seen after SIGTERM ${JSON.stringify(holders)}`);
    const newIdentity = (JSON.parse(await S.waitForLog(/"msg":"became leader"/)) as { identity: string }).identity;
    assert.ok(holders.slice(released).includes(newIdentity), JSON.stringify(holders));
    assert.ok(!holders.slice(released).includes(leaderIdentity), 'the old leader renewed after releasing');
  });
});
