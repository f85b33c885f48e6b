// The effective desired state of an EcsInstancePower (SCHEDULES.md, "EcsInstancePower, amended"),
// the events of its changes, and the stopped-time meter: pure, table-driven, injected clock.
import assert from 'node:assert/strict';
import type { EcsPowerSchedule } from '../../src/api/schedule-types.ts';
import type { EcsInstancePowerSpec, EcsInstancePowerStatus } from '../../src/api/types.ts';
import { effectiveDesiredState, type OverrideInForce } from '../../src/controllers/instancepower/effective.ts';
import { transitionEvents } from '../../src/controllers/instancepower/events.ts';
import { StoppedTimeMeter } from '../../src/controllers/instancepower/savings.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import { evaluate, validateSchedule } from '../../src/schedule/evaluate.ts';
import { FakeClock } from '../support/fake-clock.ts';

const NOW = Date.parse('2026-12-02T10:00:00Z'); // Wednesday, 18:00 in Shanghai
const spec = (extra: Partial<EcsInstancePowerSpec>): EcsInstancePowerSpec => ({ instanceId: 'i-a', regionId: 'cn-hangzhou', ...extra });
const schedule = (running: Array<{ from: string; to: string }>): EcsPowerSchedule => ({
  apiVersion: 'ecspower.io/v1alpha1',
  kind: 'EcsPowerSchedule',
  metadata: { name: 'office', namespace: 'team-a' },
  spec: { timeZone: 'Asia/Shanghai', running },
});
const evaluateSchedule = (s: EcsPowerSchedule) => {
  const invalid = validateSchedule(s.spec);
  return invalid ? { invalid } : evaluate(s.spec, NOW);
};
const override = (name: string, desiredState: 'Running' | 'Stopped', createdAt = NOW - 60_000): OverrideInForce => ({ name, desiredState, createdAt, until: NOW + 3_600_000 });

describe('effectiveDesiredState()', () => {
  const table: Array<{
    name: string;
    spec: EcsInstancePowerSpec;
    overrides?: OverrideInForce[];
    schedule?: EcsPowerSchedule;
    want: { desiredState?: string; source: string; nextChangeAt?: number } | { blocked: string };
  }> = [
    { name: 'spec only', spec: spec({ desiredState: 'Stopped' }), want: { desiredState: 'Stopped', source: 'spec' } },
    {
      name: 'schedule, inside a window (08:00-20:00 Shanghai at 18:00): Running until 20:00',
      spec: spec({ scheduleRef: { name: 'office' } }),
      schedule: schedule([{ from: '08:00', to: '20:00' }]),
      want: { desiredState: 'Running', source: 'EcsPowerSchedule/office', nextChangeAt: Date.parse('2026-12-02T12:00:00Z') },
    },
    {
      name: 'schedule, outside every window: Stopped until the next opening',
      spec: spec({ scheduleRef: { name: 'office' } }),
      schedule: schedule([{ from: '08:00', to: '09:00' }]),
      want: { desiredState: 'Stopped', source: 'EcsPowerSchedule/office', nextChangeAt: Date.parse('2026-12-03T00:00:00Z') },
    },
    { name: 'schedule missing: ScheduleNotFound', spec: spec({ scheduleRef: { name: 'office' } }), want: { blocked: 'ScheduleNotFound' } },
    {
      name: 'schedule invalid: InvalidSchedule',
      spec: spec({ scheduleRef: { name: 'office' } }),
      schedule: { ...schedule([]), spec: { timeZone: 'Mars/Olympus' } },
      want: { blocked: 'InvalidSchedule' },
    },
    {
      name: 'an override in force wins over the schedule, until it ends',
      spec: spec({ scheduleRef: { name: 'office' } }),
      schedule: schedule([{ from: '08:00', to: '20:00' }]),
      overrides: [override('inc-1', 'Stopped')],
      want: { desiredState: 'Stopped', source: 'EcsPowerOverride/inc-1', nextChangeAt: NOW + 3_600_000 },
    },
    {
      name: 'an override wins over the spec',
      spec: spec({ desiredState: 'Stopped' }),
      overrides: [override('wake', 'Running')],
      want: { desiredState: 'Running', source: 'EcsPowerOverride/wake', nextChangeAt: NOW + 3_600_000 },
    },
    {
      name: 'an override wins even when the schedule is missing',
      spec: spec({ scheduleRef: { name: 'office' } }),
      overrides: [override('wake', 'Running')],
      want: { desiredState: 'Running', source: 'EcsPowerOverride/wake', nextChangeAt: NOW + 3_600_000 },
    },
    {
      name: 'several overrides: the first given (the newest) wins',
      spec: spec({ desiredState: 'Stopped' }),
      overrides: [override('newer', 'Running'), override('older', 'Stopped', NOW - 3_600_000)],
      want: { desiredState: 'Running', source: 'EcsPowerOverride/newer', nextChangeAt: NOW + 3_600_000 },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const result = effectiveDesiredState({ spec: row.spec, namespace: 'team-a', overrides: row.overrides ?? [], schedule: row.schedule, evaluateSchedule });
      if ('blocked' in row.want) {
        assert.equal(result.kind, 'blocked');
        if (result.kind === 'blocked') {
          assert.equal(result.reason, row.want.blocked);
          assert.match(result.message, new RegExp(`^${row.want.blocked}: EcsPowerSchedule team-a/office`));
          assert.equal(result.source, 'EcsPowerSchedule/office');
        }
        return;
      }
      assert.equal(result.kind, 'ok');
      if (result.kind !== 'ok') return;
      assert.deepEqual(
        { desiredState: result.effective.desiredState, source: result.effective.source, nextChangeAt: result.effective.nextChangeAt },
        { desiredState: row.want.desiredState, source: row.want.source, nextChangeAt: row.want.nextChangeAt },
      );
    });
  }
});

