export type Cancel = () => void;

/** Time and timers, injected so that decision and queue logic can be tested without sleeping. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): Cancel;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};
