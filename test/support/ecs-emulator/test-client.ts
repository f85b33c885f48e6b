/**
 * Test helpers for the emulator's own tests: the real SDK client pointed at an emulator, and
 * assertions on the errors it throws.
 */
import assert from 'node:assert/strict';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { ecsClientClass, type EcsClient } from '../../../src/ecs/sdk-models.ts';
import * as $Ecs from './sdk-requests.ts';
import type { EcsEmulator } from './types.ts';

export type { EcsClient };
const EcsClientClass = ecsClientClass();

export interface ClientOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
  readTimeout?: number;
  connectTimeout?: number;
  regionId?: string;
}

export function makeClient(emu: Pick<EcsEmulator, 'endpoint'>, o: ClientOptions = {}): EcsClient {
  const config = new $OpenApiUtil.Config({
    accessKeyId: o.accessKeyId ?? 'test-ak',
    accessKeySecret: o.accessKeySecret ?? 'test-secret',
    endpoint: emu.endpoint,
    protocol: 'HTTP',
    regionId: o.regionId ?? 'cn-hangzhou',
    readTimeout: o.readTimeout ?? 2000,
    connectTimeout: o.connectTimeout ?? 2000,
  });
  if (o.securityToken !== undefined) config.securityToken = o.securityToken;
  return new EcsClientClass(config);
}

export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    return e as Error & Record<string, unknown>;
  }
  assert.fail('expected the call to fail');
}

/** The call fails with this ECS code and HTTP status, and the body has ECS's error shape. */
export async function expectEcsError(p: Promise<unknown>, code: string, statusCode: number): Promise<Error & Record<string, unknown>> {
  const e = await rejection(p);
  assert.equal(e.code, code, e.message);
  assert.equal(e.statusCode, statusCode);
  const data = e.data as Record<string, unknown>;
  assert.equal(data.Code, code);
  assert.equal(typeof data.RequestId, 'string');
  assert.equal(typeof data.HostId, 'string');
  assert.equal(typeof data.Message, 'string');
  assert.equal(typeof data.Recommend, 'string');
  assert.equal(e.requestId, data.RequestId);
  return e;
}

/** Thin wrappers over the SDK for the calls the tests make most. */
export function sdkCalls(client: () => EcsClient, defaultRegion = 'cn-hangzhou') {
  return {
    stop: (instanceId: string, o: Partial<$Ecs.StopInstanceRequest> = {}) => client().stopInstance(new $Ecs.StopInstanceRequest({ instanceId, ...o })),
    start: (instanceId: string, o: Partial<$Ecs.StartInstanceRequest> = {}) => client().startInstance(new $Ecs.StartInstanceRequest({ instanceId, ...o })),
    /** Status as DescribeInstanceStatus reports it. */
    status: async (instanceId: string, regionId = defaultRegion) => {
      const r = await client().describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId, instanceId: [instanceId] }));
      return r.body?.instanceStatuses?.instanceStatus?.[0]?.status;
    },
    /** One instance as DescribeInstances reports it. */
    described: async (instanceId: string, regionId = defaultRegion) => {
      const r = await client().describeInstances(new $Ecs.DescribeInstancesRequest({ regionId, instanceIds: JSON.stringify([instanceId]) }));
      return r.body?.instances?.instance?.[0];
    },
  };
}