describe('transitionEvents()', () => {
  const status = (desiredState: 'Running' | 'Stopped', source: string): EcsInstancePowerStatus => ({ desiredState, desiredStateSource: source });
  const table: Array<{ name: string; prev?: EcsInstancePowerStatus; next: EcsInstancePowerStatus; want: string[] }> = [
    { name: 'first visit: nothing', next: status('Running', 'EcsPowerSchedule/office'), want: [] },
    { name: 'unchanged: nothing', prev: status('Running', 'EcsPowerSchedule/office'), next: status('Running', 'EcsPowerSchedule/office'), want: [] },
    { name: 'the schedule flips the state: ScheduleTransition', prev: status('Running', 'EcsPowerSchedule/office'), next: status('Stopped', 'EcsPowerSchedule/office'), want: ['ScheduleTransition: from Running to Stopped (EcsPowerSchedule/office)'] },
    { name: 'an override takes over: OverrideStarted', prev: status('Stopped', 'EcsPowerSchedule/office'), next: status('Running', 'EcsPowerOverride/inc-1'), want: ['OverrideStarted'] },
    { name: 'an override with the same state takes over: OverrideStarted still', prev: status('Stopped', 'spec'), next: status('Stopped', 'EcsPowerOverride/quiet'), want: ['OverrideStarted'] },
    { name: 'an override ends: OverrideEnded', prev: status('Running', 'EcsPowerOverride/inc-1'), next: status('Stopped', 'EcsPowerSchedule/office'), want: ['OverrideEnded'] },
    { name: 'a newer override replaces one: ended and started', prev: status('Running', 'EcsPowerOverride/a'), next: status('Stopped', 'EcsPowerOverride/b'), want: ['OverrideEnded', 'OverrideStarted'] },
    { name: 'a spec edit: no schedule event', prev: status('Running', 'spec'), next: status('Stopped', 'spec'), want: [] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const events = transitionEvents(row.prev, row.next).map((e) => (e.reason === 'ScheduleTransition' ? `${e.reason}: ${e.message}` : e.reason));
      assert.deepEqual(events, row.want);
    });
  }
});

describe('StoppedTimeMeter (ecspower_stopped_seconds_total and its vCPU twin)', () => {
  const value = async (metrics: Metrics, name: 'stoppedSeconds' | 'stoppedVcpuSeconds', labels: Record<string, string>): Promise<number> => {
    await metrics.registry.metrics(); // a scrape brings open stretches up to now
    const found = (await metrics[name].get()).values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x));
    return found?.value ?? NaN;
  };

  it('counts while observed Stopped and meant to be, continuously between observations, by namespace and stopped mode', async () => {
    const clock = new FakeClock(NOW);
    const metrics = new Metrics({ defaultMetrics: false });
    const meter = new StoppedTimeMeter(metrics, clock);
    const sample = (stopped: boolean) => ({ namespace: 'team-a', stopped, stoppedMode: 'StopCharging', vcpus: 4, now: clock.now() });
    meter.observed('team-a/box', sample(true));
    clock.advance(90_000);
    assert.equal(await value(metrics, 'stoppedSeconds', { namespace: 'team-a', stopped_mode: 'StopCharging' }), 90);
    assert.equal(await value(metrics, 'stoppedVcpuSeconds', { namespace: 'team-a', stopped_mode: 'StopCharging' }), 360);
    clock.advance(30_000);
    meter.observed('team-a/box', sample(false)); // started: the stretch closes at this observation
    clock.advance(600_000);
    assert.equal(await value(metrics, 'stoppedSeconds', { namespace: 'team-a', stopped_mode: 'StopCharging' }), 120);
    assert.equal(await value(metrics, 'stoppedSeconds', { namespace: 'team-a', stopped_mode: 'KeepCharging' }), 0, 'known label sets start at 0');
  });

  it('a resource deleted while stopped stops counting', async () => {
    const clock = new FakeClock(NOW);
    const metrics = new Metrics({ defaultMetrics: false });
    const meter = new StoppedTimeMeter(metrics, clock);
    meter.observed('team-a/box', { namespace: 'team-a', stopped: true, stoppedMode: 'KeepCharging', vcpus: 2, now: clock.now() });
    clock.advance(10_000);
    meter.forget('team-a/box');
    clock.advance(10_000);
    assert.equal(await value(metrics, 'stoppedSeconds', { namespace: 'team-a', stopped_mode: 'KeepCharging' }), 10);
  });
});
