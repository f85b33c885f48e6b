import type { EcsPowerOverride } from '../../api/schedule-types.ts';
import type { EcsInstancePower } from '../../api/types.ts';
import { keyOf, type Informer } from '../../runtime/informer.ts';
import type { LabelIndex } from '../../runtime/label-index.ts';
import { matchesSelector, sameLabels, type Labels } from '../../runtime/label-selector.ts';
import { onGenerationChange } from '../../runtime/predicates.ts';
import type { KeyQueue } from '../../runtime/workqueue.ts';

export interface OverrideWatchDeps {
  overrides: Informer<EcsPowerOverride>;
  powers: Informer<EcsInstancePower>;
  /** The EcsInstancePowers by namespace and label; fed here from the powers informer. */
  powerLabels: LabelIndex<EcsInstancePower>;
  queue: KeyQueue;
}

/**
 * What enqueues an EcsPowerOverride:
 * - its own creation, spec change or deletion (not its status, our own writes);
 * - an EcsInstancePower of its namespace created, deleted or relabelled such that the override's
 *   selector selects it before or after, so `matched` follows. Status-only updates of the
 *   resources (the other controller's writes) enqueue nothing.
 */
export function watchOverrides({ overrides, powers, powerLabels, queue }: OverrideWatchDeps): void {
  overrides.on(
    onGenerationChange((event, obj) => {
      const key = keyOf(obj);
      if (event === 'delete') queue.remove(key);
      queue.add(key);
    }),
  );
  powers.on((event, obj) => {
    const key = keyOf(obj);
    const before = powerLabels.labelsOf(key);
    powerLabels.handle(event, obj);
    const after = event === 'delete' ? undefined : powerLabels.labelsOf(key);
    if (before !== undefined && after !== undefined && sameLabels(before, after)) return;
    const selects = (labels: Labels | undefined, override: EcsPowerOverride): boolean => labels !== undefined && matchesSelector(override.spec?.selector, labels);
    // the informer's cache is kept by namespace: this reads one namespace's overrides, not all
    for (const override of overrides.list(obj.metadata?.namespace ?? '')) {
      if (selects(before, override) || selects(after, override)) queue.add(keyOf(override));
    }
  });
}
