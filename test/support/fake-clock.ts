// A manual clock for unit tests: time moves only when a test says so, timers fire in deadline
// order (ties in the order they were set), and timers set by a firing timer fire in the same
// advance when they fall due.
import type { Cancel, Clock } from '../../src/util/clock.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets every promise callback queued so far (and those they queue) run. */
export async function flushMicrotasks(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private t: number;
  private nextId = 0;
  private timers: Timer[] = [];

  constructor(start: number = Date.parse('2025-06-01T10:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): Cancel {
    const timer: Timer = { id: this.nextId++, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Timers set and not yet fired or cancelled. */
  pending(): number {
    return this.timers.length;
  }

  /** A sleep on this clock, for code that takes `sleep(ms)`. */
  sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => this.setTimer(resolve, ms));

  /** Moves time forward by `ms`, firing due timers synchronously in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.fire(next);
    }
    this.t = target;
  }

  /**
   * Like advance(), but lets promise callbacks run before and after each timer, so that code
   * awaiting a timer and then setting the next one (sleep loops, token buckets) makes progress.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.t + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.fire(next);
      await flushMicrotasks();
    }
    this.t = target;
    await flushMicrotasks();
  }

  private nextDue(target: number): Timer | undefined {
    let best: Timer | undefined;
    for (const x of this.timers) {
      if (x.at > target) continue;
      if (!best || x.at < best.at || (x.at === best.at && x.id < best.id)) best = x;
    }
    return best;
  }

  private fire(timer: Timer): void {
    this.timers = this.timers.filter((x) => x !== timer);
    this.t = Math.max(this.t, timer.at);
    timer.fn();
  }
}
