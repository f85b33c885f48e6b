import type { EcsInstancePower } from '../../api/types.ts';
import { GROUP } from '../../api/types.ts';
import { SET_KIND, type EcsInstancePowerSet } from '../../api/powerset-types.ts';
import { findCondition } from '../../api/conditions.ts';
import type { Indexer } from '../../runtime/indexer.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import { onGenerationChange } from '../../runtime/predicates.ts';
import type { DelayingKeyQueue } from '../../runtime/workqueue.ts';

/** The set (`namespace/name`) a member belongs to: its controller reference to an EcsInstancePowerSet. */
export function ownerSetKey(obj: EcsInstancePower): string | undefined {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true && r.kind === SET_KIND && r.apiVersion.startsWith(`${GROUP}/`));
  return ref ? `${obj.metadata.namespace ?? ''}/${ref.name}` : undefined;
}

/** Index function: the set owning a member. */
export function byOwnerSet(obj: EcsInstancePower): string[] {
  const key = ownerSetKey(obj);
  return key ? [key] : [];
}

/** The index value of an instance. */
export const instanceKey = (regionId: string, instanceId: string): string => `${regionId}/${instanceId}`;

/** Index function: the instance a resource names. */
export function byInstance(obj: EcsInstancePower): string[] {
  const spec = obj.spec as Partial<EcsInstancePower['spec']> | undefined;
  return spec?.regionId && spec.instanceId ? [instanceKey(spec.regionId, spec.instanceId)] : [];
}

/** A set's creation, spec change or deletion (not its own status writes). */
export function watchSets(sets: Informer<EcsInstancePowerSet>, queue: DelayingKeyQueue, forget: (key: string) => void): void {
  sets.on(
    onGenerationChange((event, set) => {
      const key = keyOf(set);
      if (event === 'delete') {
        queue.remove(key);
        forget(key);
        return;
      }
      queue.add(key);
    }),
  );
}

export interface MemberWatchDeps {
  powers: Informer<EcsInstancePower>;
  owners: Indexer<EcsInstancePower>;
  instances: Indexer<EcsInstancePower>;
  queue: DelayingKeyQueue;
  /** How long a member's change waits before its set is looked at: changes in between share the pass. */
  delayMs: number;
}

/**
 * Member changes requeue the owning set, through the index of owners, for its counts and
 * conditions: a member created, deleted, edited (a new generation) or whose Ready or Stalled
 * changed. Not at once: the set comes back `delayMs` later, and the workqueue keeps one pending
 * deadline per key, so thousands of members converging make one set pass per `delayMs`, not one
 * per member.
 */
export function watchMembers({ powers, owners, instances, queue, delayMs }: MemberWatchDeps): void {
  const seen = new Map<string, string>();
  powers.on((event, obj) => {
    const key = keyOf(obj);
    const before = owners.valuesFor(key);
    owners.handle(event, obj);
    instances.handle(event, obj);
    const after = event === 'delete' ? [] : byOwnerSet(obj);
    if (before.length === 0 && after.length === 0) {
      seen.delete(key);
      return;
    }
    const signature = event === 'delete' ? undefined : memberSignature(obj);
    const changed = signature === undefined || seen.get(key) !== signature;
    if (signature === undefined) seen.delete(key);
    else seen.set(key, signature);
    if (!changed) return;
    for (const set of new Set([...before, ...after])) queue.addAfter(set, delayMs);
  });
}

/** What a set's status reads of a member. */
function memberSignature(obj: EcsInstancePower): string {
  const ready = findCondition(obj.status?.conditions, 'Ready');
  const stalled = findCondition(obj.status?.conditions, 'Stalled');
  return `${obj.metadata.generation}|${obj.status?.observedGeneration}|${ready?.status}|${stalled?.status}|${obj.metadata.deletionTimestamp ? 'd' : ''}`;
}
