// The EcsPowerSchedule and EcsPowerOverride controllers on the real API server, in the operator
// (test/support/operator-harness.ts): the status a user reads with kubectl get, written when the
// spec changes and at each transition, never polled in between.
import assert from 'node:assert/strict';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../src/api/types.ts';
import type { Condition } from '../../src/api/types.ts';
import { OVERRIDE_PLURAL, SCHEDULE_PLURAL } from '../../src/api/schedule-types.ts';
import type { EcsPowerOverride, EcsPowerOverrideSpec, EcsPowerSchedule, EcsPowerScheduleSpec } from '../../src/api/schedule-types.ts';
import { evaluate } from '../../src/schedule/evaluate.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { eventually } from '../support/eventually.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { Resources, metricValue, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';

const NS = 'it-schedule-controller';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
/** A whole second at least `ms` from now. */
const secondsAhead = (ms: number): number => Math.ceil((Date.now() + ms) / 1000) * 1000;

type Kind = { plural: string; kind: string };
const SCHEDULE: Kind = { plural: SCHEDULE_PLURAL, kind: 'EcsPowerSchedule' };
const OVERRIDE: Kind = { plural: OVERRIDE_PLURAL, kind: 'EcsPowerOverride' };
type Obj = EcsPowerSchedule | EcsPowerOverride;
const cond = (o: Obj | undefined, type: Condition['type']): Condition | undefined => o?.status?.conditions?.find((c) => c.type === type);

describe('schedule and override controllers against kube-apiserver', function () {
  this.timeout(30_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let op: RunningOperator;
  let custom: CustomObjectsApi;
  let powers: Resources;

  const create = async (k: Kind, name: string, spec: EcsPowerScheduleSpec | EcsPowerOverrideSpec): Promise<void> => {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: k.plural, body: { apiVersion: `${GROUP}/${VERSION}`, kind: k.kind, metadata: { name }, spec } });
  };
  const get = async <T extends Obj>(k: Kind, name: string): Promise<T> => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: k.plural, name })) as T;
  const waitFor = <T extends Obj>(k: Kind, name: string, what: string, predicate: (o: T) => boolean, timeoutMs = 10_000): Promise<T> => {
    let last: T | undefined;
    return eventually(
      `${what} on ${k.kind} ${name}`,
      async () => {
        last = await get<T>(k, name);
        return predicate(last) ? last : undefined;
      },
      timeoutMs,
      () => `last status: ${JSON.stringify(last?.status)}`,
      100,
    );
  };
  const ready = (reason: string) => (o: Obj) => cond(o, 'Ready')?.status === 'True' && cond(o, 'Ready')?.reason === reason && o.status?.observedGeneration === o.metadata.generation;
  const reconciles = async (controller: string): Promise<number> => metricValue(await op.metricsText(), 'controller_runtime_reconcile_total', { controller }) ?? 0;
  const statusWrites = async (): Promise<number> => metricValue(await op.metricsText(), 'ecspower_status_writes_total', { result: 'ok' }) ?? 0;

  /**
   * Polls until `field` reads `want`; fails if it read `want` in an answer received before `at`
   * (the status was written too early) or not within `withinMs` after `at`. Returns when it saw it.
   */
  async function flipsAt<T extends Obj>(k: Kind, name: string, field: (o: T) => unknown, want: unknown, at: number, withinMs = 5_000): Promise<number> {
    for (;;) {
      const o = await get<T>(k, name);
      const received = Date.now();
      if (field(o) === want) {
        assert.ok(received >= at, `${name} read ${String(want)} at ${iso(received)}, ${at - received} ms before ${iso(at)}`);
        return received;
      }
      assert.ok(received <= at + withinMs, `${name} still not ${String(want)} ${received - at} ms after ${iso(at)}: ${JSON.stringify(o.status)}`);
      await sleep(50);
    }
  }

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    emu = await startEcsEmulator({ stopMs: 200, startMs: 200 });
    op = await startOperator(cluster, emu, { namespace: NS });
    custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    powers = new Resources(cluster.kubeConfig(), NS);
  });

  after(async () => {
    await op?.stop();
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it('a valid schedule gets Ready Active, the desired state now and the next transition', async () => {
    const spec: EcsPowerScheduleSpec = { timeZone: 'Asia/Shanghai', running: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '08:00', to: '20:00' }] };
    await create(SCHEDULE, 'office-hours', spec);
    const s = await waitFor<EcsPowerSchedule>(SCHEDULE, 'office-hours', 'Ready Active', ready('Active'));
    const expected = evaluate(spec, Date.now());
    assert.equal(s.status?.desiredState, expected.desiredState);
    assert.deepEqual(s.status?.nextTransition, { time: iso(Math.ceil(expected.next!.time.getTime() / 1000) * 1000), desiredState: expected.next!.desiredState });
    for (const type of ['Ready', 'Reconciling', 'Stalled'] as const) assert.equal(cond(s, type)?.observedGeneration, 1);
    assert.deepEqual([cond(s, 'Reconciling')?.status, cond(s, 'Stalled')?.status], ['False', 'False']);
    const columns = await cluster.kubectl(['get', 'ecsschedule', 'office-hours', '-n', NS, '--no-headers']);
    assert.match(columns.stdout, new RegExp(`^office-hours\\s+Asia/Shanghai\\s+${expected.desiredState}\\s+${s.status!.nextTransition!.time}\\s+True\\s+`));
    // gone, so that its own transitions cannot count in the next test's status writes
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: SCHEDULE_PLURAL, name: 'office-hours' });
  });

  it('an exception beginning a few seconds ahead flips status.desiredState at its start and its end, with nothing in between', async () => {
    const from = secondsAhead(3_000);
    const to = from + 2_000;
    await create(SCHEDULE, 'patch-window', { timeZone: 'UTC', exceptions: [{ from: iso(from), to: iso(to), desiredState: 'Running', reason: 'patching' }] });
    const s = await waitFor<EcsPowerSchedule>(SCHEDULE, 'patch-window', 'Ready Active', ready('Active'));
    assert.equal(s.status?.desiredState, 'Stopped');
    assert.deepEqual(s.status?.nextTransition, { time: iso(from), desiredState: 'Running' });
    const reconcilesBefore = await reconciles('ecspowerschedule');
    const writesBefore = await statusWrites();

    const desired = (o: EcsPowerSchedule) => o.status?.desiredState;
    await sleep(Math.max(0, from - Date.now() - 300));
    assert.equal(await reconciles('ecspowerschedule'), reconcilesBefore, 'no reconcile before the transition (no polling)');
    await flipsAt(SCHEDULE, 'patch-window', desired, 'Running', from);
    const running = await get<EcsPowerSchedule>(SCHEDULE, 'patch-window');
    assert.deepEqual(running.status?.nextTransition, { time: iso(to), desiredState: 'Stopped' });
    assert.equal(await reconciles('ecspowerschedule'), reconcilesBefore + 1, 'one reconcile at the transition');
    assert.equal(await statusWrites(), writesBefore + 1, 'one status write at the transition');

    await flipsAt(SCHEDULE, 'patch-window', desired, 'Stopped', to);
    const after = await get<EcsPowerSchedule>(SCHEDULE, 'patch-window');
    assert.equal(after.status?.nextTransition, undefined, 'the exception is past: the state never changes again');
    assert.equal(cond(after, 'Ready')?.lastTransitionTime, cond(s, 'Ready')?.lastTransitionTime, 'Ready stayed True');
    assert.equal(await reconciles('ecspowerschedule'), reconcilesBefore + 2);
  });

  it('an unknown time zone is Stalled InvalidSpec naming spec.timeZone; fixing it makes it Active', async () => {
    await create(SCHEDULE, 'mars', { timeZone: 'Mars/Olympus', running: [{ from: '08:00', to: '20:00' }] });
    const stalled = await waitFor<EcsPowerSchedule>(SCHEDULE, 'mars', 'Stalled InvalidSpec', (o) => cond(o, 'Stalled')?.status === 'True' && cond(o, 'Stalled')?.reason === 'InvalidSpec');
    assert.match(cond(stalled, 'Stalled')!.message, /^spec\.timeZone: unknown time zone "Mars\/Olympus"/);
    assert.deepEqual([cond(stalled, 'Ready')?.status, cond(stalled, 'Ready')?.reason, cond(stalled, 'Reconciling')?.status], ['False', 'InvalidSpec', 'False']);
    assert.equal(stalled.status?.desiredState, undefined);

    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: SCHEDULE_PLURAL, name: 'mars', body: { spec: { timeZone: 'Asia/Shanghai' } } }, mergePatch);
    const fixed = await waitFor<EcsPowerSchedule>(SCHEDULE, 'mars', 'Ready Active', ready('Active'));
    assert.equal(fixed.metadata.generation, 2);
    assert.equal(cond(fixed, 'Stalled')?.status, 'False');
    assert.ok(fixed.status?.desiredState && fixed.status.nextTransition, JSON.stringify(fixed.status));
  });

  it('an override is Active with matched counting the labelled EcsInstancePowers; a label change moves matched', async () => {
    for (const [name, app] of [['batch-1', 'batch'], ['batch-2', 'batch'], ['web-1', 'web']] as const) {
      const instanceId = `i-ovr${name.replace('-', '')}`;
      emu.addInstance({ instanceId, regionId: 'cn-hangzhou' });
      await powers.create(name, { instanceId }, { app });
    }
    await create(OVERRIDE, 'wake-batch', { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: iso(secondsAhead(3600_000)), reason: 'INC-1234' });
    const active = await waitFor<EcsPowerOverride>(OVERRIDE, 'wake-batch', 'Active, matched 2', (o) => ready('Active')(o) && o.status?.matched === 2);
    assert.match(cond(active, 'Ready')!.message, /Running until .*INC-1234/);

    const relabel = (name: string, labels: Record<string, string | null>) =>
      custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'ecsinstancepowers', name, body: { metadata: { labels } } }, mergePatch);
    await relabel('web-1', { app: 'batch' });
    await waitFor<EcsPowerOverride>(OVERRIDE, 'wake-batch', 'matched 3', (o) => o.status?.matched === 3);
    await relabel('batch-1', { app: null });
    await waitFor<EcsPowerOverride>(OVERRIDE, 'wake-batch', 'matched 2', (o) => o.status?.matched === 2);
    await powers.delete('batch-2');
    await waitFor<EcsPowerOverride>(OVERRIDE, 'wake-batch', 'matched 1', (o) => o.status?.matched === 1);
    const columns = await cluster.kubectl(['get', 'ecsoverride', 'wake-batch', '-n', NS, '--no-headers']);
    assert.match(columns.stdout, /^wake-batch\s+Running\s+\S+\s+1\s+True\s+Active\s+/);
  });

  it('an override expires by itself at until: Ready True Expired, matched 0', async () => {
    const until = secondsAhead(2_000);
    await create(OVERRIDE, 'short', { selector: {}, desiredState: 'Stopped', until: iso(until) });
    const active = await waitFor<EcsPowerOverride>(OVERRIDE, 'short', 'Active', ready('Active'));
    assert.ok((active.status?.matched ?? 0) >= 1, JSON.stringify(active.status));
    const reason = (o: EcsPowerOverride) => cond(o, 'Ready')?.reason;
    await flipsAt(OVERRIDE, 'short', reason, 'Expired', until);
    const expired = await get<EcsPowerOverride>(OVERRIDE, 'short');
    assert.deepEqual([cond(expired, 'Ready')?.status, expired.status?.matched, cond(expired, 'Stalled')?.status], ['True', 0, 'False']);
  });

  it('an override beyond --max-override-duration is Stalled InvalidSpec; ecspower_overrides_active counts only those in force', async () => {
    await create(OVERRIDE, 'too-long', { selector: {}, desiredState: 'Running', until: iso(secondsAhead(169 * 3600_000)) });
    const stalled = await waitFor<EcsPowerOverride>(OVERRIDE, 'too-long', 'Stalled InvalidSpec', (o) => cond(o, 'Stalled')?.status === 'True' && cond(o, 'Stalled')?.reason === 'InvalidSpec');
    assert.match(cond(stalled, 'Stalled')!.message, /^spec\.until: .*maximum override duration \(168h\)/);
    assert.deepEqual([cond(stalled, 'Ready')?.status, stalled.status?.matched], ['False', 0]);
    // wake-batch is in force; short has expired; too-long never takes effect
    assert.equal(metricValue(await op.metricsText(), 'ecspower_overrides_active'), 1);
  });
});
