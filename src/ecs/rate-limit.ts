import type { EcsAction } from './gateway.ts';

export interface RateLimiterOptions {
  /** Calls per second per action when ECS is not throttling. */
  qps: number;
  /** Bucket size per action. */
  burst: number;
  /** Lowest share of `qps` a throttled region falls to. */
  minFactor?: number;
  /** How fast the rate recovers after throttling: share of qps regained per second without throttling. */
  recoveryPerSecond?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  turn: Promise<void>;
}

/**
 * The budget of one region and set of credentials, shared by all workers: a token bucket per
 * ECS action, and one slowdown factor for the whole region. A throttled answer halves the rate
 * of every action in the region and pauses it for the answer's `x-acs-retry-after`; the rate
 * then recovers gradually (AIMD), as ECS quotas are shared with the console and Terraform.
 */
export class RegionRateLimiter {
  private readonly buckets = new Map<EcsAction, Bucket>();
  private factor = 1;
  private factorUpdatedAt: number;
  private pausedUntil = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly minFactor: number;
  private readonly recoveryPerSecond: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? (() => Date.now());
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.minFactor = options.minFactor ?? 0.05;
    this.recoveryPerSecond = options.recoveryPerSecond ?? 0.05;
    this.factorUpdatedAt = this.now();
  }

  /** Current share of the configured rate (1 = full speed). */
  currentFactor(): number {
    this.recover();
    return this.factor;
  }

  /** Resolves when a call of `action` may go out. Callers are served first come, first served. */
  acquire(action: EcsAction): Promise<void> {
    const bucket = this.bucket(action);
    const mine = bucket.turn.then(() => this.waitForToken(bucket));
    bucket.turn = mine.catch(() => undefined);
    return mine;
  }

  onThrottled(retryAfterMs?: number): void {
    this.recover();
    this.factor = Math.max(this.minFactor, this.factor / 2);
    this.factorUpdatedAt = this.now();
    const pause = retryAfterMs && retryAfterMs > 0 ? retryAfterMs : 1000 / this.rate();
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + pause);
    // Empty buckets that start refilling only when the pause ends: no burst into a throttled region.
    for (const b of this.buckets.values()) {
      b.tokens = Math.min(b.tokens, 0);
      b.updatedAt = Math.max(b.updatedAt, this.pausedUntil);
    }
  }

  private rate(): number {
    return Math.max(this.options.qps * this.factor, 0.01);
  }

  private recover(): void {
    const t = this.now();
    if (this.factor < 1) {
      const elapsed = (t - this.factorUpdatedAt) / 1000;
      this.factor = Math.min(1, this.factor + elapsed * this.recoveryPerSecond);
    }
    this.factorUpdatedAt = t;
  }

  private bucket(action: EcsAction): Bucket {
    let b = this.buckets.get(action);
    if (!b) {
      b = { tokens: this.options.burst, updatedAt: this.now(), turn: Promise.resolve() };
      this.buckets.set(action, b);
    }
    return b;
  }

  private async waitForToken(b: Bucket): Promise<void> {
    for (;;) {
      this.recover();
      const t = this.now();
      const rate = this.rate();
      if (t > b.updatedAt) {
        b.tokens = Math.min(this.options.burst, b.tokens + ((t - b.updatedAt) / 1000) * rate);
        b.updatedAt = t;
      }
      const pause = this.pausedUntil - t;
      if (pause <= 0 && b.tokens >= 1) {
        b.tokens -= 1;
        return;
      }
      const wait = Math.max(pause, ((1 - b.tokens) / rate) * 1000);
      await this.sleep(Math.max(1, Math.ceil(wait)));
    }
  }
}
