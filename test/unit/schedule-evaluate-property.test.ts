// Properties of evaluate() over random schedules and instants, in zones with DST gaps and
// repeats (1 hour, 30 minutes) and without:
//  - the state agrees with an independent oracle built on Intl alone (no Temporal);
//  - the state is constant from the instant up to `next`, and differs at `next`;
//  - evaluate(next) reports the state and source that `next` announced;
//  - without `next`, the state stays the same for the following weeks.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DesiredState } from '../../src/api/types.ts';
import { WEEKDAYS, type EcsPowerScheduleSpec, type RunningWindow, type ScheduleException } from '../../src/api/schedule-types.ts';
import { compileSchedule, evaluateCompiled } from '../../src/schedule/evaluate.ts';

const ZONES = ['UTC', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/St_Johns'];
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// instants cluster around the 2026 DST switches, where mistakes live
const SWITCHES = ['2026-03-08T07:00:00Z', '2026-03-29T01:00:00Z', '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', '2026-10-25T01:00:00Z', '2026-11-01T06:00:00Z'].map(Date.parse);

// ---------------------------------------------------------------------------------------------
// Oracle. A wall-clock time W has taken effect at instant x exactly when the local clock has
// shown W or later at some instant up to x (first occurrence of a repeated time; the end of
// the gap for a skipped one). So x is in a window [W1, W2) iff W1 <= M(x) < W2, where M(x) is
// the largest wall-clock reading up to x. Wall-clock readings come from Intl.DateTimeFormat.

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local wall-clock reading at x, as milliseconds of a UTC-like local timeline. */
function wallClock(x: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(x)).map((part) => [part.type, Number(part.value)]));
  return Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) + (((x % 1000) + 1000) % 1000);
}

/** M(x). Clocks go back by at most an hour in these zones, at most once in 90 minutes, on whole minutes. */
function maxWallClock(x: number, timeZone: string): number {
  let max = wallClock(x, timeZone);
  const lookback = 90 * MINUTE;
  if (max - wallClock(x - lookback, timeZone) === lookback) return max; // no change of offset in between
  const minute = Math.floor(x / MINUTE) * MINUTE;
  for (let g = minute; g >= minute - 90 * MINUTE; g -= MINUTE) max = Math.max(max, wallClock(g, timeZone));
  return max;
}

function oracle(spec: EcsPowerScheduleSpec, x: number): DesiredState {
  for (const e of [...(spec.exceptions ?? [])].reverse()) if (Date.parse(e.from) <= x && x < Date.parse(e.to)) return e.desiredState;
  const m = maxWallClock(x, spec.timeZone);
  const today = Math.floor(m / DAY) * DAY;
  for (const w of spec.running ?? []) {
    const from = minutes(w.from);
    const end = minutes(w.to) > from ? minutes(w.to) : minutes(w.to) + 24 * 60;
    for (const start of [today - DAY, today]) {
      const day = WEEKDAYS[(new Date(start).getUTCDay() + 6) % 7]!;
      if (w.days && !w.days.includes(day)) continue;
      if (start + from * MINUTE <= m && m < start + end * MINUTE) return 'Running';
    }
  }
  return 'Stopped';
}
const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

// ---------------------------------------------------------------------------------------------
// Arbitraries: times bunched on the hours where clocks change, short and long windows.

const pad = (n: number): string => String(n).padStart(2, '0');
const hhmm = fc
  .tuple(fc.oneof(fc.constantFrom(0, 1, 2, 3, 22, 23), fc.integer({ min: 0, max: 23 })), fc.constantFrom(0, 10, 15, 30, 45, 59))
  .map(([h, m]) => `${pad(h)}:${pad(m)}`);
const windowArb: fc.Arbitrary<RunningWindow> = fc.record(
  {
    days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
    from: hhmm,
    to: fc.oneof({ weight: 6, arbitrary: hhmm }, { weight: 1, arbitrary: fc.constant('24:00') }),
  },
  { requiredKeys: ['from', 'to'] },
);
const instantArb = fc.oneof(
  fc.tuple(fc.constantFrom(...SWITCHES), fc.integer({ min: -2 * DAY, max: 2 * DAY })).map(([s, d]) => s + d),
  fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }),
);
const exceptionArb = (around: number): fc.Arbitrary<ScheduleException> =>
  fc
    .record({
      start: fc.integer({ min: -3 * DAY, max: 10 * DAY }),
      length: fc.oneof(fc.integer({ min: 1, max: 3 * 60 }).map((m) => m * MINUTE), fc.integer({ min: 1, max: 6 * DAY })),
      desiredState: fc.constantFrom<DesiredState>('Running', 'Stopped'),
    })
    .map(({ start, length, desiredState }) => {
      const from = Math.floor((around + start) / MINUTE) * MINUTE;
      return { from: new Date(from).toISOString(), to: new Date(from + length).toISOString(), desiredState };
    });
const caseArb = instantArb.chain((t) =>
  fc.record({
    t: fc.constant(t),
    spec: fc.record({
      timeZone: fc.constantFrom(...ZONES),
      running: fc.array(windowArb, { maxLength: 4 }),
      exceptions: fc.array(exceptionArb(t), { maxLength: 3 }),
    }),
  }),
);

describe('schedule evaluate(): properties', function () {
  this.timeout(60_000);

  it('agrees with the Intl oracle, is constant up to next and changes at next', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), ({ t, spec }, fractions) => {
        const compiled = compileSchedule(spec);
        const now = evaluateCompiled(compiled, t);
        assert.equal(now.desiredState, oracle(spec, t), 'state at t');
        if (now.next) {
          const next = now.next.time.getTime();
          assert.ok(next > t, 'next is after t');
          // Every sample in [t, next): next may be only 1 ms after t.
          const samples = [Math.min(t + 1, next - 1), next - 1, ...fractions.map((f) => t + Math.floor(f * (next - 1 - t)))];
          for (const x of samples) {
            assert.equal(evaluateCompiled(compiled, x).desiredState, now.desiredState, `evaluate at ${new Date(x).toISOString()}`);
            assert.equal(oracle(spec, x), now.desiredState, `oracle at ${new Date(x).toISOString()}`);
          }
          const then = evaluateCompiled(compiled, next);
          assert.notEqual(now.next.desiredState, now.desiredState);
          assert.deepEqual({ desiredState: then.desiredState, source: then.source }, { desiredState: now.next.desiredState, source: now.next.source });
          assert.equal(oracle(spec, next), now.next.desiredState, 'oracle at next');
        } else {
          for (const f of fractions) {
            const x = t + Math.floor(f * 35 * DAY);
            assert.equal(evaluateCompiled(compiled, x).desiredState, now.desiredState, `no next, yet evaluate differs at ${new Date(x).toISOString()}`);
            assert.equal(oracle(spec, x), now.desiredState, `no next, yet the oracle differs at ${new Date(x).toISOString()}`);
          }
        }
      }),
      { numRuns: 250, ...(process.env['FC_SEED'] ? { seed: Number(process.env['FC_SEED']) } : {}) },
    );
  });
});
