// The real clock's timers: a delay longer than setTimeout can take (2^31-1 ms, about 24.8 days)
// is waited for in steps instead of firing after 1 ms.
import assert from 'node:assert/strict';
import { MAX_TIMEOUT_MS, timerClock } from '../../src/util/clock.ts';

/** A setTimeout that records each delay and fires only when told. */
function recordingTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const delays: number[] = [];
  let next = 0;
  return {
    delays,
    pending,
    api: {
      now: () => 0,
      setTimeout: (fn: () => void, ms: number) => {
        delays.push(ms);
        pending.set(++next, { fn, ms });
        return next;
      },
      clearTimeout: (handle: unknown) => void pending.delete(handle as number),
    },
    /** Fires every pending timer once; returns how many fired. */
    fireAll(): number {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, t] of due) t.fn();
      return due.length;
    },
  };
}

describe('timerClock().setTimer()', () => {
  const day = 86_400_000;
  const table: [string, number, number[]][] = [
    ['a short delay is one setTimeout', 1500, [1500]],
    ['a negative delay fires at once', -5, [0]],
    ['exactly the maximum is one setTimeout', MAX_TIMEOUT_MS, [MAX_TIMEOUT_MS]],
    ['30 days are waited for in two steps', 30 * day, [MAX_TIMEOUT_MS, 30 * day - MAX_TIMEOUT_MS]],
    ['60 days in three steps', 60 * day, [MAX_TIMEOUT_MS, MAX_TIMEOUT_MS, 60 * day - 2 * MAX_TIMEOUT_MS]],
  ];
  for (const [name, ms, steps] of table) {
    it(`${name}; fires once, after the last step`, () => {
      const timers = recordingTimers();
      let fired = 0;
      timerClock(timers.api).setTimer(() => fired++, ms);
      for (let i = 0; i < steps.length; i++) {
        assert.equal(fired, 0, `fired before step ${i + 1}`);
        assert.equal(timers.fireAll(), 1);
      }
      assert.equal(fired, 1);
      assert.deepEqual(timers.delays, steps);
      assert.equal(timers.pending.size, 0);
    });
  }

  it('cancel stops a long wait between steps', () => {
    const timers = recordingTimers();
    let fired = 0;
    const cancel = timerClock(timers.api).setTimer(() => fired++, 30 * day);
    timers.fireAll(); // first step elapsed
    cancel();
    assert.equal(timers.pending.size, 0);
    assert.equal(fired, 0);
  });
});
