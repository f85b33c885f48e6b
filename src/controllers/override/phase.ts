import type { EcsPowerOverride } from '../../api/schedule-types.ts';
import { overrideUntil, validateOverride } from '../../schedule/override.ts';

/** Where an override stands at an instant. */
export type OverridePhase =
  | { kind: 'invalid'; message: string }
  | { kind: 'inForce'; until: number }
  | { kind: 'expired'; until: number };

/** creationTimestamp as epoch ms (the cache holds the API's string; typed clients a Date). */
export function createdAt(override: EcsPowerOverride): number | undefined {
  const raw = override.metadata.creationTimestamp as Date | string | undefined;
  if (raw === undefined) return undefined;
  const t = new Date(raw).getTime();
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Invalid (validateOverride: a bad selector, state or until, or an until more than
 * `maxOverrideDurationMs` after its creation): no effect. Else in force from its creation until
 * `until`, then expired. An override is not held back until its creationTimestamp: the API
 * server's clock may run a little ahead of ours, and a fresh override must act at once.
 */
export function overridePhase(override: EcsPowerOverride, now: number, maxOverrideDurationMs: number): OverridePhase {
  const problem = validateOverride(override.spec, createdAt(override) ?? now, maxOverrideDurationMs);
  if (problem) return { kind: 'invalid', message: problem };
  const until = overrideUntil(override.spec)!;
  return now < until ? { kind: 'inForce', until } : { kind: 'expired', until };
}
