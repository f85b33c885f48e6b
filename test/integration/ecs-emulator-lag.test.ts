/**
 * The emulator is as slow as ECS: an accepted stop or start shows in describes only after the
 * acceptance lag, and describes can lag behind (eventual consistency). Real SDK, injected clock.
 */
import assert from 'node:assert/strict';
import * as $Ecs from '../support/ecs-emulator/sdk-requests.ts';
import { DEFAULT_ACCEPT_LAG_MS, startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator, EmulatorOptions } from '../support/ecs-emulator/index.ts';
import { expectEcsError, makeClient, sdkCalls } from '../support/ecs-emulator/test-client.ts';
import type { EcsClient } from '../support/ecs-emulator/test-client.ts';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

const REGION = 'cn-hangzhou';

describe('ECS emulator: acceptance lag and describe lag (real SDK)', function () {
  this.timeout(10_000);
  let t: number;
  let emu: EcsEmulator;
  let ecs: EcsClient;
  const sdk = sdkCalls(() => ecs);

  async function start(opts: EmulatorOptions = {}): Promise<void> {
    await emu?.close();
    emu = await startEcsEmulator({ now: () => t, stopMs: 2000, forceStopMs: 300, startMs: 1000, ...opts });
    ecs = makeClient(emu);
  }

  beforeEach(() => {
    t = 1_700_000_000_000;
  });
  afterEach(async () => {
    await emu.close();
  });

  it('by default a stop shows in describes only after a non-zero lag: Running, then Stopping, then Stopped', async () => {
    await start();
    assert.ok(DEFAULT_ACCEPT_LAG_MS >= 500, 'the default lag is realistic, not zero');
    emu.addInstance({ instanceId: 'i-a', regionId: REGION });
    await sdk.stop('i-a', { stoppedMode: 'StopCharging' });
    assert.equal(await sdk.status('i-a'), 'Running');
    const during = await sdk.described('i-a');
    assert.deepEqual([during?.status, during?.stoppedMode], ['Running', 'Not-applicable']);
    assert.deepEqual([emu.instance('i-a')?.status, emu.instance('i-a')?.describedStatus], ['Stopping', 'Running']);
    assert.equal(emu.instance('i-a')?.transitionEndsAt, t + DEFAULT_ACCEPT_LAG_MS + 2000);

    t += DEFAULT_ACCEPT_LAG_MS - 1;
    assert.equal(await sdk.status('i-a'), 'Running');
    t += 1;
    assert.equal(await sdk.status('i-a'), 'Stopping');
    assert.equal((await sdk.described('i-a'))?.stoppedMode, 'StopCharging');
    t += 1999;
    assert.equal(await sdk.status('i-a'), 'Stopping');
    t += 1;
    assert.equal(await sdk.status('i-a'), 'Stopped');
    assert.equal(emu.instance('i-a')?.status, 'Stopped');
  });

  it('during the lag a second stop answers 403 IncorrectInstanceStatus though describes still say Running', async () => {
    await start({ acceptLagMs: 1500 });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION });
    await sdk.stop('i-a');
    t += 1000;
    // A controller restarted here sees Running and stops again: ECS refuses, the instance is already stopping.
    assert.equal(await sdk.status('i-a'), 'Running');
    await expectEcsError(sdk.stop('i-a'), 'IncorrectInstanceStatus', 403);
    await expectEcsError(sdk.start('i-a'), 'IncorrectInstanceStatus', 403);
    await expectEcsError(sdk.stop('i-a', { dryRun: true }), 'IncorrectInstanceStatus', 403);
    const batch = await ecs.stopInstances(new $Ecs.StopInstancesRequest({ regionId: REGION, instanceId: ['i-a'], batchOptimization: 'SuccessFirst' }));
    assert.equal(batch.body?.instanceResponses?.instanceResponse?.[0]?.code, 'IncorrectInstanceStatus');
    // The refused calls changed nothing: the first stop ends when it would have.
    t += 500 + 1999;
    assert.equal(await sdk.status('i-a'), 'Stopping');
    t += 1;
    assert.equal(await sdk.status('i-a'), 'Stopped');
  });

  it('a start lags the same way: Stopped, then Starting, then Running; a second start is refused', async () => {
    await start({ acceptLagMs: 800 });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped' });
    await sdk.start('i-a');
    assert.equal(await sdk.status('i-a'), 'Stopped');
    await expectEcsError(sdk.start('i-a'), 'IncorrectInstanceStatus', 403);
    t += 800;
    assert.equal(await sdk.status('i-a'), 'Starting');
    t += 1000;
    assert.equal(await sdk.status('i-a'), 'Running');
  });

  it('batch answers report the accepted state (Stopping) while describes lag', async () => {
    await start({ acceptLagMs: 1000 });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION });
    emu.addInstance({ instanceId: 'i-b', regionId: REGION });
    const r = await ecs.stopInstances(new $Ecs.StopInstancesRequest({ regionId: REGION, instanceId: ['i-a', 'i-b'], forceStop: true }));
    assert.deepEqual(
      r.body?.instanceResponses?.instanceResponse?.map((x) => [x.instanceId, x.previousStatus, x.currentStatus]),
      [
        ['i-a', 'Running', 'Stopping'],
        ['i-b', 'Running', 'Stopping'],
      ],
    );
    const all = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION }));
    assert.deepEqual(all.body?.instances?.instance?.map((x) => x.status), ['Running', 'Running']);
    t += 1000 + 300;
    assert.equal(await sdk.status('i-b'), 'Stopped');
  });

  it('acceptLagMs 0 gives the old immediate Stopping', async () => {
    await start({ acceptLagMs: 0 });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION });
    await sdk.stop('i-a');
    assert.equal(await sdk.status('i-a'), 'Stopping');
  });

  it('describeLagMs: describes report the power state as it was that long ago', async () => {
    await start({ acceptLagMs: 0, describeLagMs: 3000 });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION, tags: { env: 'dev' } });
    t += 10_000;
    // Drift out of band: seen 3 s late, by both describe calls.
    emu.setStatus('i-a', 'Stopped');
    assert.equal(await sdk.status('i-a'), 'Running');
    assert.equal((await sdk.described('i-a'))?.status, 'Running');
    assert.equal(emu.instance('i-a')?.describedStatus, 'Running');
    t += 2999;
    assert.equal(await sdk.status('i-a'), 'Running');
    t += 1;
    assert.equal(await sdk.status('i-a'), 'Stopped');
    // Calls see the real state at once.
    await sdk.start('i-a');
    await expectEcsError(sdk.start('i-a'), 'IncorrectInstanceStatus', 403);
    t += 1000;
    assert.equal(await sdk.status('i-a'), 'Stopped', 'the start is seen late as well');
    t += 3000;
    assert.equal(await sdk.status('i-a'), 'Running');
    // Only the power state lags: attributes and existence are current.
    emu.update('i-a', { tags: { env: 'prod' } });
    assert.deepEqual((await sdk.described('i-a'))?.tags?.tag?.map((x) => [x.tagKey, x.tagValue]), [['env', 'prod']]);
    emu.removeInstance('i-a');
    assert.equal(await sdk.described('i-a'), undefined);
  });

  it('rejects a negative lag', async () => {
    await assert.rejects(startEcsEmulator({ acceptLagMs: -1 }), /acceptLagMs must be >= 0/);
    await start();
  });
});
