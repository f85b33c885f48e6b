import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import { keyOf, type InformerEvent } from './informer.ts';
import { matchesSelector, sameLabels, type Labels } from './label-selector.ts';

interface Entry {
  namespace: string;
  labels: Labels;
}

const SEP = '\u0000'; // in neither namespaces nor label keys and values

/**
 * The objects of one kind by namespace, by (namespace, label key) and by (namespace, label
 * key=value), kept up to date from informer events like Indexer. select() answers a label
 * selector from the smallest candidate set the selector allows (a matchLabels pair, the values
 * of an `In` requirement, the key of an `Exists` one) and filters it with matchesSelector; only a
 * selector with none of these (`{}`, only NotIn / DoesNotExist) walks its whole namespace.
 */
export class LabelIndex<T extends KubernetesObject> {
  private readonly entries = new Map<string, Entry>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byPair = new Map<string, Set<string>>();

  /** Feed it every informer event of the kind. */
  handle(event: InformerEvent, obj: T): void {
    const key = keyOf(obj);
    if (event === 'delete') {
      this.unindex(key);
      return;
    }
    const labels: Labels = { ...(obj.metadata?.labels ?? {}) };
    const existing = this.entries.get(key);
    if (existing && sameLabels(existing.labels, labels)) return;
    this.unindex(key);
    const namespace = obj.metadata?.namespace ?? '';
    this.entries.set(key, { namespace, labels });
    add(this.byNamespace, namespace, key);
    for (const [label, value] of Object.entries(labels)) {
      add(this.byKey, keyIndex(namespace, label), key);
      add(this.byPair, pairIndex(namespace, label, value), key);
    }
  }

  /** The labels an object had when last seen; undefined when it is not (or no longer) known. */
  labelsOf(key: string): Labels | undefined {
    return this.entries.get(key)?.labels;
  }

  /** Keys of the objects of `namespace` that the selector selects (apimachinery semantics). */
  select(namespace: string, selector: V1LabelSelector | null | undefined): string[] {
    const out: string[] = [];
    for (const key of this.candidates(namespace, selector)) {
      if (matchesSelector(selector, this.entries.get(key)?.labels)) out.push(key);
    }
    return out;
  }

  /** How many objects of `namespace` the selector selects. */
  count(namespace: string, selector: V1LabelSelector | null | undefined): number {
    let n = 0;
    for (const key of this.candidates(namespace, selector)) if (matchesSelector(selector, this.entries.get(key)?.labels)) n++;
    return n;
  }

  /** How many objects select() looks at for this selector (the size of its candidate set). */
  candidateCount(namespace: string, selector: V1LabelSelector | null | undefined): number {
    return [...this.candidates(namespace, selector)].length;
  }

  /** A superset of the selected keys, as small as the index allows. */
  private candidates(namespace: string, selector: V1LabelSelector | null | undefined): Iterable<string> {
    if (selector === null || typeof selector !== 'object') return [];
    let best: Iterable<string> | undefined;
    let bestSize = Infinity;
    const consider = (sets: Array<Set<string> | undefined>): void => {
      const size = sets.reduce((n, s) => n + (s?.size ?? 0), 0);
      if (size >= bestSize) return;
      bestSize = size;
      best = sets.length === 1 ? (sets[0] ?? []) : sets.flatMap((s) => [...(s ?? [])]);
    };
    for (const [label, value] of Object.entries(selector.matchLabels ?? {})) {
      if (typeof value === 'string') consider([this.byPair.get(pairIndex(namespace, label, value))]);
    }
    for (const requirement of selector.matchExpressions ?? []) {
      if (requirement.operator === 'Exists') consider([this.byKey.get(keyIndex(namespace, requirement.key))]);
      // values are distinct keys of byPair, so their sets are disjoint: no key twice
      if (requirement.operator === 'In') consider([...new Set(requirement.values ?? [])].map((v) => this.byPair.get(pairIndex(namespace, requirement.key, v))));
    }
    return best ?? this.byNamespace.get(namespace) ?? [];
  }

  private unindex(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    remove(this.byNamespace, entry.namespace, key);
    for (const [label, value] of Object.entries(entry.labels)) {
      remove(this.byKey, keyIndex(entry.namespace, label), key);
      remove(this.byPair, pairIndex(entry.namespace, label, value), key);
    }
  }
}

const keyIndex = (namespace: string, label: string): string => `${namespace}${SEP}${label}`;
const pairIndex = (namespace: string, label: string, value: string): string => `${namespace}${SEP}${label}${SEP}${value}`;

function add(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

function remove(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  keys?.delete(key);
  if (keys?.size === 0) index.delete(value);
}
