import type { Metrics } from '../runtime/metrics.ts';
import type { EcsApi, EcsApiFactory, EcsTarget } from './gateway.ts';
import { metered } from './metered.ts';
import { RegionRateLimiter } from './rate-limit.ts';
import { resilient, type RetryOptions } from './resilient.ts';
import { SdkEcsApi, defaultCredentialChain } from './sdk-client.ts';

export interface EcsClientsOptions {
  endpoint?: string;
  timeoutMs: number;
  qps: number;
  burst: number;
  retry: RetryOptions;
  metrics: Metrics;
  /** Replaces the SDK client (unit tests use a fake EcsApi; everything above it stays real). */
  rawApi?: (target: EcsTarget) => EcsApi;
}

/**
 * One EcsApi per region and credentials: the SDK client, measured, behind the region's shared
 * rate limiter with short retries. Every worker asking for the same region and credentials
 * shares the same limiter.
 */
export function ecsClients(o: EcsClientsOptions): EcsApiFactory {
  const apis = new Map<string, EcsApi>();
  const limiters = new Map<string, RegionRateLimiter>();
  const credential = defaultCredentialChain();
  const limiterFor = (target: EcsTarget): RegionRateLimiter => {
    const key = `${target.regionId}|${target.credentialsKey}`;
    let l = limiters.get(key);
    if (!l) limiters.set(key, (l = new RegionRateLimiter({ qps: o.qps, burst: o.burst })));
    return l;
  };
  const factory = (target: EcsTarget): EcsApi => {
    const key = `${target.regionId}|${target.credentialsKey}`;
    let api = apis.get(key);
    if (!api) {
      const raw = o.rawApi
        ? o.rawApi(target)
        : new SdkEcsApi(target, { ...(o.endpoint ? { endpoint: o.endpoint } : {}), connectTimeoutMs: o.timeoutMs, readTimeoutMs: o.timeoutMs }, credential);
      api = resilient(metered(raw, o.metrics), limiterFor(target), o.retry);
      apis.set(key, api);
    }
    return api;
  };
  return factory;
}
