import type { Metrics } from '../runtime/metrics.ts';
import { EcsCallError } from './errors.ts';
import type { EcsAction, EcsApi } from './gateway.ts';

const ACTIONS: readonly EcsAction[] = ['DescribeInstances', 'ListTagResources', 'StopInstance', 'StopInstances', 'StartInstance', 'StartInstances'];

/** Decorates an EcsApi so that every call lands in ecs_api_requests_total and ecs_api_request_duration_seconds. */
export function metered(api: EcsApi, metrics: Metrics, now: () => number = () => performance.now()): EcsApi {
  const region = api.regionId;
  metrics.initialiseEcsRegion(region, ACTIONS);
  const measure = async <T>(action: EcsAction, fn: () => Promise<T>): Promise<T> => {
    const start = now();
    try {
      const result = await fn();
      metrics.ecsRequests.inc({ action, region, code: 'OK' });
      return result;
    } catch (err) {
      const code = err instanceof EcsCallError ? err.code : 'NetworkError';
      metrics.ecsRequests.inc({ action, region, code });
      throw err;
    } finally {
      metrics.ecsDuration.observe({ action, region }, (now() - start) / 1000);
    }
  };
  return {
    regionId: region,
    describeInstances: (ids) => measure('DescribeInstances', () => api.describeInstances(ids)),
    describeInstancesPage: (query) => measure('DescribeInstances', () => api.describeInstancesPage(query)),
    listTagResources: (tags, token) => measure('ListTagResources', () => api.listTagResources(tags, token)),
    stopInstance: (id, o) => measure('StopInstance', () => api.stopInstance(id, o)),
    stopInstances: (ids, o) => measure('StopInstances', () => api.stopInstances(ids, o)),
    startInstance: (id, o) => measure('StartInstance', () => api.startInstance(id, o)),
    startInstances: (ids, o) => measure('StartInstances', () => api.startInstances(ids, o)),
  };
}
