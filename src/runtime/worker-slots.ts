/**
 * The `--max-concurrent-reconciles` budget as a FIFO semaphore. A reconcile holds a slot while it
 * computes; while it waits for a batched cloud call it hands the slot back (park), so a batch can
 * fill up to its size whatever the worker count, and takes a slot again to finish.
 */
export class WorkerSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Slots in use. */
  get busy(): number {
    return this.size - this.free;
  }

  acquire(): Promise<void> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  /** Runs `work` without holding a slot: gives it back, waits, then waits for a slot again. */
  async park<T>(work: Promise<T>): Promise<T> {
    this.release();
    try {
      return await work;
    } finally {
      await this.acquire();
    }
  }
}
