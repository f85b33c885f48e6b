// evaluate(schedule, instant) of SCHEDULES.md, table-driven: the state at an instant, what
// decided it, and the exact next transition. Instants are written as a user reads them (local
// time with its offset) or in UTC where the local time is ambiguous.
import assert from 'node:assert/strict';
import type { DesiredState } from '../../src/api/types.ts';
import type { EcsPowerScheduleSpec, RunningWindow, ScheduleException } from '../../src/api/schedule-types.ts';
import { describeSource, evaluate, InvalidScheduleError, validateSchedule } from '../../src/schedule/evaluate.ts';

interface Case {
  name: string;
  schedule: EcsPowerScheduleSpec;
  at: string;
  state: DesiredState;
  /** describeSource() of what decided the state */
  source: string;
  /** [instant, state] of the next transition; omitted when the state never changes */
  next?: [string, DesiredState];
}

const WEEKDAYS_ONLY: RunningWindow['days'] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];
const sched = (timeZone: string, running?: RunningWindow[], exceptions?: ScheduleException[]): EcsPowerScheduleSpec => ({
  timeZone,
  ...(running ? { running } : {}),
  ...(exceptions ? { exceptions } : {}),
});
const daily = (from: string, to: string): RunningWindow => ({ from, to });
const on = (days: RunningWindow['days'], from: string, to: string): RunningWindow => ({ days, from, to });

