/**
 * Token buckets, one per (action, region), like ECS's per-account, per-region, per-API flow
 * control. The emulator has a single account: all access keys share the buckets. The region of
 * a call is its `RegionId` parameter, or for StopInstance/StartInstance (which carry none) the
 * region of the named instance. Buckets refill on the emulator's injectable clock (`now`).
 */
import type { Quota } from './types.ts';

interface Bucket {
  tokens: number;
  last: number;
}

export class Throttler {
  private readonly quotas = new Map<string, Quota>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number,
    quotas: Record<string, Quota> = {},
  ) {
    for (const [action, q] of Object.entries(quotas)) this.set(action, q);
  }

  set(action: string, q: Quota | undefined): void {
    for (const key of [...this.buckets.keys()]) if (key.startsWith(`${action}|`)) this.buckets.delete(key);
    if (!q) {
      this.quotas.delete(action);
      return;
    }
    if (!(q.perSecond > 0)) throw new Error(`quota for ${action}: perSecond must be > 0`);
    this.quotas.set(action, q);
  }

  /** Takes a token. Returns 0 when allowed, else the ms until a token is available (>= 1). */
  take(action: string, region: string): number {
    const q = this.quotas.get(action);
    if (!q) return 0;
    const burst = Math.max(1, q.burst ?? q.perSecond);
    const key = `${action}|${region}`;
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, last: t };
      this.buckets.set(key, b);
    }
    const elapsed = Math.max(0, t - b.last);
    b.tokens = Math.min(burst, b.tokens + (elapsed * q.perSecond) / 1000);
    b.last = t;
    if (b.tokens >= 1 - 1e-9) {
      b.tokens -= 1;
      return 0;
    }
    // epsilon: (1 - 0.998) * 1000 / 2 is 1.0000000000000009 in floating point
    return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / q.perSecond - 1e-6));
  }
}
