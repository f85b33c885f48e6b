import type { DescribedInstance, EcsApi } from './gateway.ts';

/**
 * ECS documents that a tag-filtered DescribeInstances finds at most 1,000 instances ("if the
 * resource count exceeds 1,000, use ListTagResources"). Reaching it means the answer may be cut.
 */
export const TAG_FILTER_LIMIT = 1000;
const IDS_PER_DESCRIBE = 100;

/** An instance found by discovery: what a fleet needs to decide membership. */
export interface DiscoveredInstance {
  instanceId: string;
  status: string;
  tags: Record<string, string>;
  vcpus?: number;
  stoppedMode?: string;
}

export interface DiscoveryResult {
  instances: DiscoveredInstance[];
  /** Calls made, by action (the benchmark reports them). */
  calls: { describeInstances: number; listTagResources: number };
}

/**
 * Every instance of the api's region carrying all of `tags` (key and value). Each page is one
 * call through the api's decorators (rate limiter, retries, metrics); a failed page rejects the
 * whole discovery, so a caller never mistakes a partial list for the fleet.
 *
 * Up to 999 matches: tag-filtered DescribeInstances pages of 100, ceil(n/100) calls. At 1,000
 * (ECS's documented cap, the list may be cut) the ids come from ListTagResources, paged, and the
 * instances not yet described are described by id, 100 a call: still ceil(n/100)
 * DescribeInstances in all (the first 1,000 came in ten full pages), plus the ListTagResources
 * pages.
 */
export async function discoverTagged(api: EcsApi, tags: Record<string, string>): Promise<DiscoveryResult> {
  const calls = { describeInstances: 0, listTagResources: 0 };
  const found = new Map<string, DiscoveredInstance>();
  let token: string | undefined;
  do {
    const page = await api.describeInstancesPage({ tags, ...(token ? { nextToken: token } : {}) });
    calls.describeInstances++;
    for (const i of page.instances) if (carries(i, tags)) found.set(i.instanceId, discovered(i));
    token = page.nextToken;
  } while (token);

  if (found.size >= TAG_FILTER_LIMIT) {
    const ids = new Set<string>();
    let next: string | undefined;
    do {
      const page = await api.listTagResources(tags, next);
      calls.listTagResources++;
      for (const id of page.instanceIds) ids.add(id);
      next = page.nextToken;
    } while (next);
    const rest = [...ids].filter((id) => !found.has(id));
    for (let i = 0; i < rest.length; i += IDS_PER_DESCRIBE) {
      const page = await api.describeInstancesPage({ instanceIds: rest.slice(i, i + IDS_PER_DESCRIBE) });
      calls.describeInstances++;
      // Tags may have changed between the two calls: the describe has the last word.
      for (const d of page.instances) if (carries(d, tags)) found.set(d.instanceId, discovered(d));
    }
  }
  return { instances: [...found.values()], calls };
}

function carries(i: DescribedInstance, tags: Record<string, string>): boolean {
  const own = i.tags ?? {};
  return Object.entries(tags).every(([key, value]) => Object.hasOwn(own, key) && own[key] === value);
}

function discovered(i: DescribedInstance): DiscoveredInstance {
  return {
    instanceId: i.instanceId,
    status: i.status,
    tags: { ...(i.tags ?? {}) },
    ...(i.vcpus !== undefined ? { vcpus: i.vcpus } : {}),
    ...(i.stoppedMode ? { stoppedMode: i.stoppedMode } : {}),
  };
}