const officeHours = (exceptions?: ScheduleException[]) => sched('Asia/Shanghai', [on(WEEKDAYS_ONLY, '08:00', '20:00')], exceptions);
const nationalDay: ScheduleException = { from: '2026-10-01T00:00:00+08:00', to: '2026-10-08T00:00:00+08:00', desiredState: 'Stopped', reason: 'National Day' };
const releaseNight: ScheduleException = { from: '2026-10-03T10:00:00+08:00', to: '2026-10-03T18:00:00+08:00', desiredState: 'Running', reason: 'release' };
const christmas: ScheduleException = { from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', desiredState: 'Running' };

const OUT = 'outside all running windows';

const cases: Case[] = [
  // --- one window, UTC
  { name: 'before a daily window', schedule: sched('UTC', [daily('08:00', '20:00')]), at: '2026-11-04T07:59:00Z', state: 'Stopped', source: OUT, next: ['2026-11-04T08:00:00Z', 'Running'] },
  { name: 'a window includes its start', schedule: sched('UTC', [daily('08:00', '20:00')]), at: '2026-11-04T08:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-04T20:00:00Z', 'Stopped'] },
  { name: 'a window excludes its end', schedule: sched('UTC', [daily('08:00', '20:00')]), at: '2026-11-04T20:00:00Z', state: 'Stopped', source: OUT, next: ['2026-11-05T08:00:00Z', 'Running'] },
  // --- across midnight
  { name: 'overnight window before midnight', schedule: sched('UTC', [daily('22:00', '06:00')]), at: '2026-11-04T23:30:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-05T06:00:00Z', 'Stopped'] },
  { name: 'overnight window after midnight', schedule: sched('UTC', [daily('22:00', '06:00')]), at: '2026-11-05T03:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-05T06:00:00Z', 'Stopped'] },
  { name: 'days name the start day: Friday night runs into Saturday', schedule: sched('UTC', [on(['Fri'], '22:00', '06:00')]), at: '2026-11-07T05:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-07T06:00:00Z', 'Stopped'] },
  { name: 'days name the start day: none starts on Saturday', schedule: sched('UTC', [on(['Fri'], '22:00', '06:00')]), at: '2026-11-07T22:30:00Z', state: 'Stopped', source: OUT, next: ['2026-11-13T22:00:00Z', 'Running'] },
  { name: 'Sunday night window runs into Monday (the week wraps)', schedule: sched('UTC', [on(['Sun'], '20:00', '02:00')]), at: '2026-11-09T01:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-09T02:00:00Z', 'Stopped'] },
  // --- across a weekend
  { name: 'office hours: Friday evening waits for Monday', schedule: officeHours(), at: '2026-11-06T20:00:00+08:00', state: 'Stopped', source: OUT, next: ['2026-11-09T08:00:00+08:00', 'Running'] },
  { name: 'office hours: Saturday noon', schedule: officeHours(), at: '2026-11-07T12:00:00+08:00', state: 'Stopped', source: OUT, next: ['2026-11-09T08:00:00+08:00', 'Running'] },
  { name: 'office hours: Monday morning', schedule: officeHours(), at: '2026-11-09T08:00:00+08:00', state: 'Running', source: 'running[0]', next: ['2026-11-09T20:00:00+08:00', 'Stopped'] },
  // --- 24:00 and 24-hour windows
  { name: 'to 24:00 ends at the next midnight', schedule: sched('UTC', [on(['Sat'], '08:00', '24:00')]), at: '2026-11-07T23:59:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-08T00:00:00Z', 'Stopped'] },
  { name: 'from = to is 24 hours: before', schedule: sched('UTC', [on(['Mon'], '06:00', '06:00')]), at: '2026-11-09T05:59:00Z', state: 'Stopped', source: OUT, next: ['2026-11-09T06:00:00Z', 'Running'] },
  { name: 'from = to is 24 hours: inside', schedule: sched('UTC', [on(['Mon'], '06:00', '06:00')]), at: '2026-11-09T06:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-10T06:00:00Z', 'Stopped'] },
  { name: '00:00-24:00 every day never changes', schedule: sched('UTC', [daily('00:00', '24:00')]), at: '2026-11-09T06:00:00Z', state: 'Running', source: 'running[0]' },
  { name: '07:00-07:00 every day never changes', schedule: sched('Europe/Berlin', [daily('07:00', '07:00')]), at: '2026-03-29T01:30:00Z', state: 'Running', source: 'running[0]' },
  { name: 'a week covered by several windows never changes', schedule: sched('UTC', [on(WEEKDAYS_ONLY, '00:00', '00:00'), on(['Sat'], '00:00', '12:00'), on(['Sat'], '12:00', '00:00'), on(['Sun'], '00:00', '24:00')]), at: '2026-11-07T11:00:00Z', state: 'Running', source: 'running[1]' },
  // --- several windows
  { name: 'touching and overlapping windows are one stretch', schedule: sched('UTC', [daily('08:00', '12:00'), daily('12:00', '18:00'), daily('17:00', '19:00'), daily('21:00', '22:00')]), at: '2026-11-04T09:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-04T19:00:00Z', 'Stopped'] },
  { name: 'the lowest-indexed window containing the instant is the source', schedule: sched('UTC', [daily('08:00', '12:00'), daily('12:00', '18:00'), daily('17:00', '19:00'), daily('21:00', '22:00')]), at: '2026-11-04T17:30:00Z', state: 'Running', source: 'running[1]', next: ['2026-11-04T19:00:00Z', 'Stopped'] },
  { name: 'between windows', schedule: sched('UTC', [daily('08:00', '12:00'), daily('12:00', '18:00'), daily('17:00', '19:00'), daily('21:00', '22:00')]), at: '2026-11-04T19:30:00Z', state: 'Stopped', source: OUT, next: ['2026-11-04T21:00:00Z', 'Running'] },
  // --- empty running
  { name: 'no windows: always Stopped', schedule: sched('UTC', []), at: '2026-11-04T12:00:00Z', state: 'Stopped', source: OUT },
  { name: 'running omitted: always Stopped', schedule: sched('Asia/Shanghai'), at: '2026-11-04T12:00:00Z', state: 'Stopped', source: OUT },
  // --- exceptions
  { name: 'no windows, a future exception', schedule: sched('UTC', [], [christmas]), at: '2026-12-01T00:00:00Z', state: 'Stopped', source: OUT, next: ['2026-12-24T00:00:00Z', 'Running'] },
  { name: 'inside an exception', schedule: sched('UTC', [], [christmas]), at: '2026-12-25T00:00:00Z', state: 'Running', source: 'exceptions[0]', next: ['2026-12-27T00:00:00Z', 'Stopped'] },
  { name: 'after the last exception nothing changes', schedule: sched('UTC', [], [christmas]), at: '2026-12-27T00:00:00Z', state: 'Stopped', source: OUT },
  { name: 'an exception with the state the windows give is no transition', schedule: sched('UTC', [daily('00:00', '24:00')], [christmas]), at: '2026-12-01T00:00:00Z', state: 'Running', source: 'running[0]' },
  { name: 'a Stopped exception in windows that cover everything', schedule: sched('UTC', [daily('00:00', '24:00')], [{ ...christmas, desiredState: 'Stopped' }]), at: '2026-12-01T00:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-12-24T00:00:00Z', 'Stopped'] },
  { name: 'an exception masks the end of a window', schedule: sched('UTC', [daily('08:00', '20:00')], [{ from: '2026-11-04T20:00:00Z', to: '2026-11-04T22:00:00Z', desiredState: 'Running' }]), at: '2026-11-04T19:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-04T22:00:00Z', 'Stopped'] },
  { name: 'constant for a week, then a window after the exception', schedule: officeHours([nationalDay]), at: '2026-09-30T21:00:00+08:00', state: 'Stopped', source: OUT, next: ['2026-10-08T08:00:00+08:00', 'Running'] },
  { name: 'an exception ends inside a window', schedule: officeHours([{ ...nationalDay, to: '2026-10-08T12:00:00+08:00' }]), at: '2026-10-08T11:00:00+08:00', state: 'Stopped', source: 'exceptions[0] (National Day)', next: ['2026-10-08T12:00:00+08:00', 'Running'] },
  { name: 'overlapping exceptions: the last wins', schedule: officeHours([nationalDay, releaseNight]), at: '2026-10-03T12:00:00+08:00', state: 'Running', source: 'exceptions[1] (release)', next: ['2026-10-03T18:00:00+08:00', 'Stopped'] },
  { name: 'overlapping exceptions: the later one starts', schedule: officeHours([nationalDay, releaseNight]), at: '2026-10-03T09:00:00+08:00', state: 'Stopped', source: 'exceptions[0] (National Day)', next: ['2026-10-03T10:00:00+08:00', 'Running'] },
  { name: 'overlapping exceptions: listed last, the long one hides the short one', schedule: officeHours([releaseNight, nationalDay]), at: '2026-10-03T12:00:00+08:00', state: 'Stopped', source: 'exceptions[1] (National Day)', next: ['2026-10-08T08:00:00+08:00', 'Running'] },
  // --- Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET
  { name: 'Berlin: a start in the gap takes effect when the gap ends', schedule: sched('Europe/Berlin', [daily('02:30', '04:00')]), at: '2026-03-29T00:59:00Z', state: 'Stopped', source: OUT, next: ['2026-03-29T01:00:00Z', 'Running'] },
  { name: 'Berlin: an end in the gap takes effect when the gap ends', schedule: sched('Europe/Berlin', [daily('01:00', '02:30')]), at: '2026-03-29T00:30:00Z', state: 'Running', source: 'running[0]', next: ['2026-03-29T01:00:00Z', 'Stopped'] },
  { name: 'Berlin: a window inside the gap does not happen that day', schedule: sched('Europe/Berlin', [on(['Sun'], '02:10', '02:50')]), at: '2026-03-29T00:00:00Z', state: 'Stopped', source: OUT, next: ['2026-04-05T02:10:00+02:00', 'Running'] },
  { name: 'Berlin: a repeated start takes effect at its first occurrence', schedule: sched('Europe/Berlin', [daily('02:30', '05:00')]), at: '2026-10-25T00:29:00Z', state: 'Stopped', source: OUT, next: ['2026-10-25T00:30:00Z', 'Running'] },
  { name: 'Berlin: a window over the repeated hour lasts an hour longer', schedule: sched('Europe/Berlin', [daily('02:30', '05:00')]), at: '2026-10-25T00:30:00Z', state: 'Running', source: 'running[0]', next: ['2026-10-25T04:00:00Z', 'Stopped'] },
  { name: 'Berlin: a repeated end takes effect at its first occurrence', schedule: sched('Europe/Berlin', [daily('00:00', '02:30')]), at: '2026-10-25T00:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-10-25T00:30:00Z', 'Stopped'] },
  { name: 'Berlin: the second 02:30 is after that end', schedule: sched('Europe/Berlin', [daily('00:00', '02:30')]), at: '2026-10-25T01:30:00Z', state: 'Stopped', source: OUT, next: ['2026-10-26T00:00:00+01:00', 'Running'] },
  { name: 'Berlin: a night window is 7 hours on the short night', schedule: sched('Europe/Berlin', [daily('22:00', '06:00')]), at: '2026-03-28T21:30:00Z', state: 'Running', source: 'running[0]', next: ['2026-03-29T04:00:00Z', 'Stopped'] },
  { name: 'Berlin: a 24-hour window is 23 hours on the short day', schedule: sched('Europe/Berlin', [on(['Sat'], '12:00', '12:00')]), at: '2026-03-28T11:00:00Z', state: 'Running', source: 'running[0]', next: ['2026-03-29T10:00:00Z', 'Stopped'] },
  // --- America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
  { name: 'New York: a window wholly in the gap is skipped', schedule: sched('America/New_York', [daily('02:00', '02:30')]), at: '2026-03-08T06:59:00Z', state: 'Stopped', source: OUT, next: ['2026-03-09T02:00:00-04:00', 'Running'] },
  { name: 'New York: a start in the gap', schedule: sched('America/New_York', [daily('02:30', '09:00')]), at: '2026-03-08T06:00:00Z', state: 'Stopped', source: OUT, next: ['2026-03-08T07:00:00Z', 'Running'] },
  { name: 'New York: a window in the repeated hour, first occurrence', schedule: sched('America/New_York', [daily('01:30', '01:45')]), at: '2026-11-01T05:40:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-01T05:45:00Z', 'Stopped'] },
  { name: 'New York: the second occurrence of a repeated hour does not reopen it', schedule: sched('America/New_York', [daily('01:30', '01:45')]), at: '2026-11-01T06:35:00Z', state: 'Stopped', source: OUT, next: ['2026-11-02T01:30:00-05:00', 'Running'] },
  { name: 'New York: a window over the repeated hour', schedule: sched('America/New_York', [daily('01:00', '02:00')]), at: '2026-11-01T06:30:00Z', state: 'Running', source: 'running[0]', next: ['2026-11-01T07:00:00Z', 'Stopped'] },
  // --- Australia/Lord_Howe: 30-minute shift; 2026-10-04 02:00 -> 02:30 (+11:00); 2026-04-05 02:00 -> 01:30 (+10:30)
  { name: 'Lord Howe: a start in the 30-minute gap', schedule: sched('Australia/Lord_Howe', [daily('02:10', '03:00')]), at: '2026-10-03T15:29:00Z', state: 'Stopped', source: OUT, next: ['2026-10-03T15:30:00Z', 'Running'] },
  { name: 'Lord Howe: a window wholly in the gap is skipped', schedule: sched('Australia/Lord_Howe', [on(['Sun'], '02:00', '02:30')]), at: '2026-10-03T15:00:00Z', state: 'Stopped', source: OUT, next: ['2026-10-11T02:00:00+11:00', 'Running'] },
  { name: 'Lord Howe: the repeated half hour does not reopen a window', schedule: sched('Australia/Lord_Howe', [daily('01:40', '01:50')]), at: '2026-04-04T15:15:00Z', state: 'Stopped', source: OUT, next: ['2026-04-06T01:40:00+10:30', 'Running'] },
  { name: 'Lord Howe: a window over the repeated half hour', schedule: sched('Australia/Lord_Howe', [daily('01:40', '02:10')]), at: '2026-04-04T15:15:00Z', state: 'Running', source: 'running[0]', next: ['2026-04-04T15:40:00Z', 'Stopped'] },
  // --- Asia/Shanghai: no DST, so Europe's switch day is an ordinary day
  { name: 'Shanghai: 02:30 on 2026-03-29 exists', schedule: sched('Asia/Shanghai', [daily('02:30', '03:00')]), at: '2026-03-29T02:00:00+08:00', state: 'Stopped', source: OUT, next: ['2026-03-29T02:30:00+08:00', 'Running'] },
];

