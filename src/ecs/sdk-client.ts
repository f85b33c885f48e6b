import { DescribeInstancesRequest, DescribeInstancesRequestTag } from '@alicloud/ecs20140526/dist/models/DescribeInstancesRequest.js';
import { ListTagResourcesRequest, ListTagResourcesRequestTag } from '@alicloud/ecs20140526/dist/models/ListTagResourcesRequest.js';
import { StartInstanceRequest } from '@alicloud/ecs20140526/dist/models/StartInstanceRequest.js';
import { StartInstancesRequest } from '@alicloud/ecs20140526/dist/models/StartInstancesRequest.js';
import { StopInstanceRequest } from '@alicloud/ecs20140526/dist/models/StopInstanceRequest.js';
import { StopInstancesRequest } from '@alicloud/ecs20140526/dist/models/StopInstancesRequest.js';
import * as OpenApi from '@alicloud/openapi-core';
import CredentialsModule, * as CredentialsNamespace from '@alicloud/credentials';
import * as $dara from '@darabonba/typescript';
import type {
  ActionResult,
  BatchResult,
  DescribedInstance,
  EcsApi,
  EcsTarget,
  InstancePage,
  InstancePageQuery,
  StartOptions,
  TagResourcePage,
  StopOptions,
} from './gateway.ts';
import { fromSdkError } from './errors.ts';
import { ecsClientClass, type EcsClient } from './sdk-models.ts';

// @alicloud/credentials is CommonJS transpiled from TypeScript. Loaded as ESM the default import
// is the module object (class at `.default`); loaded through a CommonJS transform (tsx under
// mocha) it is the class itself. Accept both.
function cjsDefault<T>(mod: { default: T }): T {
  const inner = (mod as unknown as { default?: T }).default;
  return typeof inner === 'function' ? inner : (mod as unknown as T);
}
const EcsClientClass = ecsClientClass();
type Credential = InstanceType<typeof CredentialsModule.default>;
const CredentialClass = cjsDefault(CredentialsModule);
const CredentialConfigClass: typeof CredentialsModule.Config =
  (CredentialsNamespace as unknown as { Config?: typeof CredentialsModule.Config }).Config ??
  (CredentialsModule as unknown as { Config: typeof CredentialsModule.Config }).Config;

export interface SdkClientOptions {
  /** `--ecs-endpoint`: `http://127.0.0.1:9000` or `https://ecs-vpc.cn-hangzhou.aliyuncs.com`; unset = regional public endpoint. */
  endpoint?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/** One SDK client per region and credentials, speaking to ECS through the real `@alicloud/ecs20140526`. */
export class SdkEcsApi implements EcsApi {
  readonly regionId: string;
  private readonly client: EcsClient;
  private readonly runtime: $dara.RuntimeOptions;

  constructor(target: EcsTarget, options: SdkClientOptions, defaultCredential: () => Credential) {
    this.regionId = target.regionId;
    const { host, protocol } = endpointFor(target.regionId, options.endpoint);
    const credential = target.accessKey
      ? new CredentialClass(
          new CredentialConfigClass({
            type: target.accessKey.securityToken ? 'sts' : 'access_key',
            accessKeyId: target.accessKey.accessKeyId,
            accessKeySecret: target.accessKey.accessKeySecret,
            ...(target.accessKey.securityToken ? { securityToken: target.accessKey.securityToken } : {}),
          }),
        )
      : defaultCredential();
    const config = new OpenApi.$OpenApiUtil.Config({
      credential,
      endpoint: host,
      protocol,
      regionId: target.regionId,
      connectTimeout: options.connectTimeoutMs,
      readTimeout: options.readTimeoutMs,
    });
    this.client = new EcsClientClass(config);
    this.runtime = new $dara.RuntimeOptions({
      autoretry: false,
      connectTimeout: options.connectTimeoutMs,
      readTimeout: options.readTimeoutMs,
    });
  }

  async describeInstances(instanceIds: string[]): Promise<{ requestId: string; instances: DescribedInstance[] }> {
    const { requestId, instances } = await this.describeInstancesPage({ instanceIds });
    return { requestId, instances };
  }

