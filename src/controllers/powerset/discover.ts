import { Reason } from '../../api/reasons.ts';
import { discoverTagged, type DiscoveredInstance } from '../../ecs/discovery.ts';
import { fromSdkError } from '../../ecs/errors.ts';
import type { EcsApi, EcsTarget } from '../../ecs/gateway.ts';
import { CredentialsError, type CredentialsSource } from '../../kube/credentials.ts';
import type { ReconcileContext } from '../../runtime/result.ts';

export interface RegionFailure {
  regionId: string;
  reason: string;
  message: string;
  terminal: boolean;
  retryAfterMs?: number;
}

export interface FleetDiscovery {
  /** Instances found per region whose discovery succeeded. */
  found: Map<string, DiscoveredInstance[]>;
  failures: RegionFailure[];
  /** Calls made per region: `{ describeInstances, listTagResources }`. */
  calls: Map<string, { describeInstances: number; listTagResources: number }>;
}

/**
 * Discovers every region of a set at once, signed by the template's credentials (the Secret in
 * the set's namespace, as for its members), each region through the client of its region and
 * AccessKeyId (the shared rate limiter). A region that fails is reported, never half-listed.
 */
export async function discoverFleet(request: {
  namespace: string;
  secretName: string | undefined;
  regionIds: readonly string[];
  tags: Record<string, string>;
  credentials: CredentialsSource;
  ecs: (target: EcsTarget) => EcsApi;
  context: ReconcileContext;
}): Promise<FleetDiscovery> {
  const result: FleetDiscovery = { found: new Map(), failures: [], calls: new Map() };
  let accessKey: EcsTarget['accessKey'];
  try {
    accessKey = (await request.credentials.resolve(request.namespace, request.secretName)).accessKey;
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    for (const regionId of request.regionIds) {
      result.failures.push({ regionId, reason: Reason.InvalidCredentials, message: `InvalidCredentials: ${err.message}`, terminal: true });
    }
    return result;
  }
  const outcomes = await Promise.allSettled(
    request.regionIds.map((regionId) =>
      request.context.park(discoverTagged(request.ecs({ regionId, ...(accessKey ? { accessKey } : {}) }), request.tags)),
    ),
  );
  outcomes.forEach((outcome, i) => {
    const regionId = request.regionIds[i]!;
    if (outcome.status === 'fulfilled') {
      result.found.set(regionId, outcome.value.instances);
      result.calls.set(regionId, outcome.value.calls);
      return;
    }
    const e = fromSdkError(outcome.reason);
    const c = e.classification;
    result.failures.push({
      regionId,
      reason: c.reason,
      message: `${e.message} (discovery in ${regionId})`,
      terminal: c.errorClass === 'terminal',
      ...(e.retryAfterMs ? { retryAfterMs: e.retryAfterMs } : {}),
    });
  });
  return result;
}
