// EcsInstancePowers on an EcsPowerSchedule, on the real API server with the ECS emulator: the
// controller acts at a transition (never before it, within 5 s after it) without polling for it,
// in UTC and in Asia/Shanghai, and a missing schedule stalls the resource until it is created.
import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator, type RecordedCall } from '../support/ecs-emulator/index.ts';
import { Resources, cond, metricValue, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';

const NS = 'it-schedules';
/** Acting within this long after a transition instant is what SCHEDULES.md asks. */
const WITHIN_MS = 5_000;

const writesFor = (calls: readonly RecordedCall[], id: string, action: RegExp): RecordedCall[] =>
  calls.filter((c) => action.test(c.action) && c.code === 'OK' && Object.entries(c.params).some(([k, v]) => (k === 'InstanceId' || k.startsWith('InstanceId.')) && v === id));

/** `HH:MM` of an instant in a time zone. */
function wallClock(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

describe('EcsInstancePower on an EcsPowerSchedule', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let op: RunningOperator;
  let res: Resources;

  /** Asia/Shanghai: started in before() so that its wait for the next minute overlaps the other tests. */
  async function shanghaiOpening(): Promise<void> {
    emu.addInstance({ instanceId: 'i-shanghai1', regionId: 'cn-hangzhou', status: 'Stopped' });
    let opening = Math.ceil(Date.now() / 60_000) * 60_000;
    if (opening - Date.now() < 10_000) opening += 60_000;
    const from = wallClock(opening, 'Asia/Shanghai');
    const to = wallClock(opening + 60 * 60_000, 'Asia/Shanghai');
    await res.createOf('EcsPowerSchedule', 'shanghai-office', { timeZone: 'Asia/Shanghai', running: [{ from, to }] });
    await res.create('shanghai-box', { instanceId: 'i-shanghai1', scheduleRef: { name: 'shanghai-office' } });
    const before = await res.waitForReady('shanghai-box', 'Stopped', 10_000);
    assert.equal(before.status?.nextTransitionTime, new Date(opening).toISOString().replace('.000Z', 'Z'));
    await res.waitForReady('shanghai-box', 'Running', opening - Date.now() + 15_000);
    const starts = writesFor(emu.calls, 'i-shanghai1', /^StartInstances?$/);
    assert.equal(starts.length, 1);
    assert.ok(starts[0]!.time >= opening && starts[0]!.time <= opening + WITHIN_MS, `started ${starts[0]!.time - opening} ms after ${from} Shanghai`);
  }

  let shanghai: Promise<void>;

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    res = new Resources(cluster.kubeConfig(), NS);
    emu = await startEcsEmulator({ stopMs: 500, startMs: 500 });
    // A resync far away: only the requeue at the transition can make it act in time.
    op = await startOperator(cluster, emu, { namespace: NS, resyncPeriodMs: 10 * 60_000 });
    shanghai = shanghaiOpening();
    shanghai.catch(() => undefined); // reported by its test
  });

  after(async () => {
    await op?.stop();
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it('an exception a few seconds ahead stops the instances at its start (not before) and starts them again at its end', async () => {
    const ids = ['i-sched01', 'i-sched02', 'i-sched03'];
    for (const id of ids) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    const start = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
    const end = start + 8_000;
    await res.createOf('EcsPowerSchedule', 'always-but-maintenance', {
      timeZone: 'UTC',
      running: [{ from: '00:00', to: '00:00' }],
      exceptions: [{ from: new Date(start).toISOString(), to: new Date(end).toISOString(), desiredState: 'Stopped', reason: 'maintenance' }],
    });
    for (const id of ids) await res.create(id.replace('i-', 'box-'), { instanceId: id, scheduleRef: { name: 'always-but-maintenance' } });
    for (const id of ids) {
      const o = await res.waitForReady(id.replace('i-', 'box-'), 'Running', 10_000);
      assert.equal(o.status?.desiredState, 'Running');
      assert.equal(o.status?.desiredStateSource, 'EcsPowerSchedule/always-but-maintenance');
      assert.equal(o.status?.nextTransitionTime, new Date(start).toISOString().replace('.000Z', 'Z'));
    }
    const reconcilesBefore = metricValue(await op.metricsText(), 'controller_runtime_reconcile_total', { controller: 'ecsinstancepower' }) ?? 0;

    for (const id of ids) await res.waitForReady(id.replace('i-', 'box-'), 'Stopped', end - Date.now());
    for (const id of ids) {
      const stops = writesFor(emu.calls, id, /^StopInstances?$/);
      assert.equal(stops.length, 1, `${id}: ${stops.length} stop calls`);
      assert.ok(stops[0]!.time >= start, `${id} was stopped ${start - stops[0]!.time} ms before the exception began`);
      assert.ok(stops[0]!.time <= start + WITHIN_MS, `${id} was stopped ${stops[0]!.time - start} ms after the exception began`);
    }
    // Between the first pass and the transition nothing polled: a handful of reconciles, not one per poll interval.
    const reconcilesAt = metricValue(await op.metricsText(), 'controller_runtime_reconcile_total', { controller: 'ecsinstancepower' }) ?? 0;
    assert.ok(reconcilesAt - reconcilesBefore <= ids.length * 8, `${reconcilesAt - reconcilesBefore} reconciles around one transition`);

    for (const id of ids) await res.waitForReady(id.replace('i-', 'box-'), 'Running', end - Date.now() + 15_000);
    for (const id of ids) {
      const starts = writesFor(emu.calls, id, /^StartInstances?$/);
      assert.equal(starts.length, 1, `${id}: ${starts.length} start calls`);
      assert.ok(starts[0]!.time >= end && starts[0]!.time <= end + WITHIN_MS, `${id} started ${starts[0]!.time - end} ms after the exception ended`);
    }
    // Events are aggregated per (resource, type, reason): both transitions are one Event.
    const events = await res.events('box-sched01');
    const transitions = events.filter((e) => e.reason === 'ScheduleTransition');
    assert.equal(transitions.length, 1, JSON.stringify(events));
    assert.match(transitions[0]!.message ?? '', /^from (Running to Stopped|Stopped to Running) \(EcsPowerSchedule\/always-but-maintenance\)$/);
    const latency = metricValue(await op.metricsText(), 'ecspower_schedule_transition_seconds_count');
    assert.ok((latency ?? 0) >= 2 * ids.length, `transition latency observed ${latency} times`);
  });

  it('a missing schedule gives ScheduleNotFound and no ECS call; creating it clears it', async () => {
    emu.addInstance({ instanceId: 'i-schedmissing', regionId: 'cn-hangzhou' });
    await res.create('orphan', { instanceId: 'i-schedmissing', scheduleRef: { name: 'not-yet' } });
    const stalled = await res.waitForReason('orphan', 'Stalled', 'True', 'ScheduleNotFound', 10_000);
    assert.match(cond(stalled, 'Ready')?.message ?? '', /^ScheduleNotFound: EcsPowerSchedule it-schedules\/not-yet does not exist/);
    assert.equal(emu.calls.filter((c) => Object.values(c.params).some((v) => v.includes('i-schedmissing'))).length, 0);
    const createdAt = Date.now();
    await res.createOf('EcsPowerSchedule', 'not-yet', { timeZone: 'UTC', running: [] });
    await res.waitForReady('orphan', 'Stopped', 10_000);
    // Within one poll interval and a stop: the schedule watch requeued it, the slow terminal re-check did not.
    assert.ok(Date.now() - createdAt < 8_000, `cleared ${Date.now() - createdAt} ms after the schedule was created`);
  });

  it('an invalid schedule gives InvalidSchedule naming the field', async () => {
    emu.addInstance({ instanceId: 'i-schedinvalid', regionId: 'cn-hangzhou' });
    await res.createOf('EcsPowerSchedule', 'on-mars', { timeZone: 'Mars/Olympus_Mons', running: [] });
    await res.create('martian', { instanceId: 'i-schedinvalid', scheduleRef: { name: 'on-mars' } });
    const stalled = await res.waitForReason('martian', 'Stalled', 'True', 'InvalidSchedule', 10_000);
    assert.match(cond(stalled, 'Ready')?.message ?? '', /spec\.timeZone/);
    await sleep(500);
    assert.equal(emu.instance('i-schedinvalid')?.status, 'Running');
  });

  it('an override wakes a stopped group, then expires by itself; the group stops again', async () => {
    const ids = ['i-wake01', 'i-wake02', 'i-wake03'];
    for (const id of ids) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou', status: 'Stopped' });
    emu.addInstance({ instanceId: 'i-wake04', regionId: 'cn-hangzhou', status: 'Stopped' });
    for (const id of ids) await res.create(id.replace('i-', ''), { instanceId: id, desiredState: 'Stopped' }, { group: 'night' });
    await res.create('wake04', { instanceId: 'i-wake04', desiredState: 'Stopped' }, { group: 'day' });
    for (const id of ids) await res.waitForReady(id.replace('i-', ''), 'Stopped', 10_000);

    const until = Math.ceil((Date.now() + 12_000) / 1000) * 1000;
    await res.createOf('EcsPowerOverride', 'inc-4711', {
      selector: { matchLabels: { group: 'night' } },
      desiredState: 'Running',
      until: new Date(until).toISOString(),
      reason: 'INC-4711',
    });
    for (const id of ids) {
      const o = await res.waitForReady(id.replace('i-', ''), 'Running', 10_000);
      assert.equal(o.status?.desiredStateSource, 'EcsPowerOverride/inc-4711');
    }
    assert.equal(emu.instance('i-wake04')?.status, 'Stopped', 'the override selected a resource outside its selector');
    const active = await res.getOf<{ status?: { matched?: number } }>('EcsPowerOverride', 'inc-4711');
    assert.equal(active.status?.matched, ids.length);

    for (const id of ids) await res.waitForReady(id.replace('i-', ''), 'Stopped', until - Date.now() + 15_000);
    for (const id of ids) {
      const stops = writesFor(emu.calls, id, /^StopInstances?$/);
      assert.equal(stops.length, 1, `${id}: ${stops.length} stops`);
      assert.ok(stops[0]!.time >= until && stops[0]!.time <= until + WITHIN_MS, `${id} stopped ${stops[0]!.time - until} ms after the override ended`);
    }
    const reasons = (await res.events('wake01')).map((e) => e.reason);
    assert.ok(reasons.includes('OverrideStarted') && reasons.includes('OverrideEnded'), reasons.join(', '));
  });

  it('deleting an override ends it at once', async () => {
    emu.addInstance({ instanceId: 'i-early01', regionId: 'cn-hangzhou', status: 'Stopped' });
    await res.create('early01', { instanceId: 'i-early01', desiredState: 'Stopped' }, { group: 'early' });
    await res.waitForReady('early01', 'Stopped', 10_000);
    await res.createOf('EcsPowerOverride', 'long-one', {
      selector: { matchLabels: { group: 'early' } },
      desiredState: 'Running',
      until: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await res.waitForReady('early01', 'Running', 10_000);
    const deletedAt = Date.now();
    await res.deleteOf('EcsPowerOverride', 'long-one');
    const back = await res.waitForReady('early01', 'Stopped', 15_000);
    assert.equal(back.status?.desiredStateSource, 'spec');
    const stop = writesFor(emu.calls, 'i-early01', /^StopInstances?$/)[0];
    assert.ok(stop && stop.time - deletedAt < WITHIN_MS, `stopped ${stop ? stop.time - deletedAt : '-'} ms after the override was deleted`);
  });

  it('Asia/Shanghai: a window that opens in the next minute starts the instance at its opening', async () => {
    await shanghai;
  });
});
