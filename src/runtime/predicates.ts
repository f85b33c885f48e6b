import type { KubernetesObject } from '@kubernetes/client-node';
import { keyOf, type InformerHandler } from './informer.ts';

/**
 * controller-runtime's GenerationChangedPredicate: passes creation, deletion, spec changes and a
 * new deletionTimestamp; drops status-only updates (among them the controller's own writes).
 */
export function onGenerationChange<T extends KubernetesObject>(handler: InformerHandler<T>): InformerHandler<T> {
  const generations = new Map<string, number | undefined>();
  return (event, obj) => {
    const key = keyOf(obj);
    if (event === 'delete') {
      generations.delete(key);
      handler(event, obj);
      return;
    }
    const generation = obj.metadata?.generation;
    const changed = event === 'add' || !generations.has(key) || generations.get(key) !== generation;
    generations.set(key, generation);
    if (changed || obj.metadata?.deletionTimestamp) handler(event, obj);
  };
}
