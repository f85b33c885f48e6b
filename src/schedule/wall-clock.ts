// Local wall-clock times in an IANA time zone, resolved to instants with Temporal (the
// temporal-polyfill ponyfill uses the native Temporal where the runtime has one). Time zone
// rules come from the runtime's Intl (ICU) data; no offset arithmetic is done here.
import { Temporal } from 'temporal-polyfill';

export const MINUTES_PER_DAY = 24 * 60;

/** `HH:MM` from 00:00 to 23:59 (a window's `from`). */
export const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
/** `HH:MM` or `24:00` (a window's `to`). */
export const HH_MM_OR_24 = /^(?:([01][0-9]|2[0-3]):([0-5][0-9])|24:00)$/;

/** Minutes after midnight of `HH:MM` or `24:00`, or undefined when it is neither. */
export function parseWallClock(value: string, allow24: boolean): number | undefined {
  if (allow24 && value === '24:00') return MINUTES_PER_DAY;
  const m = HH_MM.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/**
 * Whether the runtime knows `name` as an IANA time zone. Offsets such as `+08:00` are valid
 * Temporal time zones but not IANA names, so they are refused.
 */
export function isKnownTimeZone(name: string): boolean {
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(name);
    return true;
  } catch {
    return false;
  }
}

/** The local calendar date of an instant. */
export function localDate(epochMs: number, timeZone: string): Temporal.PlainDate {
  return Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(timeZone).toPlainDate();
}

/** A calendar date as a day number (days since 1970-01-01), a cheap key for memoising. */
export function dayNumber(date: Temporal.PlainDate): number {
  return Date.UTC(date.year, date.month - 1, date.day) / 86_400_000;
}

/** The calendar date of a day number. */
export function dateOfDayNumber(day: number): Temporal.PlainDate {
  const d = new Date(day * 86_400_000);
  return Temporal.PlainDate.from({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/**
 * The instant at which the local wall-clock time `minute` (minutes after midnight, up to 24:00)
 * of `date` takes effect. A time that occurs twice (clocks set back) takes effect at its first
 * occurrence; one that does not exist (clocks jump forward) at the first instant after the gap.
 * Monotonic: a later wall-clock time never resolves to an earlier instant.
 */
export function resolveWallClock(date: Temporal.PlainDate, minute: number, timeZone: string): number {
  const day = minute >= MINUTES_PER_DAY ? date.add({ days: 1 }) : date;
  const rest = minute % MINUTES_PER_DAY;
  const wall = day.toPlainDateTime({ hour: Math.floor(rest / 60), minute: rest % 60 });
  // 'earlier' is the first occurrence of a repeated time; inside a gap it is a wall-clock time
  // before the gap, so the transition after it is the first instant after the gap.
  const earlier = wall.toZonedDateTime(timeZone, { disambiguation: 'earlier' });
  if (Temporal.PlainDateTime.compare(earlier.toPlainDateTime(), wall) === 0) return earlier.epochMilliseconds;
  const transition = earlier.getTimeZoneTransition('next');
  if (transition === null) throw new RangeError(`no time zone transition after ${earlier.toString()}`);
  return transition.epochMilliseconds;
}

/** Parses an RFC 3339 date-time with an offset (`Z` or `±HH:MM`) to epoch milliseconds. */
export const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

export function parseRfc3339(value: string): number | undefined {
  if (!RFC3339.test(value)) return undefined;
  try {
    return Temporal.Instant.from(value).epochMilliseconds;
  } catch {
    return undefined; // e.g. month 13
  }
}
