import type { Metrics } from '../runtime/metrics.ts';
import type { Fence } from '../runtime/fence.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import type { EcsApi, EcsTarget } from './gateway.ts';
import { metered } from './metered.ts';
import { RegionRateLimiter } from './rate-limit.ts';
import { resilient, type RetryOptions } from './resilient.ts';
import { SdkEcsApi, defaultCredentialChain } from './sdk-client.ts';
import { accountKey, credentialsDigest } from './target.ts';

export interface EcsClientsOptions {
  endpoint?: string;
  timeoutMs: number;
  qps: number;
  burst: number;
  retry: RetryOptions;
  metrics: Metrics;
  /** Checked right before every Stop/Start call leaves the process. */
  fence: Fence;
  /** Entries unused this long are dropped (default 30 minutes). */
  idleMs?: number;
  clock?: Clock;
  /** Replaces the SDK client (tests use a fake EcsApi; everything above it stays real). */
  rawApi?: (target: EcsTarget) => EcsApi;
}

interface Entry {
  limiter: RegionRateLimiter;
  api: EcsApi;
  digest: string;
  lastUsed: number;
}

/**
 * One EcsApi per (region, AccessKeyId): the SDK client, measured, behind the account's shared
 * rate limiter with short retries and the leadership fence. A Secret fixed in place (same
 * AccessKeyId, other secret or token) gets a new SDK client but keeps the limiter. Entries unused
 * for `idleMs` are dropped, so rotating credentials do not accumulate clients.
 */
export class EcsClientRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly credential = defaultCredentialChain();
  private readonly clock: Clock;
  private readonly idleMs: number;
  private lastSweep: number;

  constructor(private readonly options: EcsClientsOptions) {
    this.clock = options.clock ?? realClock;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.lastSweep = this.clock.now();
  }

  /** How many clients are held (memory stays flat across credential rotations). */
  get size(): number {
    return this.entries.size;
  }

  apiFor(target: EcsTarget): EcsApi {
    const now = this.clock.now();
    this.sweep(now);
    const key = accountKey(target);
    const digest = credentialsDigest(target);
    let entry = this.entries.get(key);
    if (!entry) {
      const limiter = new RegionRateLimiter({ qps: this.options.qps, burst: this.options.burst });
      entry = { limiter, api: this.build(target, limiter), digest, lastUsed: now };
      this.entries.set(key, entry);
    } else if (entry.digest !== digest) {
      entry.api = this.build(target, entry.limiter);
      entry.digest = digest;
    }
    entry.lastUsed = now;
    return entry.api;
  }

  private build(target: EcsTarget, limiter: RegionRateLimiter): EcsApi {
    const o = this.options;
    const raw = o.rawApi
      ? o.rawApi(target)
      : new SdkEcsApi(target, { ...(o.endpoint ? { endpoint: o.endpoint } : {}), connectTimeoutMs: o.timeoutMs, readTimeoutMs: o.timeoutMs }, this.credential);
    return resilient(metered(raw, o.metrics), limiter, o.retry, o.fence);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < Math.min(60_000, this.idleMs)) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (now - entry.lastUsed > this.idleMs) this.entries.delete(key);
  }
}
