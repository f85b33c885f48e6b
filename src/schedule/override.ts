// Validation of an EcsPowerOverride spec (SCHEDULES.md): a message naming the field, or
// undefined. Pure: the creation time and the --max-override-duration are passed in.
import { DESIRED_STATES } from '../api/types.ts';
import { MAX_REASON_LENGTH, type EcsPowerOverrideSpec } from '../api/schedule-types.ts';
import { parseRfc3339 } from './wall-clock.ts';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** The instant `until` as epoch milliseconds, or undefined when it is not an RFC 3339 date-time with an offset. */
export function overrideUntil(spec: Pick<EcsPowerOverrideSpec, 'until'>): number | undefined {
  return typeof spec.until === 'string' ? parseRfc3339(spec.until) : undefined;
}

export function validateOverride(spec: unknown, createdAt: Date | number, maxDurationMs: number): string | undefined {
  if (!isObject(spec)) return 'spec: must be an object';
  const { selector, desiredState, until, reason } = spec;
  if (!isObject(selector)) return 'spec.selector: required: a label selector ({} selects every EcsInstancePower of the namespace)';
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isObject(matchLabels)) return 'spec.selector.matchLabels: must be a map of label values';
    for (const [key, value] of Object.entries(matchLabels)) {
      if (typeof value !== 'string') return `spec.selector.matchLabels.${key}: must be a string`;
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) return 'spec.selector.matchExpressions: must be a list';
    for (const [i, e] of matchExpressions.entries()) {
      const at = `spec.selector.matchExpressions[${i}]`;
      if (!isObject(e) || typeof e['key'] !== 'string' || e['key'] === '') return `${at}.key: required`;
      const operator = e['operator'];
      if (typeof operator !== 'string' || !OPERATORS.includes(operator)) return `${at}.operator: ${JSON.stringify(operator)} is not one of ${OPERATORS.join(', ')}`;
      const values: unknown = e['values'] ?? [];
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return `${at}.values: must be a list of strings`;
      const needsValues = operator === 'In' || operator === 'NotIn';
      if (needsValues && values.length === 0) return `${at}.values: must not be empty for operator ${operator}`;
      if (!needsValues && values.length > 0) return `${at}.values: must be empty for operator ${operator}`;
    }
  }
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
