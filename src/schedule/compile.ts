// Validation of an EcsPowerSchedule spec and its compiled form (parsed once, evaluated often).
// The CRD schema refuses most bad specs at admission already; this checks everything again,
// because the time zone can only be checked here and objects may predate a schema change.
import { DESIRED_STATES, type DesiredState } from '../api/types.ts';
import {
  MAX_EXCEPTIONS,
  MAX_REASON_LENGTH,
  MAX_RUNNING_WINDOWS,
  WEEKDAYS,
  type EcsPowerScheduleSpec,
} from '../api/schedule-types.ts';
import { MINUTES_PER_DAY, isKnownTimeZone, parseRfc3339, parseWallClock } from './wall-clock.ts';

/** A spec the controller cannot evaluate; `field` is the path of the offending field. */
export class InvalidScheduleError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'InvalidScheduleError';
    this.field = field;
  }
}

export interface CompiledWindow {
  index: number;
  /** ISO days of week (Monday = 1) on which the window starts. */
  isoWeekdays: ReadonlySet<number>;
  fromMinute: number;
  /** Minutes after midnight of the start day; past MINUTES_PER_DAY means the next day. */
  endMinute: number;
}

export interface CompiledException {
  index: number;
  from: number;
  to: number;
  desiredState: DesiredState;
  reason?: string;
}

export interface CompiledSchedule {
  timeZone: string;
  windows: readonly CompiledWindow[];
  exceptions: readonly CompiledException[];
  /** Set when the windows alone never change the state: no windows, or windows covering the whole week. */
  constantBase?: DesiredState;
}

/** A message naming the field when the spec is invalid, else undefined. */
export function validateSchedule(spec: unknown): string | undefined {
  try {
    compileSchedule(spec as EcsPowerScheduleSpec);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidScheduleError) return err.message;
    throw err;
  }
}

/** Parses and checks a spec; throws InvalidScheduleError naming the field. */
export function compileSchedule(spec: EcsPowerScheduleSpec): CompiledSchedule {
  if (!isObject(spec)) throw new InvalidScheduleError('spec', 'must be an object');
  const { timeZone, running, exceptions } = spec as unknown as Record<string, unknown>;
  if (typeof timeZone !== 'string' || timeZone === '') throw new InvalidScheduleError('spec.timeZone', 'required: an IANA time zone name such as Asia/Shanghai');
  if (!isKnownTimeZone(timeZone)) throw new InvalidScheduleError('spec.timeZone', `unknown time zone ${JSON.stringify(timeZone)} (an IANA name such as Asia/Shanghai is expected)`);
  const windows = listOf(running, 'spec.running', MAX_RUNNING_WINDOWS).map((w, i) => compileWindow(w, i));
  const compiledExceptions = listOf(exceptions, 'spec.exceptions', MAX_EXCEPTIONS).map((e, i) => compileException(e, i));
  const constantBase = windows.length === 0 ? 'Stopped' : coversWholeWeek(windows) ? 'Running' : undefined;
  return { timeZone, windows, exceptions: compiledExceptions, ...(constantBase ? { constantBase } : {}) };
}

function compileWindow(raw: unknown, index: number): CompiledWindow {
  const at = `spec.running[${index}]`;
  if (!isObject(raw)) throw new InvalidScheduleError(at, 'must be an object with from and to');
  const { days, from, to } = raw;
  let isoWeekdays: Set<number>;
  if (days === undefined || days === null) {
    isoWeekdays = new Set([1, 2, 3, 4, 5, 6, 7]);
  } else {
    if (!Array.isArray(days) || days.length === 0) throw new InvalidScheduleError(`${at}.days`, 'must list at least one of Mon…Sun, or be omitted for every day');
    isoWeekdays = new Set(
      days.map((d: unknown, j) => {
        const iso = WEEKDAYS.indexOf(d as (typeof WEEKDAYS)[number]);
        if (iso === -1) throw new InvalidScheduleError(`${at}.days[${j}]`, `${JSON.stringify(d)} is not one of ${WEEKDAYS.join(', ')}`);
        return iso + 1;
      }),
    );
  }
  const fromMinute = typeof from === 'string' ? parseWallClock(from, false) : undefined;
  if (fromMinute === undefined) throw new InvalidScheduleError(`${at}.from`, `${JSON.stringify(from)} is not a time HH:MM from 00:00 to 23:59`);
  const toMinute = typeof to === 'string' ? parseWallClock(to, true) : undefined;
  if (toMinute === undefined) throw new InvalidScheduleError(`${at}.to`, `${JSON.stringify(to)} is not a time HH:MM from 00:00 to 23:59, or 24:00`);
  // to <= from: the window ends on the next day (equal: 24 hours later)
  const endMinute = toMinute > fromMinute ? toMinute : toMinute + MINUTES_PER_DAY;
  return { index, isoWeekdays, fromMinute, endMinute };
}

function compileException(raw: unknown, index: number): CompiledException {
  const at = `spec.exceptions[${index}]`;
  if (!isObject(raw)) throw new InvalidScheduleError(at, 'must be an object with from, to and desiredState');
  const { from, to, desiredState, reason } = raw;
  const fromMs = typeof from === 'string' ? parseRfc3339(from) : undefined;
  if (fromMs === undefined) throw new InvalidScheduleError(`${at}.from`, `${JSON.stringify(from)} is not an RFC 3339 date-time with an offset, such as 2026-10-01T00:00:00+08:00`);
  const toMs = typeof to === 'string' ? parseRfc3339(to) : undefined;
  if (toMs === undefined) throw new InvalidScheduleError(`${at}.to`, `${JSON.stringify(to)} is not an RFC 3339 date-time with an offset, such as 2026-10-08T00:00:00+08:00`);
  if (toMs <= fromMs) throw new InvalidScheduleError(`${at}.to`, `must be after from (${String(from)}), got ${String(to)}`);
  if (!(DESIRED_STATES as readonly unknown[]).includes(desiredState)) {
    throw new InvalidScheduleError(`${at}.desiredState`, `${JSON.stringify(desiredState)} is not Running or Stopped`);
  }
  if (reason !== undefined && reason !== null && (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH)) {
    throw new InvalidScheduleError(`${at}.reason`, `must be a string of at most ${MAX_REASON_LENGTH} characters`);
  }
  return { index, from: fromMs, to: toMs, desiredState: desiredState as DesiredState, ...(typeof reason === 'string' && reason !== '' ? { reason } : {}) };
}

function listOf(value: unknown, field: string, max: number): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidScheduleError(field, 'must be a list');
  if (value.length > max) throw new InvalidScheduleError(field, `has ${value.length} items, at most ${max} are allowed`);
  return value;
}

/**
 * Whether the windows cover every wall-clock minute of the week. Then they cover every instant
 * as well: wall-clock times resolve to instants monotonically, so windows that touch or overlap
 * in wall-clock time touch or overlap as instants, DST or not.
 */
function coversWholeWeek(windows: readonly CompiledWindow[]): boolean {
  const week = 7 * MINUTES_PER_DAY;
  const spans: [number, number][] = [];
  for (const w of windows) {
    for (const day of w.isoWeekdays) {
      const start = (day - 1) * MINUTES_PER_DAY + w.fromMinute;
      const end = (day - 1) * MINUTES_PER_DAY + w.endMinute;
      if (end <= week) spans.push([start, end]);
      else spans.push([start, week], [0, end - week]); // Sunday's window runs into Monday
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [start, end] of spans) {
    if (start > covered) return false;
    covered = Math.max(covered, end);
  }
  return covered >= week;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
