// The EcsPowerSchedule controller on a fake clock: it writes the status when the spec changes and
// at each transition, and reconciles nothing in between (no polling, no resync).
import assert from 'node:assert/strict';
import type { EcsPowerSchedule, EcsPowerScheduleSpec, EcsPowerScheduleStatus } from '../../src/api/schedule-types.ts';
import { SCHEDULE_CONTROLLER_NAME, setUpScheduleController } from '../../src/controllers/schedule/setup.ts';
import { silentLogger } from '../../src/log.ts';
import { keyOf } from '../../src/runtime/informer.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import type { StatusWriter } from '../../src/runtime/status-writer.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { FakeInformer } from '../support/fake-informer.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const weekdays: EcsPowerScheduleSpec = { timeZone: 'UTC', running: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '08:00', to: '20:00' }] };

function harness() {
  const clock = new FakeClock(Date.parse('2026-11-29T20:00:00Z')); // a Sunday
  const schedules = new FakeInformer<EcsPowerSchedule>();
  const writes: { at: string; key: string; status: EcsPowerScheduleStatus }[] = [];
  const status: StatusWriter<EcsPowerScheduleStatus> = {
    write: async (obj, next) => {
      writes.push({ at: new Date(clock.now()).toISOString(), key: keyOf(obj), status: next });
      // the API server stores it and the watch delivers a status-only update
      schedules.emit('update', { ...(obj as EcsPowerSchedule), status: next });
    },
  };
  const metrics = new Metrics({ defaultMetrics: false });
  const runner = setUpScheduleController({ schedules: schedules.asInformer(), status, workers: 2, metrics, clock, log: silentLogger });
  const reconciles = async (): Promise<number> => {
    const values = (await metrics.reconcileTotal.get()).values.filter((v) => v.labels['controller'] === SCHEDULE_CONTROLLER_NAME);
    return values.reduce((n, v) => n + v.value, 0);
  };
  const create = (name: string, spec: EcsPowerScheduleSpec, generation = 1): EcsPowerSchedule => ({
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerSchedule',
    metadata: { name, namespace: 'team-a', uid: `uid-${name}`, generation },
    spec,
  });
  return { clock, schedules, writes, runner, reconciles, create };
}

describe('EcsPowerSchedule controller (fake clock)', () => {
  it('over a week: one write at creation and one per transition, one reconcile each, nothing in between', async () => {
    const h = harness();
    h.runner.start();
    h.schedules.emit('add', h.create('office', weekdays));
    await h.clock.advanceAsync(0);
    assert.deepEqual(h.writes.map((w) => [w.at, w.status.desiredState, w.status.nextTransition?.time]), [['2026-11-29T20:00:00.000Z', 'Stopped', '2026-11-30T08:00:00Z']]);
    assert.equal(await h.reconciles(), 1);

    // just before the transition nothing has happened
    await h.clock.advanceAsync(12 * HOUR - 1);
    assert.equal(h.writes.length, 1);
    assert.equal(await h.reconciles(), 1);
    await h.clock.advanceAsync(1);
    assert.deepEqual(h.writes.slice(1).map((w) => [w.at, w.status.desiredState, w.status.nextTransition?.time]), [['2026-11-30T08:00:00.000Z', 'Running', '2026-11-30T20:00:00Z']]);

    await h.clock.advanceAsync(7 * DAY - 12 * HOUR);
    const transitions = h.writes.slice(1).map((w) => `${w.at.slice(0, 16)} ${w.status.desiredState}`);
    assert.deepEqual(transitions, ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04'].flatMap((d) => [`${d}T08:00 Running`, `${d}T20:00 Stopped`]));
    assert.equal(await h.reconciles(), 11, 'one reconcile at creation and one per transition');
    assert.equal(h.clock.pending(), 1, 'one timer: the next transition (Monday 08:00)');
  });

  it('a spec change is written at once and moves the requeue; a deletion ends it', async () => {
    const h = harness();
    h.runner.start();
    h.schedules.emit('add', h.create('office', weekdays));
    await h.clock.advanceAsync(HOUR);
    h.schedules.emit('update', { ...h.schedules.get('team-a/office')!, metadata: { ...h.create('office', weekdays).metadata, generation: 2 }, spec: { timeZone: 'UTC', running: [{ from: '22:00', to: '06:00' }] } });
    await h.clock.advanceAsync(0);
    assert.deepEqual(h.writes.map((w) => [w.status.observedGeneration, w.status.desiredState]), [[1, 'Stopped'], [2, 'Stopped']]);
    assert.equal(h.writes[1]!.status.nextTransition?.time, '2026-11-29T22:00:00Z');
    await h.clock.advanceAsync(HOUR);
    assert.deepEqual(h.writes.slice(2).map((w) => [w.at, w.status.desiredState]), [['2026-11-29T22:00:00.000Z', 'Running']]);

    h.schedules.emit('delete', h.schedules.get('team-a/office')!);
    await h.clock.advanceAsync(7 * DAY);
    assert.equal(h.writes.length, 3, 'nothing written for a deleted schedule');
    assert.equal(h.clock.pending(), 0, 'no timer left');
  });

  it('a status-only update (our own write) reconciles nothing; an invalid schedule is not requeued', async () => {
    const h = harness();
    h.runner.start();
    h.schedules.emit('add', h.create('broken', { ...weekdays, timeZone: 'Mars/Olympus' }));
    await h.clock.advanceAsync(0);
    assert.equal(h.writes.length, 1);
    assert.match(h.writes[0]!.status.conditions!.find((c) => c.type === 'Stalled')!.message, /^spec\.timeZone: /);
    await h.clock.advanceAsync(30 * DAY);
    assert.equal(await h.reconciles(), 1);
    assert.equal(h.clock.pending(), 0);
  });

  it('a standby queues nothing; on start it evaluates every schedule of the cache once', async () => {
    const h = harness();
    h.schedules.emit('add', h.create('a', weekdays));
    h.schedules.emit('add', h.create('b', { timeZone: 'UTC' }));
    await h.clock.advanceAsync(13 * HOUR); // Monday 09:00
    assert.equal(h.writes.length, 0);
    h.runner.start();
    await h.clock.advanceAsync(0);
    assert.deepEqual(h.writes.map((w) => [w.key, w.status.desiredState]).sort(), [['team-a/a', 'Running'], ['team-a/b', 'Stopped']]);
    assert.equal(h.clock.pending(), 1, 'only the schedule with transitions is requeued');
  });
});
