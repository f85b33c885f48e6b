/**
 * Test helpers for the emulator's own tests: the real SDK client pointed at an emulator, and
 * assertions on the errors it throws.
 */
import assert from 'node:assert/strict';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { EcsEmulator } from './types.ts';

// The package is CommonJS with `exports.default = Client`. Under native ESM (node dist/, `node --import tsx`)
// the default import is `module.exports`, so the class is `Ecs.default`; when tsx compiles a file to CommonJS
// (mocha loads specs with require) the default import is already the class. Accept both.
const EcsClientClass: typeof Ecs.default = (Ecs as unknown as { default?: typeof Ecs.default }).default ?? (Ecs as unknown as typeof Ecs.default);
export type EcsClient = InstanceType<typeof Ecs.default>;

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