describe('schedule evaluate(): table', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = evaluate(c.schedule, new Date(c.at));
      const got = { state: r.desiredState, source: describeSource(r.source), next: r.next && [r.next.time.toISOString(), r.next.desiredState] };
      const want = { state: c.state, source: c.source, next: c.next && [new Date(c.next[0]).toISOString(), c.next[1]] };
      assert.deepEqual(got, want);
      if (r.next) {
        // exact: the state holds up to the millisecond before, and the reported source is the one found there
        assert.equal(evaluate(c.schedule, r.next.time.getTime() - 1).desiredState, c.state, 'state 1 ms before next');
        const then = evaluate(c.schedule, r.next.time);
        assert.deepEqual({ desiredState: then.desiredState, source: then.source }, { desiredState: r.next.desiredState, source: r.next.source });
      }
    });
  }

  it('takes a Date or epoch milliseconds, and refuses an invalid instant', () => {
    const s = sched('UTC', [daily('08:00', '20:00')]);
    assert.deepEqual(evaluate(s, Date.parse('2026-11-04T09:00:00Z')), evaluate(s, new Date('2026-11-04T09:00:00Z')));
    assert.throws(() => evaluate(s, new Date('nonsense')), RangeError);
  });
});

describe('schedule validateSchedule(): a message naming the field', () => {
  const valid = officeHours([nationalDay]);
  const window = (w: Partial<RunningWindow>) => ({ ...valid, running: [daily('08:00', '20:00'), { from: '08:00', to: '20:00', ...w }] });
  const exception = (e: Partial<ScheduleException>) => ({ ...valid, exceptions: [{ ...nationalDay, ...e }] });
  const invalid: [string, unknown, string, RegExp?][] = [
    ['unknown time zone', { ...valid, timeZone: 'Mars/Olympus_Mons' }, 'spec.timeZone', /unknown time zone "Mars\/Olympus_Mons"/],
    ['an offset is not an IANA name', { ...valid, timeZone: '+08:00' }, 'spec.timeZone'],
    ['no time zone', { running: [] }, 'spec.timeZone'],
    ['from without a leading zero', window({ from: '8:00' }), 'spec.running[1].from'],
    ['from 24:00', window({ from: '24:00' }), 'spec.running[1].from'],
    ['to 24:01', window({ to: '24:01' }), 'spec.running[1].to', /24:00/],
    ['to 12:60', window({ to: '12:60' }), 'spec.running[1].to'],
    ['a day name spelled out', window({ days: ['Monday' as 'Mon'] }), 'spec.running[1].days[0]', /Mon, Tue/],
    ['an empty list of days', window({ days: [] }), 'spec.running[1].days'],
    ['51 windows', { ...valid, running: Array.from({ length: 51 }, () => daily('08:00', '20:00')) }, 'spec.running', /at most 50/],
    ['101 exceptions', { ...valid, exceptions: Array.from({ length: 101 }, () => nationalDay) }, 'spec.exceptions', /at most 100/],
    ['exception to = from', exception({ to: nationalDay.from }), 'spec.exceptions[0].to', /must be after from/],
    ['exception to before from', exception({ to: '2026-09-01T00:00:00+08:00' }), 'spec.exceptions[0].to', /must be after from/],
    ['exception without an offset', exception({ from: '2026-10-01T00:00:00' }), 'spec.exceptions[0].from', /RFC 3339/],
    ['exception on 2026-13-01', exception({ to: '2026-13-01T00:00:00Z' }), 'spec.exceptions[0].to', /RFC 3339/],
    ['exception state Off', exception({ desiredState: 'Off' as DesiredState }), 'spec.exceptions[0].desiredState'],
    ['reason of 257 characters', exception({ reason: 'x'.repeat(257) }), 'spec.exceptions[0].reason', /256/],
  ];
  it('accepts a valid spec', () => {
    assert.equal(validateSchedule(valid), undefined);
    assert.equal(validateSchedule(exception({ reason: 'x'.repeat(256) })), undefined);
    assert.equal(validateSchedule(window({ to: '24:00', days: ['Sat', 'Sun'] })), undefined);
  });
  for (const [name, spec, field, message] of invalid) {
    it(`${name}: ${field}`, () => {
      const msg = validateSchedule(spec);
      assert.ok(msg?.startsWith(`${field}: `), `expected a message naming ${field}, got ${String(msg)}`);
      if (message) assert.match(msg ?? '', message);
      assert.throws(() => evaluate(spec as EcsPowerScheduleSpec, 0), (err) => err instanceof InvalidScheduleError && err.field === field);
    });
  }
});
