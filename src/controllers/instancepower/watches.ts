import type { EcsInstancePower } from '../../api/types.ts';
import type { EcsPowerSchedule } from '../../api/schedule-types.ts';
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
  queue: KeyQueue;
}

/**
 * What enqueues an EcsInstancePower (controller-runtime's For + Watches):
 * - its own creation, spec change or deletion (not status-only updates, our own writes);
 * - a change of another resource naming the same instance, old or new: the older one keeps the
 *   instance and the others are InvalidSpec, so a deletion or a fix releases a rival at once.
 */
export function watchInstancePowers({ powers, instances, scheduleRefs, queue }: InstancePowerWatchDeps): void {
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
 * A schedule created, changed (its spec, or its status: Stalled or not) or deleted requeues exactly
 * the resources that name it, found through the index, not a scan: ScheduleNotFound and
 * InvalidSchedule clear, and a new calendar takes effect, within one pass.
 */
export function watchSchedules({ schedules, scheduleRefs, queue }: { schedules: Informer<EcsPowerSchedule>; scheduleRefs: Indexer<EcsInstancePower>; queue: KeyQueue }): void {
  schedules.on((_event, schedule) => {
    for (const key of scheduleRefs.keys(keyOf(schedule))) queue.add(key);
  });
}
