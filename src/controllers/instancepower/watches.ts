import type { EcsInstancePower } from '../../api/types.ts';
import type { EcsPowerOverride, EcsPowerSchedule } from '../../api/schedule-types.ts';
import type { LabelIndex } from '../../runtime/label-index.ts';
import { sameLabels } from '../../runtime/label-selector.ts';
import type { Indexer } from '../../runtime/indexer.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import { onGenerationChange } from '../../runtime/predicates.ts';
import type { KeyQueue } from '../../runtime/workqueue.ts';

/** The index value of the instance a resource names. */
export const instanceIndexValue = (regionId: string, instanceId: string): string => `${regionId}/${instanceId}`;

/** Index function: which instance a resource names (none when the spec is missing). */
export function byInstance(obj: EcsInstancePower): string[] {
  const spec = obj.spec as Partial<EcsInstancePower['spec']> | undefined;
  return spec?.regionId && spec.instanceId ? [instanceIndexValue(spec.regionId, spec.instanceId)] : [];
}

/** Index function: the EcsPowerSchedule a resource names, as `namespace/name`. */
export function byScheduleRef(obj: EcsInstancePower): string[] {
  const name = (obj.spec as Partial<EcsInstancePower['spec']> | undefined)?.scheduleRef?.name;
  return name ? [`${obj.metadata.namespace ?? ''}/${name}`] : [];
}

export interface InstancePowerWatchDeps {
  powers: Informer<EcsInstancePower>;
  instances: Indexer<EcsInstancePower>;
  scheduleRefs: Indexer<EcsInstancePower>;
  /** By namespace and label: which resources an override selects. */
  labels: LabelIndex<EcsInstancePower>;
  queue: KeyQueue;
}

/**
 * What enqueues an EcsInstancePower (controller-runtime's For + Watches):
 * - its own creation, spec change or deletion (not status-only updates, our own writes);
 * - a change of another resource naming the same instance, old or new: the older one keeps the
 *   instance and the others are InvalidSpec, so a deletion or a fix releases a rival at once.
 */
export function watchInstancePowers({ powers, instances, scheduleRefs, labels, queue }: InstancePowerWatchDeps): void {
  // Labels decide which overrides govern a resource, and changing them bumps no generation.
  powers.on((event, obj) => {
    const key = keyOf(obj);
    const before = labels.labelsOf(key);
    labels.handle(event, obj);
    if (event === 'update' && before && !sameLabels(before, obj.metadata.labels ?? {})) queue.add(key);
  });
  powers.on(
    onGenerationChange((event, obj) => {
      const key = keyOf(obj);
      scheduleRefs.handle(event, obj);
      // Rivals under the instance it named until now, and under the one it names now.
      const rivals = new Set(instances.valuesFor(key).flatMap((value) => instances.keys(value)));
      instances.handle(event, obj);
      for (const value of byInstance(obj)) for (const other of instances.keys(value)) rivals.add(other);
      rivals.delete(key);
      if (event === 'delete') queue.remove(key);
      queue.add(key);
      for (const rival of rivals) queue.add(rival);
    }),
  );
}

/**
 * A schedule created, changed or deleted (not its own status writes) requeues exactly
 * the resources that name it, found through the index, not a scan: ScheduleNotFound and
 * InvalidSchedule clear, and a new calendar takes effect, within one pass.
 */
export function watchSchedules({ schedules, scheduleRefs, queue }: { schedules: Informer<EcsPowerSchedule>; scheduleRefs: Indexer<EcsInstancePower>; queue: KeyQueue }): void {
  schedules.on(
    onGenerationChange((_event, schedule) => {
      for (const key of scheduleRefs.keys(keyOf(schedule))) queue.add(key);
    }),
  );
}

/**
 * An override created, changed (selector, state, until) or deleted requeues exactly the resources
 * it selects, before and after the change, through the label index: deleting an override ends it
 * at once. Its own status writes (matched) requeue nothing.
 */
export function watchOverrides({ overrides, labels, queue }: { overrides: Informer<EcsPowerOverride>; labels: LabelIndex<EcsInstancePower>; queue: KeyQueue }): void {
  const selectors = new Map<string, { namespace: string; selector: EcsPowerOverride['spec']['selector'] | undefined }>();
  overrides.on(
    onGenerationChange((event, override) => {
      const key = keyOf(override);
      const namespace = override.metadata.namespace ?? '';
      const before = selectors.get(key);
      if (event === 'delete') selectors.delete(key);
      else selectors.set(key, { namespace, selector: override.spec?.selector });
      const affected = new Set<string>();
      if (before) for (const k of labels.select(before.namespace, before.selector)) affected.add(k);
      if (event !== 'delete') for (const k of labels.select(namespace, override.spec?.selector)) affected.add(k);
      for (const k of affected) queue.add(k);
    }),
  );
}
