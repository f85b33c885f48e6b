// Validation of an EcsPowerOverride spec (SCHEDULES.md): a message naming the field, or
// undefined. Pure: the creation time and the --max-override-duration are passed in.
import { DESIRED_STATES } from '../api/types.ts';
import { MAX_REASON_LENGTH, type EcsPowerOverrideSpec } from '../api/schedule-types.ts';
import { validateSelector } from '../runtime/label-selector.ts';
import { parseRfc3339 } from './wall-clock.ts';

/** The instant `until` as epoch milliseconds, or undefined when it is not an RFC 3339 date-time with an offset. */
export function overrideUntil(spec: Pick<EcsPowerOverrideSpec, 'until'>): number | undefined {
  return typeof spec.until === 'string' ? parseRfc3339(spec.until) : undefined;
}

export function validateOverride(spec: unknown, createdAt: Date | number, maxDurationMs: number): string | undefined {
  if (!isObject(spec)) return 'spec: must be an object';
  const { selector, desiredState, until, reason } = spec;
  if (!isObject(selector)) return 'spec.selector: required: a label selector ({} selects every EcsInstancePower of the namespace)';
  const selectorProblem = validateSelector(selector, 'spec.selector');
  if (selectorProblem) return selectorProblem;
  if (!(DESIRED_STATES as readonly unknown[]).includes(desiredState)) return `spec.desiredState: ${JSON.stringify(desiredState)} is not Running or Stopped`;
  const untilMs = typeof until === 'string' ? parseRfc3339(until) : undefined;
  if (untilMs === undefined) return `spec.until: ${JSON.stringify(until)} is not an RFC 3339 date-time with an offset, such as 2026-12-01T22:00:00+08:00`;
  const created = typeof createdAt === 'number' ? createdAt : createdAt.getTime();
  if (untilMs - created > maxDurationMs) {
    return `spec.until: ${until} is more than the maximum override duration (${formatHours(maxDurationMs)}) after the creation of the override (${new Date(created).toISOString()})`;
  }
  if (reason !== undefined && reason !== null && (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH)) {
    return `spec.reason: must be a string of at most ${MAX_REASON_LENGTH} characters`;
  }
  return undefined;
}

function formatHours(ms: number): string {
  const hours = ms / 3600_000;
  return Number.isInteger(hours) ? `${hours}h` : `${ms / 1000}s`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
