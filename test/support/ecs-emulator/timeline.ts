/**
 * The power state of one instance over time: a list of changes, each valid from its time `at`
 * until the next one. Future changes are scheduled up front (an accepted stop writes "Stopping
 * from now, Stopped from now + stopMs"), so the state at any time is a lookup, with no timers.
 * An instance has two timelines: what it really is, and what describes report (late by the
 * acceptance lag); reading the second one in the past gives the describe lag.
 */
import type { InstanceStatus } from './types.ts';

export interface PowerState {
  status: InstanceStatus;
  stopMode: 'KeepCharging' | 'StopCharging';
  hibernated: boolean;
}

export interface Change extends PowerState {
  at: number;
}

export class Timeline {
  private changes: Change[];

  constructor(at: number, state: PowerState) {
    this.changes = [{ at, ...state }];
  }

  /** The state at time `t` (the first known state for a `t` before it). */
  at(t: number): PowerState {
    let found = this.changes[0] as Change;
    for (const c of this.changes) {
      if (c.at > t) break;
      found = c;
    }
    return found;
  }

  /** Time of the first change after `t`, if one is scheduled. */
  nextChangeAfter(t: number): number | undefined {
    return this.changes.find((c) => c.at > t)?.at;
  }

  /** Cancels every change scheduled after `t`, then schedules `next` (times >= `t`, ascending). */
  rewrite(t: number, next: Change[]): void {
    this.changes = this.changes.filter((c) => c.at <= t);
    for (const c of next) {
      // A change at exactly `t` replaces the one already there.
      const last = this.changes.at(-1);
      if (last && last.at === c.at) this.changes.pop();
      this.changes.push(c);
    }
  }

  /** Applies `patch` from time `t` on: to the state valid at `t` and to every later change. */
  amend(t: number, patch: Partial<PowerState>): void {
    const current = this.at(t);
    const earlier = this.changes.filter((c) => c.at < t);
    const later = this.changes.filter((c) => c.at > t).map((c) => ({ ...c, ...patch }));
    this.changes = [...earlier, { ...current, ...patch, at: t }, ...later];
  }

  /** Forgets what no read at or after `t` can see (keeps the state valid at `t`). */
  forgetBefore(t: number): void {
    let keepFrom = 0;
    for (let i = 0; i < this.changes.length; i++) if ((this.changes[i] as Change).at <= t) keepFrom = i;
    if (keepFrom > 0) this.changes = this.changes.slice(keepFrom);
  }
}
