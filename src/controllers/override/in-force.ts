import type { EcsPowerOverride } from '../../api/schedule-types.ts';
import { matchesSelector, type Labels } from '../../runtime/label-selector.ts';
import { createdAt, overridePhase } from './phase.ts';

/**
 * The overrides that govern a resource with these labels at `now`: valid, in force, not being
 * deleted, and selecting the labels. Newest first: the newest creationTimestamp, then (created in
 * the same second) the first by name. The first one, if any, gives the effective desired state.
 * Pass the overrides of the resource's namespace only.
 */
export function overridesInForce(
  overrides: Iterable<EcsPowerOverride>,
  labels: Labels | undefined,
  now: Date | number,
  maxOverrideDurationMs: number,
): EcsPowerOverride[] {
  const t = typeof now === 'number' ? now : now.getTime();
  const out: EcsPowerOverride[] = [];
  for (const override of overrides) {
    if (override.metadata.deletionTimestamp) continue;
    if (!matchesSelector(override.spec?.selector, labels)) continue;
    if (overridePhase(override, t, maxOverrideDurationMs).kind !== 'inForce') continue;
    out.push(override);
  }
  return out.sort(newestFirst);
}

/** How many overrides are in force (ecspower_overrides_active). */
export function countInForce(overrides: Iterable<EcsPowerOverride>, now: number, maxOverrideDurationMs: number): number {
  let n = 0;
  for (const override of overrides) {
    if (!override.metadata.deletionTimestamp && overridePhase(override, now, maxOverrideDurationMs).kind === 'inForce') n++;
  }
  return n;
}

function newestFirst(a: EcsPowerOverride, b: EcsPowerOverride): number {
  const byTime = (createdAt(b) ?? 0) - (createdAt(a) ?? 0);
  if (byTime !== 0) return byTime;
  const nameA = a.metadata.name ?? '';
  const nameB = b.metadata.name ?? '';
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}
