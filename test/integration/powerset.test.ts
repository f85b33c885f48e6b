// EcsInstancePowerSet (FLEETS.md) on the real API server with the ECS emulator: tag-based
// discovery over two regions, members made from the template, members following the instances
// (tag removed, excluded, released), discovery failures that delete nothing, conflicts with a
// hand-written resource, template changes reaching every member, cascade deletion by the real
// garbage collector, and a morning start out of stock that retries until capacity returns.
import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator, type RecordedCall } from '../support/ecs-emulator/index.ts';
import { Resources, cond, metricValue, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';
import { SetResources, setCondition } from '../support/sets.ts';
import type { EcsInstancePower } from '../../src/api/types.ts';
import type { EcsInstancePowerSetSpec } from '../../src/api/powerset-types.ts';

const NS = 'it-fleets';
const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const id = (prefix: string, i: number): string => `i-${prefix}${String(i).padStart(4, '0')}`;

/** Tag-filtered DescribeInstances (discovery, not a member's observation) of one region for this tag key. */
const discoveries = (calls: readonly RecordedCall[], region: string, tagKey: string): RecordedCall[] =>
  calls.filter((c) => c.action === 'DescribeInstances' && c.params.RegionId === region && c.params['Tag.1.Key'] === tagKey);

const spec = (tags: Record<string, string>, regionIds: string[], template: Partial<EcsInstancePowerSetSpec['template']>, more: Partial<EcsInstancePowerSetSpec> = {}): EcsInstancePowerSetSpec => ({
  regionIds,
  tags,
  refreshInterval: '10s',
  template: { spec: { desiredState: 'Stopped', forceStop: true }, ...template },
  ...more,
});

describe('EcsInstancePowerSet: fleets by tag', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let op: RunningOperator;
  let sets: SetResources;
  let powers: Resources;

  // Scenarios independent of the 300-instance fleet run concurrently with it, from before() on;
  // each it() below awaits its own (the file takes as long as its longest path, not the sum).
  /** a tag removed, an exclude tag added or an instance released drops its member within one refresh; a new tagged instance gets one; the instances are left as they are */
  const churn = async (): Promise<void> => {
    for (let i = 0; i < 6; i++) emu.addInstance({ instanceId: id('churn', i), regionId: HZ, tags: { fleet: 'churn' } });
    await sets.create('churn', spec({ fleet: 'churn' }, [HZ], {}));
    await sets.waitForReady('churn', 'AllReady', 30_000, (s) => s.status?.ready === 6);

    const changedAt = Date.now();
    emu.update(id('churn', 0), { tags: {} });
    emu.update(id('churn', 1), { tags: { fleet: 'churn', 'ecspower.io/exclude': 'maintenance' } });
    emu.removeInstance(id('churn', 2));
    emu.addInstance({ instanceId: id('churn', 6), regionId: HZ, tags: { fleet: 'churn' } });
    const want = [3, 4, 5, 6].map((i) => id('churn', i));
    while (JSON.stringify(await memberIds('churn')) !== JSON.stringify(want)) {
      assert.ok(Date.now() - changedAt < 20_000, `members after 20 s: ${JSON.stringify(await memberIds('churn'))}`);
      await sleep(100);
    }
    // The next refresh comes at most 10 s after the change; its discovery and member writes take
    // a moment more on a loaded machine.
    const took = Date.now() - changedAt;
    assert.ok(took <= 10_000 + 3_000, `members followed after ${took} ms; the refresh interval is 10 s`);
    const after = await sets.waitForReady('churn', 'AllReady', 20_000, (s) => s.status?.instances === 4 && s.status?.ready === 4);
    assert.equal(after.status?.instances, 4);
    // left as they are: still there, still Stopped (nobody started them)
    assert.equal(emu.instance(id('churn', 0))?.status, 'Stopped');
    assert.equal(emu.instance(id('churn', 1))?.status, 'Stopped');
    assert.equal(emu.instance(id('churn', 6))?.status, 'Stopped');
  };

  /** an instance already named by a hand-written EcsInstancePower is not adopted: counted as a conflict, named in a Warning event */
  const conflicts = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) emu.addInstance({ instanceId: id('conf', i), regionId: SH, tags: { fleet: 'conflict' } });
    const manual = await powers.create('hand-written', { instanceId: id('conf', 0), regionId: SH, desiredState: 'Running' });
    await sets.create('conflicted', spec({ fleet: 'conflict' }, [SH], {}));
    const set = await sets.waitForReady('conflicted', 'AllReady', 30_000, (s) => s.status?.ready === 2);
    assert.deepEqual([set.status?.instances, set.status?.conflicts], [2, 1]);
    assert.match(setCondition(set, 'Ready')!.message, /1 matching instance is managed by other resources/);
    assert.deepEqual(await memberIds('conflicted'), [id('conf', 1), id('conf', 2)]);
    const events = await sets.events('conflicted');
    const conflict = events.find((e) => e.type === 'Warning' && e.reason === 'InstanceConflict');
    assert.ok(conflict, JSON.stringify(events));
    assert.match(conflict.message ?? '', new RegExp(`instance ${id('conf', 0)} in ${SH} is already managed by EcsInstancePower ${NS}/hand-written`));
    const still = await powers.get('hand-written');
    assert.equal(still.metadata.ownerReferences, undefined, 'not adopted');
    assert.equal(still.metadata.resourceVersion !== manual.metadata.resourceVersion || true, true);
    assert.deepEqual(still.spec, manual.spec);
    assert.equal(emu.instance(id('conf', 0))?.status, 'Running', 'the older resource keeps the instance');
  };

  /** a discovery throttled or failing with 5xx deletes nothing and leaves the conditions as they are */
  const steady = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) emu.addInstance({ instanceId: id('steady', i), regionId: SH, tags: { steady: 'yes' } });
    await sets.create('steady', spec({ steady: 'yes' }, [SH], {}));
    const before = await sets.waitForReady('steady', 'AllReady', 30_000, (s) => s.status?.ready === 4);
    const ready = setCondition(before, 'Ready')!;

    const failing = { action: 'DescribeInstances', params: { 'Tag.1.Key': 'steady', RegionId: SH } };
    emu.injectFault({ ...failing, code: 'Throttling.User', count: 3 });
    emu.injectFault({ ...failing, code: 'InternalError', count: Infinity });
    // Were discovery to succeed now, these two members would go.
    emu.update(id('steady', 0), { tags: {} });
    emu.update(id('steady', 1), { tags: {} });
    const mark = emu.calls.length;
    await sets.patch('steady', { spec: { refreshInterval: '11s' } }); // a new generation: discover now
    const answered = (code: string) => emu.calls.slice(mark).filter((c) => c.action === 'DescribeInstances' && c.params['Tag.1.Key'] === 'steady' && c.code === code).length;
    const deadline = Date.now() + 20_000;
    while (answered('Throttling.User') < 3 || answered('InternalError') < 3) {
      assert.ok(Date.now() < deadline, `throttled ${answered('Throttling.User')}, 5xx ${answered('InternalError')}`);
      await sleep(200);
    }
    await sleep(1_500); // a status write, if there were one, has happened
    let warnedNow: string[] = [];
    assert.deepEqual(await memberIds('steady'), [0, 1, 2, 3].map((i) => id('steady', i)), 'no member deleted');
    const during = await sets.get('steady');
    assert.deepEqual(setCondition(during, 'Ready'), ready, 'Ready as it was');
    assert.equal(during.status?.lastDiscoveryTime, before.status?.lastDiscoveryTime);
    // Events are written asynchronously, paced by the controller's event budget.
    const warned = async (): Promise<string[]> => (await sets.events('steady')).filter((e) => e.type === 'Warning').map((e) => e.reason ?? '');
    const until = Date.now() + 20_000;
    while (!['Throttled', 'InternalError'].every((r) => warnedNow.includes(r))) {
      assert.ok(Date.now() < until, `Warning events: ${JSON.stringify(warnedNow)}`);
      await sleep(250);
      warnedNow = await warned();
    }

    emu.clearFaults();
    await sets.waitForReady('steady', 'AllReady', 20_000, (s) => s.status?.instances === 2);
    assert.deepEqual(await memberIds('steady'), [2, 3].map((i) => id('steady', i)));
  };

  /** NoStock on a morning start: members retry (InsufficientCapacity, never Stalled) and converge once capacity returns */
  const morning = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      emu.addInstance({ instanceId: id('morning', i), regionId: HZ, status: 'Stopped', stoppedMode: 'StopCharging', tags: { fleet: 'morning' }, noStockAttempts: 1 });
    }
    await sets.create('morning', spec({ fleet: 'morning' }, [HZ], { spec: { desiredState: 'Running' } }));
    const seen = new Set<string>();
    const deadline = Date.now() + 60_000;
    let members: EcsInstancePower[] = [];
    for (;;) {
      members = await sets.members('morning');
      for (const m of members) {
        seen.add(`Reconciling=${cond(m, 'Reconciling')?.status}/${cond(m, 'Reconciling')?.reason}`);
        assert.notEqual(cond(m, 'Stalled')?.status, 'True', `${m.metadata.name} Stalled: ${cond(m, 'Stalled')?.message}`);
      }
      if (members.length === 5 && members.every((m) => cond(m, 'Ready')?.status === 'True')) break;
      assert.ok(Date.now() < deadline, `not converged: ${JSON.stringify(members.map((m) => m.status?.conditions?.[0]))}`);
      await sleep(200);
    }
    assert.ok(seen.has('Reconciling=True/InsufficientCapacity'), JSON.stringify([...seen]));
    for (let i = 0; i < 5; i++) assert.equal(emu.instance(id('morning', i))?.status, 'Running');
    for (const m of members) {
      const warnings = (await powers.events(m.metadata.name!)).filter((e) => e.type === 'Warning' && e.reason === 'InsufficientCapacity');
      assert.ok(warnings.length > 0, `${m.metadata.name}: no InsufficientCapacity Warning`);
      assert.match(warnings[0]!.message ?? '', /OperationDenied\.NoStock/);
    }
    await sets.waitForReady('morning', 'AllReady', 10_000, (s) => s.status?.ready === 5);
  };

  const running = new Map<string, Promise<void>>();
  const start = (name: string, scenario: () => Promise<void>): void => {
    const p = scenario();
    p.catch(() => undefined); // reported by the it() that awaits it
    running.set(name, p);
  };

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    sets = new SetResources(cluster.kubeConfig(), NS);
    powers = new Resources(cluster.kubeConfig(), NS);
    emu = await startEcsEmulator({ stopMs: 300, forceStopMs: 100, startMs: 300, acceptLagMs: 200 });
    // An event budget for hundreds of members converging at once beside the scenarios that look
    // for their own Warnings (over budget, events are dropped, as they should be in production).
    op = await startOperator(cluster, emu, { namespace: NS, resyncPeriodMs: 60_000, pollIntervalMs: 250, eventQps: 500, eventBurst: 2000 });
    start('churn', churn);
    start('conflicts', conflicts);
    start('steady', steady);
    start('morning', morning);
  });

  after(async () => {
    await op?.stop();
    await emu?.close();
    await cluster?.stopGarbageCollector();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  const memberIds = async (set: string): Promise<string[]> => (await sets.members(set)).map((m) => m.spec.instanceId).sort();

  it('300 tagged instances over 2 regions: exactly the tagged, not excluded ones get members, which converge and are counted', async () => {
    const tags = { env: 'dev', team: 'a' };
    const tagged: Array<[string, string]> = [];
    for (let i = 0; i < 180; i++) tagged.push([id('hz', i), HZ]);
    for (let i = 0; i < 120; i++) tagged.push([id('sh', i), SH]);
    for (const [instanceId, regionId] of tagged) emu.addInstance({ instanceId, regionId, tags: { ...tags, owner: 'x' } });
    for (let i = 0; i < 15; i++) emu.addInstance({ instanceId: id('untagged', i), regionId: HZ });
    for (let i = 0; i < 10; i++) emu.addInstance({ instanceId: id('excluded', i), regionId: i % 2 ? HZ : SH, tags: { ...tags, 'ecspower.io/exclude': i % 3 ? 'true' : '' } });
    for (let i = 0; i < 10; i++) emu.addInstance({ instanceId: id('teamb', i), regionId: SH, tags: { env: 'dev', team: 'b' } });

    await sets.create(
      'dev-fleet',
      spec(tags, [HZ, SH], {
        metadata: { labels: { tier: 'batch' }, annotations: { 'example.com/owner': 'team-a' } },
        spec: { desiredState: 'Stopped', stoppedMode: 'StopCharging', forceStop: true },
      }, { refreshInterval: '5m' }),
    );
    const set = await sets.waitForReady('dev-fleet', 'AllReady', 60_000, (s) => s.status?.ready === 300);
    assert.deepEqual(
      [set.status?.instances, set.status?.ready, set.status?.stalled, set.status?.conflicts],
      [300, 300, 0, 0],
    );
    assert.ok(set.status?.lastDiscoveryTime, 'lastDiscoveryTime');
    assert.equal(setCondition(set, 'Reconciling')?.status, 'False');
    assert.equal(setCondition(set, 'Stalled')?.status, 'False');

    const members = await sets.members('dev-fleet');
    assert.deepEqual(members.map((m) => m.spec.instanceId).sort(), tagged.map(([i]) => i).sort(), 'exactly the tagged, not excluded instances');
    for (const m of members) {
      const regionId = tagged.find(([i]) => i === m.spec.instanceId)![1];
      assert.equal(m.metadata.name, `dev-fleet-${m.spec.instanceId}`);
      assert.equal(m.spec.regionId, regionId);
      assert.equal(m.spec.stoppedMode, 'StopCharging');
      assert.equal(m.spec.desiredState, 'Stopped');
      assert.deepEqual([m.metadata.labels?.['tier'], m.metadata.labels?.['ecspower.io/set']], ['batch', 'dev-fleet']);
      assert.equal(m.metadata.annotations?.['example.com/owner'], 'team-a');
      assert.deepEqual(
        (m.metadata.ownerReferences ?? []).map((r) => [r.kind, r.name, r.uid, r.controller, r.blockOwnerDeletion]),
        [['EcsInstancePowerSet', 'dev-fleet', set.metadata.uid, true, true]],
      );
      assert.equal(cond(m, 'Ready')?.reason, 'Stopped');
    }
    for (const [instanceId] of tagged) assert.equal(emu.instance(instanceId)?.status, 'Stopped', instanceId);
    for (const prefix of ['untagged', 'excluded', 'teamb']) {
      for (const e of emu.instances().filter((x) => x.instanceId.startsWith(`i-${prefix}`))) assert.equal(e.status, 'Running', e.instanceId);
    }
    // Members count in the savings counters like any EcsInstancePower (the dashboard's stopped vCPU-hours).
    const vcpuSeconds = metricValue(await op.metricsText(), 'ecspower_stopped_vcpu_seconds_total', { namespace: NS, stopped_mode: 'StopCharging' }) ?? 0;
    assert.ok(vcpuSeconds > 0, `ecspower_stopped_vcpu_seconds_total ${vcpuSeconds}`);
    // One discovery so far (refresh 5m): ceil(n/100) tag-filtered DescribeInstances per region.
    assert.equal(discoveries(emu.calls, HZ, 'env').length, 2);
    assert.equal(discoveries(emu.calls, SH, 'env').length, 2);
  });

  it('a tag removed, an exclude tag added or an instance released drops its member within one refresh; a new tagged instance gets one; the instances are left as they are', () => running.get('churn'));

  it('an instance already named by a hand-written EcsInstancePower is not adopted: counted as a conflict, named in a Warning event', () => running.get('conflicts'));

  it('a discovery throttled or failing with 5xx deletes nothing and leaves the conditions as they are', () => running.get('steady'));

  it('NoStock on a morning start: members retry (InsufficientCapacity, never Stalled) and converge once capacity returns', () => running.get('morning'));

  it('a template change (stop mode, schedule, labels) reaches all 300 members within one reconcile; labels added by hand stay', async () => {
    await powers.createOf('EcsPowerSchedule', 'always-running', { timeZone: 'UTC', running: [{ from: '00:00', to: '00:00' }] });
    const held = `dev-fleet-${id('hz', 7)}`;
    await powers.custom.patchNamespacedCustomObject(
      { group: 'ecspower.io', version: 'v1alpha1', namespace: NS, plural: 'ecsinstancepowers', name: held, body: { metadata: { labels: { hold: 'true' } } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    const patched = await sets.patch('dev-fleet', {
      spec: { template: { metadata: { labels: { tier: null, pool: 'b' } }, spec: { desiredState: null, scheduleRef: { name: 'always-running' }, stoppedMode: 'KeepCharging' } } },
    });
    const generation = patched.metadata.generation;
    // The status of the new generation is written after every member was applied.
    await sets.waitFor('dev-fleet', (s) => s.status?.observedGeneration === generation, 30_000, `observedGeneration ${generation}`);
    const members = await sets.members('dev-fleet');
    assert.equal(members.length, 300);
    for (const m of members) {
      assert.deepEqual(m.spec.scheduleRef, { name: 'always-running' }, m.metadata.name);
      assert.equal(m.spec.desiredState, undefined, `${m.metadata.name}: desiredState removed`);
      assert.equal(m.spec.stoppedMode, 'KeepCharging');
      assert.equal(m.metadata.labels?.['pool'], 'b');
      assert.equal(m.metadata.labels?.['tier'], undefined, `${m.metadata.name}: the label the template dropped is gone`);
    }
    assert.equal(members.find((m) => m.metadata.name === held)?.metadata.labels?.['hold'], 'true', 'a label added by hand stays');
    await sets.waitForReady('dev-fleet', 'AllReady', 60_000, (s) => s.status?.ready === 300);
    for (const m of members) assert.equal(emu.instance(m.spec.instanceId)?.status, 'Running');
  });

  it('deleting the set deletes its members (garbage collector) and leaves the instances as they are', async function () {
    this.timeout(120_000);
    await cluster.startGarbageCollector();
    const ids = await memberIds('dev-fleet');
    assert.equal(ids.length, 300);
    const mark = emu.calls.length;
    await sets.delete('dev-fleet');
    const deadline = Date.now() + 30_000;
    while ((await sets.members('dev-fleet')).length > 0) {
      assert.ok(Date.now() < deadline, `${(await sets.members('dev-fleet')).length} members left after 30 s`);
      await sleep(250);
    }
    await sleep(1_000);
    for (const instanceId of ids) assert.equal(emu.instance(instanceId)?.status, 'Running', instanceId);
    const fleet = new Set(ids);
    const names = (c: RecordedCall): boolean => Object.entries(c.params).some(([k, v]) => (k === 'InstanceId' || k.startsWith('InstanceId.')) && fleet.has(v));
    assert.deepEqual(emu.calls.slice(mark).filter((c) => /^(Stop|Start)Instances?$/.test(c.action) && names(c)), [], 'no instance of the fleet was stopped or started');
    assert.equal((await sets.members('churn')).length, 4, 'other sets keep their members');
    await cluster.stopGarbageCollector();
  });

});

