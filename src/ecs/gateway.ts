import type { InstanceStatus, StoppedMode } from '../api/types.ts';
import type { AccessKey } from '../kube/credentials.ts';

export type { AccessKey };

/**
 * Where a call goes: a region and the credentials to sign with (unset: the controller's own
 * credential chain). How targets are grouped into clients, limiters and batches is decided in
 * one place, src/ecs/target.ts.
 */
export interface EcsTarget {
  regionId: string;
  accessKey?: AccessKey;
}

export interface StopOptions {
  stoppedMode?: StoppedMode;
  forceStop: boolean;
  confirmStop: boolean;
  hibernate: boolean;
  dryRun: boolean;
}

export interface StartOptions {
  dryRun: boolean;
}

export interface Observation {
  instanceId: string;
  /** false when ECS does not know the instance in this region. */
  found: boolean;
  status?: InstanceStatus;
  lockReasons: string[];
  requestId?: string;
  /** DescribeInstances' StoppedMode: KeepCharging, StopCharging or Not-applicable. */
  stoppedMode?: string;
  /** vCPUs (DescribeInstances' Cpu). */
  vcpus?: number;
}

export interface ActionResult {
  requestId: string;
  /** The state ECS reports right after accepting the call (batch calls say `Stopping`/`Starting`). */
  currentStatus?: InstanceStatus;
}

/**
 * What the reconciler needs from ECS, one instance at a time. Batching, rate limiting,
 * retries and metrics are the implementation's business. Failures reject with EcsCallError.
 */
export interface EcsGateway {
  observe(target: EcsTarget, instanceId: string): Promise<Observation>;
  stop(target: EcsTarget, instanceId: string, options: StopOptions): Promise<ActionResult>;
  start(target: EcsTarget, instanceId: string, options: StartOptions): Promise<ActionResult>;
}

export interface DescribedInstance {
  instanceId: string;
  status: string;
  lockReasons: string[];
  stoppedMode?: string;
  vcpus?: number;
  /** The instance's tags (DescribeInstances' Tags.Tag[]). */
  tags?: Record<string, string>;
}

/** What one page of DescribeInstances asks for: instances carrying every tag, or these ids. */
export interface InstancePageQuery {
  /** Every tag must match, key and value (`Tag.N.Key` / `Tag.N.Value`). */
  tags?: Record<string, string>;
  /** At most 100 ids (`InstanceIds`). */
  instanceIds?: string[];
  /** From the previous page; unset for the first. */
  nextToken?: string;
}

/** One page of DescribeInstances (`MaxResults` 100); `nextToken` unset on the last page. */
export interface InstancePage {
  requestId: string;
  instances: DescribedInstance[];
  nextToken?: string;
}

/** One page of ListTagResources for instances: the ids of the page's rows (one row per tag). */
export interface TagResourcePage {
  requestId: string;
  instanceIds: string[];
  nextToken?: string;
}

export interface BatchItemResult {
  instanceId: string;
  /** "200" on success, else the ECS error code. */
  code: string;
  message: string;
  currentStatus?: string;
}

export interface BatchResult {
  requestId: string;
  results: BatchItemResult[];
}

/** The ECS calls the controller makes, for one region and one set of credentials. */
export interface EcsApi {
  readonly regionId: string;
  describeInstances(instanceIds: string[]): Promise<{ requestId: string; instances: DescribedInstance[] }>;
  /** One page of DescribeInstances filtered by tags or ids (fleet discovery). */
  describeInstancesPage(query: InstancePageQuery): Promise<InstancePage>;
  /** One page of ListTagResources (ResourceType instance) for instances carrying every tag. */
  listTagResources(tags: Record<string, string>, nextToken?: string): Promise<TagResourcePage>;
  stopInstance(instanceId: string, options: StopOptions): Promise<ActionResult>;
  stopInstances(instanceIds: string[], options: StopOptions): Promise<BatchResult>;
  startInstance(instanceId: string, options: StartOptions): Promise<ActionResult>;
  startInstances(instanceIds: string[], options: StartOptions): Promise<BatchResult>;
}

export type EcsAction =
  | 'DescribeInstances'
  | 'ListTagResources'
  | 'StopInstance'
  | 'StopInstances'
  | 'StartInstance'
  | 'StartInstances';

export type EcsApiFactory = (target: EcsTarget) => EcsApi;
