// The running windows of a compiled schedule as instants: which window (if any) contains an
// instant, and when the windows alone next change the state.
import type { CompiledSchedule } from './compile.ts';
import { dateOfDayNumber, dayNumber, localDate, resolveWallClock } from './wall-clock.ts';

/** One window starting on one local date, as the instants [start, end). */
export interface Occurrence {
  windowIndex: number;
  start: number;
  end: number;
}

/**
 * How far past the instant's local date the search for the next change of the windows goes.
 * Windows that do not cover the whole week (see compile.ts) leave a wall-clock gap every week,
 * and only a DST gap swallowing it can hide it for one week; two months is far more than any
 * real time zone needs. If it is ever reached, no change is reported.
 */
export const MAX_SEARCH_DAYS = 56;

/** Past this many memoised dates the memo starts afresh (a long-running controller moves on). */
const MAX_MEMO_DATES = 1024;

/** The windows starting on one local date, and the instant that date begins. */
interface Day {
  start: number;
  occurrences: Occurrence[];
}

export class WindowTimeline {
  private readonly memo = new Map<number, Day>();

  constructor(private readonly schedule: CompiledSchedule) {}

  /** The lowest-indexed window containing the instant, or undefined outside every window. */
  windowAt(epochMs: number): number | undefined {
    if (this.schedule.windows.length === 0) return undefined;
    const today = dayNumber(localDate(epochMs, this.schedule.timeZone));
    let found: number | undefined;
    // a window lasts at most one day and a DST shift, so only those starting on the two
    // previous local dates or today can contain the instant
    for (let day = today - 2; day <= today; day++) {
      for (const o of this.day(day).occurrences) {
        if (o.start <= epochMs && epochMs < o.end && (found === undefined || o.windowIndex < found)) found = o.windowIndex;
      }
    }
    return found;
  }

  /**
   * The first instant after `epochMs` at which the windows alone change the state (a window
   * opens after a time outside all, or the last open one closes), if there is one before
   * `limit`. Exact: computed from the window boundaries, not sampled.
   */
  nextChange(epochMs: number, limit: number): number | undefined {
    if (this.schedule.constantBase !== undefined) return undefined;
    const today = dayNumber(localDate(epochMs, this.schedule.timeZone));
    const occurrences: Occurrence[] = [];
    for (let last = today - 3; last - today <= MAX_SEARCH_DAYS; ) {
      // add a week of start dates
      for (let i = 0; i < 7; i++) occurrences.push(...this.day(++last).occurrences);
      // every window starting after `last` starts at or after `horizon` (resolving is
      // monotonic), so up to it the union of the occurrences seen is the whole truth
      const horizon = this.day(last + 1).start;
      const change = firstBoundaryAfter(occurrences, epochMs);
      if (change !== undefined && change < horizon) return change < limit ? change : undefined;
      if (horizon >= limit) return undefined;
    }
    return undefined;
  }

  /** The local date with this day number (days since 1970-01-01). */
  private day(dayIndex: number): Day {
    const memoised = this.memo.get(dayIndex);
    if (memoised) return memoised;
    const { timeZone, windows } = this.schedule;
    const date = dateOfDayNumber(dayIndex);
    const occurrences: Occurrence[] = [];
    for (const w of windows) {
      if (!w.isoWeekdays.has(date.dayOfWeek)) continue;
      const start = resolveWallClock(date, w.fromMinute, timeZone);
      const end = resolveWallClock(date, w.endMinute, timeZone);
      if (end > start) occurrences.push({ windowIndex: w.index, start, end }); // empty when both fall in one DST gap
    }
    const day = { start: resolveWallClock(date, 0, timeZone), occurrences };
    if (this.memo.size >= MAX_MEMO_DATES) this.memo.clear();
    this.memo.set(dayIndex, day);
    return day;
  }
}

/**
 * In the union of the occurrences: the end of the stretch containing `t`, or the start of the
 * first stretch after `t`; undefined when no stretch ends after `t`.
 */
function firstBoundaryAfter(occurrences: readonly Occurrence[], t: number): number | undefined {
  const sorted = [...occurrences].sort((a, b) => a.start - b.start);
  let stretchStart: number | undefined;
  let stretchEnd = -Infinity;
  for (const o of sorted) {
    if (stretchStart !== undefined && o.start <= stretchEnd) {
      stretchEnd = Math.max(stretchEnd, o.end); // touches or overlaps: one stretch
      continue;
    }
    if (stretchStart !== undefined && stretchEnd > t) break;
    stretchStart = o.start;
    stretchEnd = o.end;
  }
  if (stretchStart === undefined || stretchEnd <= t) return undefined;
  return stretchStart <= t ? stretchEnd : stretchStart;
}
