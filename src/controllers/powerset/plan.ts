import { API_VERSION, KIND, type EcsInstancePower, type EcsInstancePowerSpec } from '../../api/types.ts';
import { SET_KIND, SET_LABEL, type EcsInstancePowerSet } from '../../api/powerset-types.ts';
import type { DiscoveredInstance } from '../../ecs/discovery.ts';
import { canonicalJson, memberName, setLabelValue, templateHash } from './naming.ts';
import type { SetSettings } from './spec.ts';

/** On every member: the digest of the template it was made from. */
export const TEMPLATE_HASH_ANNOTATION = 'ecspower.io/template-hash';

/** A member as the set wants it: what server-side apply sends. */
export interface DesiredMember {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: true; blockOwnerDeletion: true }>;
  };
  spec: EcsInstancePowerSpec;
}

/** A resource already naming an instance, for the conflict check. */
export interface Claimant {
  key: string;
  /** metadata.creationTimestamp (RFC 3339 text, or a Date); the oldest resource keeps the instance. */
  creationTimestamp: string | Date | undefined;
}

export interface Conflict {
  regionId: string;
  instanceId: string;
  /** `namespace/name` of the resource that keeps the instance. */
  owner: string;
}

export interface MemberPlan {
  /** Members to create or bring in line with the template (server-side apply). */
  apply: DesiredMember[];
  /** Members whose instance no longer matches (or is kept by an older resource). */
  delete: Array<{ name: string; uid: string | undefined }>;
  conflicts: Conflict[];
  /** Names of the members once the plan is carried out. */
  members: string[];
}

export interface PlanInput {
  set: EcsInstancePowerSet;
  settings: SetSettings;
  /** Members this set owns now (controller reference to its uid). */
  owned: readonly EcsInstancePower[];
  /**
   * The instances found per region this pass; regions missing here were not discovered (a failed
   * call, or no discovery due): their members are left as they are.
   */
  discovered: ReadonlyMap<string, readonly DiscoveredInstance[]>;
  /** Regions whose discovery failed this pass: their members are not changed at all. */
  failed: ReadonlySet<string>;
  /** Resources other than this set's members naming the instance in the region. */
  foreignClaimants(regionId: string, instanceId: string): Claimant[];
  /** A resource of that name in the set's namespace that this set does not own, if any. */
  foreignByName(name: string): Claimant | undefined;
}

/**
 * Desired members against existing ones (pure). Matching instances without a member get one;
 * members differing from the template are applied again; members whose instance was
 * discovered no longer matching, or whose region left the set, are deleted; members of regions
 * not discovered this pass are only brought in line with the template, and members of regions
 * whose discovery failed are not changed at all. An instance that a
 * resource this set does not own already names is a conflict, unless this set's member is older.
 */
export function planMembers(input: PlanInput): MemberPlan {
  const { set, settings, owned, discovered } = input;
  const regions = new Set(settings.regionIds);
  const ownedByName = new Map(owned.map((m) => [m.metadata.name ?? '', m]));
  const plan: MemberPlan = { apply: [], delete: [], conflicts: [], members: [] };
  const keep = new Set<string>();
  const hash = templateHash(set.spec.template);

  for (const [regionId, instances] of discovered) {
    if (!regions.has(regionId)) continue;
    for (const instance of instances) {
      if (Object.hasOwn(instance.tags, settings.excludeTagKey)) continue;
      const name = memberName(set.metadata.name ?? '', instance.instanceId);
      const mine = ownedByName.get(name);
      const rival = olderRival(input, regionId, instance.instanceId, name, mine);
      if (rival) {
        plan.conflicts.push({ regionId, instanceId: instance.instanceId, owner: rival.key });
        continue;
      }
      keep.add(name);
      const desired = desiredMember(set, regionId, instance.instanceId, hash);
      if (!mine || differs(mine, desired)) plan.apply.push(desired);
    }
  }

  for (const member of owned) {
    const name = member.metadata.name ?? '';
    if (keep.has(name)) continue;
    const regionId = member.spec?.regionId ?? '';
    const gone = !regions.has(regionId) || discovered.has(regionId);
    if (gone) {
      plan.delete.push({ name, uid: member.metadata.uid });
      continue;
    }
    keep.add(name);
    if (input.failed.has(regionId)) continue;
    const desired = desiredMember(set, regionId, member.spec.instanceId, hash);
    if (differs(member, desired)) plan.apply.push(desired);
  }
  plan.members = [...keep].sort();
  plan.conflicts.sort((a, b) => a.regionId.localeCompare(b.regionId) || a.instanceId.localeCompare(b.instanceId));
  return plan;
}

/** The resource that keeps the instance instead of this set's member, if any (the oldest wins). */
function olderRival(input: PlanInput, regionId: string, instanceId: string, name: string, mine: EcsInstancePower | undefined): Claimant | undefined {
  const byName = input.foreignByName(name);
  if (byName) return byName;
  const rivals = input.foreignClaimants(regionId, instanceId);
  if (rivals.length === 0) return undefined;
  const oldest = [...rivals].sort((a, b) => createdAt(a.creationTimestamp) - createdAt(b.creationTimestamp) || a.key.localeCompare(b.key))[0]!;
  if (mine && createdAt(mine.metadata.creationTimestamp) <= createdAt(oldest.creationTimestamp)) return undefined;
  return oldest;
}

/** Unknown creation times sort last: a resource not yet stored never keeps an instance from an older one. */
function createdAt(t: string | Date | undefined): number {
  const ms = t === undefined ? NaN : new Date(t).getTime();
  return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
}

/** The member of one instance as the template says. */
export function desiredMember(set: EcsInstancePowerSet, regionId: string, instanceId: string, hash = templateHash(set.spec.template)): DesiredMember {
  const template = set.spec.template;
  const setName = set.metadata.name ?? '';
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: memberName(setName, instanceId),
      namespace: set.metadata.namespace ?? 'default',
      labels: { ...(template.metadata?.labels ?? {}), [SET_LABEL]: setLabelValue(setName) },
      annotations: { ...(template.metadata?.annotations ?? {}), [TEMPLATE_HASH_ANNOTATION]: hash },
      ownerReferences: [
        { apiVersion: set.apiVersion ?? API_VERSION, kind: SET_KIND, name: setName, uid: set.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: { ...template.spec, instanceId, regionId },
  };
}

/** Whether an existing member differs from what the template says (hand edits included). */
export function differs(member: EcsInstancePower, desired: DesiredMember): boolean {
  if (canonicalJson(withDefaults(member.spec)) !== canonicalJson(withDefaults(desired.spec))) return true;
  const labels = member.metadata.labels ?? {};
  const annotations = member.metadata.annotations ?? {};
  if (Object.entries(desired.metadata.labels).some(([k, v]) => labels[k] !== v)) return true;
  if (Object.entries(desired.metadata.annotations).some(([k, v]) => annotations[k] !== v)) return true;
  const ref = desired.metadata.ownerReferences[0]!;
  return !(member.metadata.ownerReferences ?? []).some((r) => r.uid === ref.uid && r.controller === true && r.blockOwnerDeletion === true);
}

/** The CRD's defaults, so that a stored member and a desired one compare equal. */
function withDefaults(spec: Partial<EcsInstancePowerSpec> | undefined): Partial<EcsInstancePowerSpec> {
  return { forceStop: false, confirmStop: false, hibernate: false, dryRun: false, driftPolicy: 'Enforce', ...(spec ?? {}) };
}
