interface Waiter<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

interface Pending<R> {
  waiters: Map<string, Array<Waiter<R>>>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Runs one call for a group of ids; answers each id with a result or an error. */
export type BatchExecutor<R> = (ids: string[]) => Promise<Map<string, R | Error>>;

export interface BatcherOptions {
  maxBatchSize: number;
  /** How long the first request of a batch waits for company. */
  windowMs: number;
}

/**
 * Groups concurrent per-id requests by key into calls of at most `maxBatchSize` ids, flushed
 * when full or `windowMs` after the first request, whichever is first. The same id asked twice
 * in one window shares one answer.
 */
export class Batcher<R> {
  private readonly pending = new Map<string, Pending<R>>();

  constructor(private readonly options: BatcherOptions) {}

  request(key: string, id: string, execute: BatchExecutor<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let p = this.pending.get(key);
      if (!p) {
        p = { waiters: new Map(), timer: undefined };
        this.pending.set(key, p);
      }
      const list = p.waiters.get(id);
      if (list) list.push({ resolve, reject });
      else p.waiters.set(id, [{ resolve, reject }]);

      if (p.waiters.size >= this.options.maxBatchSize) {
        this.flush(key, execute);
      } else if (!p.timer) {
        p.timer = setTimeout(() => this.flush(key, execute), this.options.windowMs);
      }
    });
  }

  private flush(key: string, execute: BatchExecutor<R>): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (p.timer) clearTimeout(p.timer);
    const ids = [...p.waiters.keys()];
    execute(ids).then(
      (results) => {
        for (const [id, waiters] of p.waiters) {
          const r = results.get(id) ?? new Error(`no result for ${id} in the batch answer`);
          for (const w of waiters) (r instanceof Error ? w.reject(r) : w.resolve(r));
        }
      },
      (err: unknown) => {
        for (const waiters of p.waiters.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
