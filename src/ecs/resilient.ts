import pRetry from 'p-retry';
import { EcsCallError, fromSdkError } from './errors.ts';
import type { EcsAction, EcsApi } from './gateway.ts';
import type { RegionRateLimiter } from './rate-limit.ts';
import type { Fence } from '../runtime/fence.ts';

export interface RetryOptions {
  /** Short in-call retries for transient errors; longer waits belong to the workqueue. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/**
 * Decorates an EcsApi: every attempt first takes a token from the region's limiter; throttling
 * slows the region down; InternalError, ServiceUnavailable, 5xx, timeouts and throttling are
 * retried a few times with exponential backoff and jitter. Errors needing a fresh look
 * (IncorrectInstanceStatus) or a person (terminal) are not retried here. A Stop/Start call passes
 * the leadership fence right before it leaves, after the limiter's wait.
 */
export function resilient(api: EcsApi, limiter: RegionRateLimiter, retry: RetryOptions, fence: Fence): EcsApi {
  const run = <T>(action: EcsAction, fn: () => Promise<T>): Promise<T> =>
    pRetry(
      async () => {
        await limiter.acquire(action);
        if (!READS.has(action)) fence.assertLeading(`ECS ${action}`);
        try {
          return await fn();
        } catch (err) {
          const e = fromSdkError(err);
          if (e.classification.throttled) limiter.onThrottled(e.retryAfterMs);
          throw e;
        }
      },
      {
        retries: retry.retries,
        minTimeout: retry.minTimeoutMs,
        maxTimeout: retry.maxTimeoutMs,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof EcsCallError && retriable(error, action),
      },
    );
  return {
    regionId: api.regionId,
    describeInstances: (ids) => run('DescribeInstances', () => api.describeInstances(ids)),
    describeInstancesPage: (query) => run('DescribeInstances', () => api.describeInstancesPage(query)),
    listTagResources: (tags, token) => run('ListTagResources', () => api.listTagResources(tags, token)),
    stopInstance: (id, o) => run('StopInstance', () => api.stopInstance(id, o)),
    stopInstances: (ids, o) => run('StopInstances', () => api.stopInstances(ids, o)),
    startInstance: (id, o) => run('StartInstance', () => api.startInstance(id, o)),
    startInstances: (ids, o) => run('StartInstances', () => api.startInstances(ids, o)),
  };
}

/** Calls that change nothing: no fence, and a timeout may be retried in-call. */
const READS: ReadonlySet<EcsAction> = new Set(['DescribeInstances', 'ListTagResources']);

function retriable(e: EcsCallError, action: EcsAction): boolean {
  const c = e.classification;
  if (c.errorClass !== 'transient' || c.backoff !== 'normal') return false;
  // A write that timed out may have been applied; the next pass observes before acting again.
  if ((e.code === 'Timeout' || e.code === 'NetworkError') && !READS.has(action)) return false;
  return true;
}