  async describeInstancesPage(query: InstancePageQuery): Promise<InstancePage> {
    const request = new DescribeInstancesRequest({
      regionId: this.regionId,
      maxResults: 100,
      ...(query.instanceIds ? { instanceIds: JSON.stringify(query.instanceIds) } : {}),
      ...(query.tags ? { tag: Object.entries(query.tags).map(([key, value]) => new DescribeInstancesRequestTag({ key, value })) } : {}),
      ...(query.nextToken ? { nextToken: query.nextToken } : {}),
    });
    const res = await this.call(() => this.client.describeInstancesWithOptions(request, this.runtime));
    const list = res.body?.instances?.instance ?? [];
    const nextToken = res.body?.nextToken;
    return {
      requestId: res.body?.requestId ?? '',
      ...(nextToken ? { nextToken } : {}),
      instances: list.map((i) => ({
        instanceId: i.instanceId ?? '',
        status: i.status ?? '',
        lockReasons: (i.operationLocks?.lockReason ?? []).map((l) => l.lockReason ?? '').filter((r) => r !== ''),
        ...(i.stoppedMode ? { stoppedMode: i.stoppedMode } : {}),
        ...(typeof i.cpu === 'number' ? { vcpus: i.cpu } : {}),
        tags: Object.fromEntries((i.tags?.tag ?? []).filter((t) => t.tagKey).map((t) => [t.tagKey ?? '', t.tagValue ?? ''])),
      })),
    };
  }

  async listTagResources(tags: Record<string, string>, nextToken?: string): Promise<TagResourcePage> {
    const request = new ListTagResourcesRequest({
      regionId: this.regionId,
      resourceType: 'instance',
      tag: Object.entries(tags).map(([key, value]) => new ListTagResourcesRequestTag({ key, value })),
      ...(nextToken ? { nextToken } : {}),
    });
    const res = await this.call(() => this.client.listTagResourcesWithOptions(request, this.runtime));
    const next = res.body?.nextToken;
    return {
      requestId: res.body?.requestId ?? '',
      ...(next ? { nextToken: next } : {}),
      instanceIds: (res.body?.tagResources?.tagResource ?? []).map((r) => r.resourceId ?? '').filter((id) => id !== ''),
    };
  }

  async stopInstance(instanceId: string, o: StopOptions): Promise<ActionResult> {
    const request = new StopInstanceRequest({
      instanceId,
      forceStop: o.forceStop,
      confirmStop: o.confirmStop,
      hibernate: o.hibernate,
      dryRun: o.dryRun,
      ...(o.stoppedMode ? { stoppedMode: o.stoppedMode } : {}),
    });
    const res = await this.call(() => this.client.stopInstanceWithOptions(request, this.runtime));
    return { requestId: res.body?.requestId ?? '' };
  }

  async stopInstances(instanceIds: string[], o: StopOptions): Promise<BatchResult> {
    const request = new StopInstancesRequest({
      regionId: this.regionId,
      instanceId: instanceIds,
      forceStop: o.forceStop,
      dryRun: o.dryRun,
      batchOptimization: 'SuccessFirst',
      ...(o.stoppedMode ? { stoppedMode: o.stoppedMode } : {}),
    });
    const res = await this.call(() => this.client.stopInstancesWithOptions(request, this.runtime));
    return {
      requestId: res.body?.requestId ?? '',
      results: (res.body?.instanceResponses?.instanceResponse ?? []).map((r) => ({
        instanceId: r.instanceId ?? '',
        code: r.code ?? '',
        message: r.message ?? '',
        ...(r.currentStatus ? { currentStatus: r.currentStatus } : {}),
      })),
    };
  }

  async startInstance(instanceId: string, o: StartOptions): Promise<ActionResult> {
    const request = new StartInstanceRequest({ instanceId, dryRun: o.dryRun });
    const res = await this.call(() => this.client.startInstanceWithOptions(request, this.runtime));
    return { requestId: res.body?.requestId ?? '' };
  }

  async startInstances(instanceIds: string[], o: StartOptions): Promise<BatchResult> {
    const request = new StartInstancesRequest({
      regionId: this.regionId,
      instanceId: instanceIds,
      dryRun: o.dryRun,
      batchOptimization: 'SuccessFirst',
    });
    const res = await this.call(() => this.client.startInstancesWithOptions(request, this.runtime));
    return {
      requestId: res.body?.requestId ?? '',
      results: (res.body?.instanceResponses?.instanceResponse ?? []).map((r) => ({
        instanceId: r.instanceId ?? '',
        code: r.code ?? '',
        message: r.message ?? '',
        ...(r.currentStatus ? { currentStatus: r.currentStatus } : {}),
      })),
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromSdkError(err);
    }
  }
}

export function endpointFor(regionId: string, override?: string): { host: string; protocol: 'HTTP' | 'HTTPS' } {
  if (!override) return { host: `ecs.${regionId}.aliyuncs.com`, protocol: 'HTTPS' };
  const url = new URL(override.includes('://') ? override : `https://${override}`);
  return { host: url.host, protocol: url.protocol === 'http:' ? 'HTTP' : 'HTTPS' };
}

/** The controller's own credentials: the `@alicloud/credentials` default chain, created once. */
export function defaultCredentialChain(): () => Credential {
  let credential: Credential | undefined;
  return () => (credential ??= new CredentialClass());
}
