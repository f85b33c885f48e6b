// An in-memory stand-in for the shared Informer in unit tests of watches and controllers: a cache
// kept by namespace and handlers called in order, like the real one after its first list.
import type { KubernetesObject } from '@kubernetes/client-node';
import { keyOf, type Informer, type InformerEvent, type InformerHandler } from '../../src/runtime/informer.ts';

export class FakeInformer<T extends KubernetesObject> {
  private readonly handlers: Array<InformerHandler<T>> = [];
  private readonly objects = new Map<string, T>();

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.objects.values()];
    return namespace ? all.filter((o) => o.metadata?.namespace === namespace) : all;
  }

  /** Stores (or drops) the object, then calls every handler, as a watch event would. */
  emit(event: InformerEvent, obj: T): void {
    const copy = structuredClone(obj);
    if (event === 'delete') this.objects.delete(keyOf(copy));
    else this.objects.set(keyOf(copy), copy);
    for (const handler of this.handlers) handler(event, copy);
  }

  /** What the code under test takes. */
  asInformer(): Informer<T> {
    return this as unknown as Informer<T>;
  }
}
