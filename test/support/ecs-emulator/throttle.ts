/**
 * Flow control per (action, region), like ECS's per-account, per-region, per-API limits. The
 * emulator has a single account: all access keys share the counters. The region of a call is
 * its `RegionId` parameter, or for StopInstance/StartInstance (which carry none) the region of
 * the named instance. Everything runs on the emulator's injectable clock (`now`).
 *
 * Two kinds of quota, chosen per action:
 * - window (`perMinute`), what ECS does: N calls per calendar minute, then the throttling code
 *   with no `x-acs-retry-after` until the next minute starts;
 * - token bucket (`perSecond`, `burst`): the throttling code with `x-acs-retry-after: <ms>`.
 */
import type { BucketQuota, Quota, ThrottlingCode, WindowQuota } from './types.ts';

export interface Throttled {
  code: ThrottlingCode;
  /** Set for buckets only: the value of `x-acs-retry-after`. */
  retryAfterMs: number | undefined;
}

interface Bucket {
  tokens: number;
  last: number;
}

interface Window {
  minute: number;
  used: number;
}

const MINUTE_MS = 60_000;

export function isWindowQuota(q: Quota): q is WindowQuota {
  return (q as WindowQuota).perMinute !== undefined;
}

/** Validates a quota from JS or JSON (admin API); throws with a readable message. */
export function checkQuota(action: string, q: Quota): Quota {
  const code = q.code ?? 'Throttling.User';
  if (!['Throttling.User', 'Throttling', 'Throttling.Api'].includes(code)) throw new Error(`quota for ${action}: code must be Throttling, Throttling.User or Throttling.Api`);
  if (isWindowQuota(q)) {
    if (!(Number.isInteger(q.perMinute) && q.perMinute >= 0)) throw new Error(`quota for ${action}: perMinute must be an integer >= 0`);
    if ((q as Partial<BucketQuota>).perSecond !== undefined) throw new Error(`quota for ${action}: perMinute and perSecond exclude each other`);
    return q;
  }
  if (!(typeof q.perSecond === 'number' && q.perSecond > 0)) throw new Error(`quota for ${action}: perSecond must be > 0 (or give perMinute)`);
  return q;
}

export class Throttler {
  private readonly quotas = new Map<string, Quota>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly now: () => number,
    quotas: Record<string, Quota> = {},
  ) {
    for (const [action, q] of Object.entries(quotas)) this.set(action, q);
  }

  set(action: string, q: Quota | undefined): void {
    if (q) checkQuota(action, q);
    for (const map of [this.buckets, this.windows]) {
      for (const key of [...map.keys()]) if (key.startsWith(`${action}|`)) map.delete(key);
    }
    if (q) this.quotas.set(action, q);
    else this.quotas.delete(action);
  }

  /** Counts a call. Undefined when allowed, else how to answer it. */
  take(action: string, region: string): Throttled | undefined {
    const q = this.quotas.get(action);
    if (!q) return undefined;
    const key = `${action}|${region}`;
    const code = q.code ?? 'Throttling.User';
    if (isWindowQuota(q)) return this.takeWindow(key, q) ? undefined : { code, retryAfterMs: undefined };
    const wait = this.takeToken(key, q);
    return wait === 0 ? undefined : { code, retryAfterMs: wait };
  }

  private takeWindow(key: string, q: WindowQuota): boolean {
    const minute = Math.floor(this.now() / MINUTE_MS);
    let w = this.windows.get(key);
    if (!w || w.minute !== minute) {
      w = { minute, used: 0 };
      this.windows.set(key, w);
    }
    if (w.used >= q.perMinute) return false;
    w.used++;
    return true;
  }

  /** Returns 0 when a token was taken, else the ms until one is available (>= 1). */
  private takeToken(key: string, q: BucketQuota): number {
    const burst = Math.max(1, q.burst ?? q.perSecond);
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
