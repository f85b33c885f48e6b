import type { KubernetesObject } from '@kubernetes/client-node';
import { keyOf, type InformerEvent } from './informer.ts';

/**
 * client-go's cache.Indexer for one index: which objects carry an index value (an instance, the
 * schedule they name, a label pair). Kept up to date from informer events, so a watch of another
 * kind maps its events to keys without scanning every object.
 */
export class Indexer<T extends KubernetesObject> {
  private readonly byValue = new Map<string, Set<string>>();
  private readonly valuesOf = new Map<string, readonly string[]>();

  constructor(private readonly indexValues: (obj: T) => readonly string[]) {}

  /** Feed it every informer event of the kind. */
  handle(event: InformerEvent, obj: T): void {
    const key = keyOf(obj);
    this.unindex(key);
    if (event === 'delete') return;
    const values = [...new Set(this.indexValues(obj))];
    if (values.length === 0) return;
    this.valuesOf.set(key, values);
    for (const value of values) {
      let keys = this.byValue.get(value);
      if (!keys) this.byValue.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Keys of the objects carrying this index value. */
  keys(value: string): string[] {
    return [...(this.byValue.get(value) ?? [])];
  }

  /** The index values an object had when last seen. */
  valuesFor(key: string): readonly string[] {
    return this.valuesOf.get(key) ?? [];
  }

  size(value: string): number {
    return this.byValue.get(value)?.size ?? 0;
  }

  private unindex(key: string): void {
    const values = this.valuesOf.get(key);
    if (!values) return;
    this.valuesOf.delete(key);
    for (const value of values) {
      const keys = this.byValue.get(value);
      keys?.delete(key);
      if (keys?.size === 0) this.byValue.delete(value);
    }
  }
}
