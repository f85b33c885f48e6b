import type { Clock, Cancel } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';

export interface QueueMetricsSink {
  depth(n: number): void;
  added(): void;
  retried(): void;
  queuedFor(seconds: number): void;
  workedFor(seconds: number): void;
}

/** What watches need of a queue: add a key, or drop one whose object is gone. */
export interface KeyQueue {
  add(key: string): void;
  remove(key: string): void;
}

/** A KeyQueue that can also add a key later (the earliest pending deadline per key wins). */
export interface DelayingKeyQueue extends KeyQueue {
  addAfter(key: string, ms: number): void;
}

/**
 * A queue that takes keys only once its controller runs (leader election won), as
 * controller-runtime registers its event handlers at controller start: a standby keeps its cache
 * warm but queues nothing. start() replays every key of the cache, as the informer's initial
 * adds would.
 */
export class GatedQueue implements DelayingKeyQueue {
  private open = false;

  constructor(
    private readonly queue: DelayingKeyQueue,
    private readonly keys: () => Iterable<string>,
  ) {}

  start(): void {
    this.open = true;
    for (const key of this.keys()) this.queue.add(key);
  }

  add(key: string): void {
    if (this.open) this.queue.add(key);
  }

  remove(key: string): void {
    if (this.open) this.queue.remove(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.open) this.queue.addAfter(key, ms);
  }
}

/** The per-key backoff a failure asks for (see ReconcileResult). */
export type BackoffKind = 'normal' | 'slow' | 'capacity';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export interface WorkqueueOptions {
  clock?: Clock;
  /** Exponential per-key backoff for failures: base * 2^n, capped, with full jitter in [d/2, d]. */
  backoff?: BackoffOptions;
  slowBackoff?: BackoffOptions;
  /** For a zone out of stock: grows to at most a minute, so capacity that returns is seen soon. */
  capacityBackoff?: BackoffOptions;
  metrics?: QueueMetricsSink;
  random?: () => number;
}

/**
 * client-go's rate-limited delaying workqueue: a key is queued at most once (dirty set), never
 * processed by two workers at once (processing set), re-queued after done() if it was added
 * meanwhile, delayed adds keep only the earliest deadline per key, and failures back off per key.
 */
export class Workqueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; cancel: Cancel }>();
  private readonly failures = new Map<string, number>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly backoff: BackoffOptions;
  private readonly slowBackoff: BackoffOptions;
  private readonly capacityBackoff: BackoffOptions;
  private readonly random: () => number;

  constructor(private readonly options: WorkqueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.backoff = options.backoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };
    this.slowBackoff = options.slowBackoff ?? { baseMs: 30_000, maxMs: 10 * 60_000 };
    this.capacityBackoff = options.capacityBackoff ?? { baseMs: 5_000, maxMs: 60_000 };
    this.random = options.random ?? Math.random;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.options.metrics?.added();
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds the key after `ms`; a pending earlier deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, cancel });
  }

  /** Re-adds a failed key after its per-key exponential backoff (at least `minMs`). Returns the delay. */
  addRateLimited(key: string, kind: BackoffKind = 'normal', minMs = 0): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const b = kind === 'slow' ? this.slowBackoff : kind === 'capacity' ? this.capacityBackoff : this.backoff;
    const full = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(n, 30));
    const delay = Math.max(minMs, Math.round(full / 2 + (this.random() * full) / 2));
    this.options.metrics?.retried();
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Drops a key entirely (the object was deleted). */
  remove(key: string): void {
    this.delayed.get(key)?.cancel();
    this.delayed.delete(key);
    this.failures.delete(key);
  }

  /** The next key to work on; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.pop();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined) this.options.metrics?.workedFor((this.clock.now() - started) / 1000);
    this.startedAt.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.cancel();
    this.delayed.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private push(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.take(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
    this.options.metrics?.depth(this.length);
  }

  private pop(): string | undefined {
    if (this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.take(key);
    this.options.metrics?.depth(this.length);
    return key;
  }

  private take(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
    const added = this.addedAt.get(key);
    if (added !== undefined) this.options.metrics?.queuedFor((this.clock.now() - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, this.clock.now());
  }
}
