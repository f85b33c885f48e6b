/**
 * The controller's ECS client loads the models of the actions it calls and none of the SDK's
 * other ~3,450 model modules (src/ecs/sdk-models.ts): the five calls go through the real SDK,
 * signed, to the emulator.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { RebootInstanceRequest } from '@alicloud/ecs20140526/dist/models/RebootInstanceRequest.js';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { SdkEcsApi } from '../../src/ecs/sdk-client.ts';
import { OPERATOR_ECS_ACTIONS, ecsClientClass, loadedEcsActions, loadedEcsModelFiles } from '../../src/ecs/sdk-models.ts';
import { startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator } from '../support/ecs-emulator/types.ts';

const require = createRequire(import.meta.url);
const STOP = { forceStop: false, confirmStop: false, hibernate: false, dryRun: false };

describe('ECS SDK: only the models of the calls the operator makes', () => {
  let emu: EcsEmulator;

  before(async () => {
    emu = await startEcsEmulator({ stopMs: 0, startMs: 0 });
    for (const id of ['i-slim000001', 'i-slim000002', 'i-slim000003']) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    for (const id of ['i-slim000004', 'i-slim000005', 'i-slim000006']) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou', status: 'Stopped' });
  });
  after(async () => {
    await emu?.close();
  });

  it('describes, stops and starts through the real SDK with no other model modules loaded', async () => {
    const api = new SdkEcsApi(
      { regionId: 'cn-hangzhou', accessKey: { accessKeyId: 'test-ak', accessKeySecret: 'test-secret' } },
      { endpoint: emu.url, connectTimeoutMs: 5_000, readTimeoutMs: 5_000 },
      () => assert.fail('the default credential chain is not used here'),
    );
    const described = await api.describeInstances(['i-slim000001', 'i-slim000004']);
    assert.deepEqual(described.instances.map((i) => [i.instanceId, i.status]).sort(), [['i-slim000001', 'Running'], ['i-slim000004', 'Stopped']]);
    assert.notEqual((await api.stopInstance('i-slim000001', STOP)).requestId, '');
    const stopped = await api.stopInstances(['i-slim000002', 'i-slim000003'], STOP);
    assert.deepEqual(stopped.results.map((r) => r.code).sort(), ['200', '200']);
    assert.notEqual((await api.startInstance('i-slim000004', { dryRun: false })).requestId, '');
    const started = await api.startInstances(['i-slim000005', 'i-slim000006'], { dryRun: false });
    assert.deepEqual(started.results.map((r) => r.code).sort(), ['200', '200']);

    // Every loaded model module belongs to a loaded action: the operator's five, plus
    // DescribeInstanceStatus when the emulator's own tests share this process.
    const actions = loadedEcsActions();
    for (const action of OPERATOR_ECS_ACTIONS) assert.ok(actions.includes(action), `${action} not loaded`);
    assert.ok(actions.every((a) => OPERATOR_ECS_ACTIONS.includes(a) || a === 'DescribeInstanceStatus'), `unexpected actions: ${actions.join(', ')}`);
    const expectedFiles = actions.flatMap((a) => [`${a}Request.js`, `${a}Response.js`, `${a}ResponseBody.js`]).sort();
    assert.deepEqual(loadedEcsModelFiles().sort(), expectedFiles);
  });

  it('calling an action whose models are not loaded fails before the request goes out', async () => {
    const client = new (ecsClientClass())(
      new $OpenApiUtil.Config({ accessKeyId: 'test-ak', accessKeySecret: 'test-secret', endpoint: emu.endpoint, protocol: 'HTTP', regionId: 'cn-hangzhou' }),
    );
    emu.resetCalls();
    // A request as the client reads it; constructing the real class would load its model module.
    const request = { instanceId: 'i-slim000001', validate: () => undefined } as unknown as RebootInstanceRequest;
    await assert.rejects(async () => client.rebootInstance(request), /action RebootInstance is not loaded: .*OPERATOR_ECS_ACTIONS/);
    assert.deepEqual(emu.calls, []);
  });

  it('a model of an action the operator does not call fails loudly instead of being undefined', () => {
    const index = require('@alicloud/ecs20140526/dist/models/model.js') as Record<string, unknown>;
    assert.equal(typeof index['DescribeInstancesResponse'], 'function');
    assert.throws(() => index['RebootInstanceResponse'], /model RebootInstanceResponse is not loaded: .*OPERATOR_ECS_ACTIONS in src\/ecs\/sdk-models\.ts/);
  });
});
