export type Cancel = () => void;

/** Time and timers, injected so that decision and queue logic can be tested without sleeping. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): Cancel;
}

/** The longest delay setTimeout takes; a longer one fires after 1 ms (with a TimeoutOverflowWarning). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface TimerApi {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * A Clock on a setTimeout-like API. A delay beyond MAX_TIMEOUT_MS (about 24.8 days: a schedule's
 * next exception, an override's end) is waited for in steps, so it never fires early.
 */
export function timerClock(api: TimerApi): Clock {
  return {
    now: () => api.now(),
    setTimer(fn, ms) {
      let handle: unknown;
      let cancelled = false;
      const wait = (left: number): void => {
        const step = Math.min(left, MAX_TIMEOUT_MS);
        handle = api.setTimeout(() => {
          if (cancelled) return;
          if (left > step) wait(left - step);
          else fn();
        }, step);
      };
      wait(Math.max(0, ms));
      return () => {
        cancelled = true;
        api.clearTimeout(handle);
      };
    },
  };
}

export const realClock: Clock = timerClock({
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
