import type { EcsPowerSchedule } from '../../api/schedule-types.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import { onGenerationChange } from '../../runtime/predicates.ts';
import type { KeyQueue } from '../../runtime/workqueue.ts';

/**
 * What enqueues an EcsPowerSchedule: its creation, a spec change or its deletion (not its status,
 * our own writes). Transitions come from the reconciler's own requeue.
 */
export function watchSchedules({ schedules, queue }: { schedules: Informer<EcsPowerSchedule>; queue: KeyQueue }): void {
  schedules.on(
    onGenerationChange((event, obj) => {
      const key = keyOf(obj);
      if (event === 'delete') queue.remove(key);
      queue.add(key);
    }),
  );
}
