import { createHash } from 'node:crypto';

/** Object names (DNS subdomains) are at most 253 characters. */
export const MAX_NAME_LENGTH = 253;
/** Label values are at most 63 characters. */
export const MAX_LABEL_VALUE_LENGTH = 63;
const HASH_LENGTH = 8;

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/**
 * `text` if it fits in `max`, else cut and suffixed with `-<8 hex of its hash>`: still unique
 * (the hash is of the whole text) and still a valid name (no `-` or `.` before the suffix).
 */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - HASH_LENGTH - 1).replace(/[-.]+$/, '');
  return `${cut}-${shortHash(text)}`;
}

/** A member's name: `<set name>-<instance id>`, cut and suffixed with a short hash beyond 253 characters. */
export function memberName(setName: string, instanceId: string): string {
  return fit(`${setName}-${instanceId}`, MAX_NAME_LENGTH);
}

/** The `ecspower.io/set` label value: the set's name, cut and suffixed with a short hash beyond 63 characters. */
export function setLabelValue(setName: string): string {
  return fit(setName, MAX_LABEL_VALUE_LENGTH);
}

/** A digest of a template, stored on each member: a change (labels removed too) is seen without managedFields. */
export function templateHash(template: unknown): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so that equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
