// The EcsPowerSchedule status for (schedule, now): desired state now, the next transition rounded
// up to the whole second, the three conditions, and what an invalid spec shows.
import assert from 'node:assert/strict';
import type { Condition } from '../../src/api/types.ts';
import type { EcsPowerSchedule, EcsPowerScheduleSpec, EcsPowerScheduleStatus } from '../../src/api/schedule-types.ts';
import { scheduleStatus } from '../../src/controllers/schedule/status.ts';
import { CompiledSchedules } from '../../src/controllers/schedule/compiled.ts';

const officeHours: EcsPowerScheduleSpec = { timeZone: 'Asia/Shanghai', running: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '08:00', to: '20:00' }] };

function schedule(spec: unknown, generation = 3, status?: EcsPowerScheduleStatus): EcsPowerSchedule {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerSchedule',
    metadata: { name: 'office-hours', namespace: 'team-a', uid: 'u1', generation },
    spec: spec as EcsPowerScheduleSpec,
    ...(status ? { status } : {}),
  };
}
const cond = (s: EcsPowerScheduleStatus, type: Condition['type']) => s.conditions?.find((c) => c.type === type);

describe('scheduleStatus(): a valid schedule', () => {
  const table: { name: string; spec: EcsPowerScheduleSpec; now: string; desired: string; next?: [string, string]; nextAt?: string; message: RegExp }[] = [
    {
      name: 'Monday 08:00 in Shanghai: Running, Stopped at 20:00 local',
      spec: officeHours,
      now: '2026-11-30T00:00:00Z',
      desired: 'Running',
      next: ['2026-11-30T12:00:00Z', 'Stopped'],
      message: /^Running now; Stopped from 2026-11-30T12:00:00Z$/,
    },
    {
      name: 'Saturday evening: Stopped until Monday 08:00 local',
      spec: officeHours,
      now: '2026-11-28T12:00:00Z',
      desired: 'Stopped',
      next: ['2026-11-30T00:00:00Z', 'Running'],
      message: /^Stopped now; Running from 2026-11-30T00:00:00Z$/,
    },
    {
      name: 'an exception starting at a fractional second: the time is rounded up, the requeue is exact',
      spec: { timeZone: 'UTC', exceptions: [{ from: '2026-11-30T10:00:00.250Z', to: '2026-11-30T11:00:00Z', desiredState: 'Running', reason: 'patching' }] },
      now: '2026-11-30T09:00:00Z',
      desired: 'Stopped',
      next: ['2026-11-30T10:00:01Z', 'Running'],
      nextAt: '2026-11-30T10:00:00.250Z',
      message: /Running from 2026-11-30T10:00:01Z/,
    },
    {
      name: 'a millisecond before an exception given with an offset: its start, exactly',
      spec: { timeZone: 'UTC', exceptions: [{ from: '2026-11-30T11:00:00+01:00', to: '2026-11-30T11:00:00Z', desiredState: 'Running' }] },
      now: '2026-11-30T09:59:59.999Z',
      desired: 'Stopped',
      next: ['2026-11-30T10:00:00Z', 'Running'],
      message: /Running from/,
    },
    { name: 'no windows and no exceptions: always Stopped, no next transition', spec: { timeZone: 'UTC' }, now: '2026-11-30T09:00:00Z', desired: 'Stopped', message: /^Stopped now; the schedule never changes it$/ },
    {
      name: 'only a past exception: constant',
      spec: { timeZone: 'Europe/Berlin', exceptions: [{ from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z', desiredState: 'Running' }] },
      now: '2026-11-30T09:00:00Z',
      desired: 'Stopped',
      message: /never changes/,
    },
    { name: 'a window covering the whole week: always Running', spec: { timeZone: 'UTC', running: [{ from: '00:00', to: '24:00' }] }, now: '2026-11-30T09:00:00Z', desired: 'Running', message: /^Running now; the schedule never changes it$/ },
  ];
  for (const c of table) {
    it(c.name, () => {
      const { status, nextAt } = scheduleStatus(schedule(c.spec), new Date(c.now));
      assert.equal(status.observedGeneration, 3);
      assert.equal(status.desiredState, c.desired);
      assert.deepEqual(status.nextTransition, c.next ? { time: c.next[0], desiredState: c.next[1] } : undefined);
      assert.equal(nextAt, c.next ? Date.parse(c.nextAt ?? c.next[0]) : undefined);
      if (c.next) assert.ok(Date.parse(c.next[0]) >= nextAt!, 'never names an instant before the change');
      assert.deepEqual(
        status.conditions?.map((x) => [x.type, x.status, x.reason, x.observedGeneration, x.lastTransitionTime]),
        [
          ['Ready', 'True', 'Active', 3, c.now.replace(/\.\d+Z$/, 'Z')],
          ['Reconciling', 'False', 'Active', 3, c.now.replace(/\.\d+Z$/, 'Z')],
          ['Stalled', 'False', 'Active', 3, c.now.replace(/\.\d+Z$/, 'Z')],
        ],
      );
      assert.match(cond(status, 'Ready')!.message, c.message);
    });
  }
});

describe('scheduleStatus(): an invalid schedule is Stalled with InvalidSpec naming the field', () => {
  const table: [string, unknown, string][] = [
    ['an unknown time zone', { ...officeHours, timeZone: 'Mars/Olympus' }, 'spec.timeZone'],
    ['an offset instead of a zone name', { ...officeHours, timeZone: '+08:00' }, 'spec.timeZone'],
    ['an exception ending before it starts', { timeZone: 'UTC', exceptions: [{ from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z', desiredState: 'Stopped' }] }, 'spec.exceptions[0].to'],
    ['a window at 25:00', { timeZone: 'UTC', running: [{ from: '25:00', to: '26:00' }] }, 'spec.running[0].from'],
    ['a day Funday', { timeZone: 'UTC', running: [{ days: ['Mon', 'Funday'], from: '08:00', to: '09:00' }] }, 'spec.running[0].days[1]'],
    ['no spec at all', undefined, 'spec'],
  ];
  for (const [name, spec, field] of table) {
    it(`${name}: ${field}`, () => {
      const { status, nextAt } = scheduleStatus(schedule(spec), new Date('2026-11-30T09:00:00Z'));
      assert.equal(nextAt, undefined, 'no requeue: only a spec change can fix it');
      assert.equal(status.desiredState, undefined);
      assert.equal(status.nextTransition, undefined);
      assert.equal(status.observedGeneration, 3);
      assert.deepEqual(
        status.conditions?.map((x) => [x.type, x.status, x.reason, x.observedGeneration]),
        [
          ['Ready', 'False', 'InvalidSpec', 3],
          ['Reconciling', 'False', 'InvalidSpec', 3],
          ['Stalled', 'True', 'InvalidSpec', 3],
        ],
      );
      for (const type of ['Ready', 'Stalled'] as const) assert.ok(cond(status, type)!.message.startsWith(`${field}: `), cond(status, type)!.message);
    });
  }
});

describe('scheduleStatus(): lastTransitionTime moves only with a condition status', () => {
  it('valid at t0, a transition at t1 (Ready stays True), invalid at t2, fixed at t3', () => {
    const t = ['2026-11-30T00:00:00Z', '2026-11-30T12:00:00Z', '2026-11-30T13:00:00Z', '2026-11-30T14:00:00Z'];
    const s0 = scheduleStatus(schedule(officeHours, 1), new Date(t[0]!)).status;
    const s1 = scheduleStatus(schedule(officeHours, 1, s0), new Date(t[1]!)).status;
    assert.equal(s1.desiredState, 'Stopped');
    assert.equal(cond(s1, 'Ready')!.lastTransitionTime, t[0]);
    assert.notEqual(cond(s1, 'Ready')!.message, cond(s0, 'Ready')!.message);
    const s2 = scheduleStatus(schedule({ ...officeHours, timeZone: 'Nowhere' }, 2, s1), new Date(t[2]!)).status;
    assert.equal(cond(s2, 'Ready')!.lastTransitionTime, t[2]);
    assert.equal(cond(s2, 'Stalled')!.lastTransitionTime, t[2]);
    assert.equal(cond(s2, 'Reconciling')!.lastTransitionTime, t[0], 'Reconciling stayed False');
    const s3 = scheduleStatus(schedule(officeHours, 3, s2), new Date(t[3]!)).status;
    assert.deepEqual([cond(s3, 'Ready')!.status, cond(s3, 'Ready')!.lastTransitionTime, cond(s3, 'Stalled')!.lastTransitionTime], ['True', t[3], t[3]]);
  });

  it('the same instant evaluated twice gives an identical status (nothing to write)', () => {
    const now = new Date('2026-11-30T03:00:00Z');
    const first = scheduleStatus(schedule(officeHours), now).status;
    assert.deepEqual(scheduleStatus(schedule(officeHours, 3, first), new Date(now.getTime() + 3600_000)).status, first);
  });
});

describe('CompiledSchedules: compiled once per uid and generation', () => {
  it('returns the same compiled schedule until the generation or uid changes', () => {
    const memo = new CompiledSchedules();
    const a = memo.get('team-a/s', schedule(officeHours, 1));
    assert.equal(memo.get('team-a/s', schedule(officeHours, 1)), a);
    const b = memo.get('team-a/s', schedule({ ...officeHours, timeZone: 'UTC' }, 2));
    assert.notEqual(b, a);
    const recreated = { ...schedule(officeHours, 2), metadata: { name: 's', namespace: 'team-a', uid: 'u2', generation: 2 } };
    assert.notEqual(memo.get('team-a/s', recreated), b);
    memo.forget('team-a/s');
    assert.equal(memo.size, 0);
  });
});
