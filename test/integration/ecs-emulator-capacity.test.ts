/**
 * Capacity that comes back (OperationDenied.NoStock until a time, or for the next K start
 * attempts) and StopInstance with Hibernate. Real SDK, injected clock.
 */
import assert from 'node:assert/strict';
import * as $Ecs from '../support/ecs-emulator/sdk-requests.ts';
import { ClientError } from '@alicloud/openapi-core';
import { startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator } from '../support/ecs-emulator/index.ts';
import { expectEcsError, makeClient, sdkCalls } from '../support/ecs-emulator/test-client.ts';
import type { EcsClient } from '../support/ecs-emulator/test-client.ts';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

const REGION = 'cn-hangzhou';

describe('ECS emulator: capacity and hibernation (real SDK)', function () {
  this.timeout(10_000);
  let t: number;
  let emu: EcsEmulator;
  let ecs: EcsClient;
  const sdk = sdkCalls(() => ecs);

  beforeEach(async () => {
    t = 1_700_000_000_000;
    emu = await startEcsEmulator({ now: () => t, acceptLagMs: 0, stopMs: 2000, startMs: 1000 });
    ecs = makeClient(emu);
  });
  afterEach(async () => {
    await emu.close();
  });

  describe('OperationDenied.NoStock in time', () => {
    it('noStockUntil: no capacity until that time of the clock, then the start is accepted', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped', stoppedMode: 'StopCharging', noStockUntil: t + 60_000 });
      const e = await expectEcsError(sdk.start('i-a'), 'OperationDenied.NoStock', 403);
      assert.ok(e instanceof ClientError);
      assert.equal(emu.instance('i-a')?.status, 'Stopped');
      t += 59_999;
      await expectEcsError(sdk.start('i-a'), 'OperationDenied.NoStock', 403);
      t += 1;
      await sdk.start('i-a');
      assert.equal(emu.instance('i-a')?.status, 'Starting');
    });

    it('noStockForMs (JS and admin API) is relative to now', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped' });
      emu.addInstance({ instanceId: 'i-b', regionId: REGION, status: 'Stopped' });
      emu.update('i-a', { noStockForMs: 5000 });
      const r = await fetch(`${emu.url}/_emulator/instances/i-b`, { method: 'POST', body: JSON.stringify({ noStockForMs: 5000 }) });
      assert.equal(((await r.json()) as { noStockUntil: number }).noStockUntil, t + 5000);
      await expectEcsError(sdk.start('i-a'), 'OperationDenied.NoStock', 403);
      await expectEcsError(sdk.start('i-b'), 'OperationDenied.NoStock', 403);
      t += 5000;
      await sdk.start('i-a');
      await sdk.start('i-b');
    });

    it('noStockAttempts: the next K starts fail (dry runs see it but do not count), then capacity is back', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped', noStockAttempts: 2 });
      await expectEcsError(sdk.start('i-a'), 'OperationDenied.NoStock', 403);
      await expectEcsError(sdk.start('i-a', { dryRun: true }), 'OperationDenied.NoStock', 403);
      assert.equal(emu.instance('i-a')?.noStockAttempts, 1);
      const batch = await ecs.startInstances(new $Ecs.StartInstancesRequest({ regionId: REGION, instanceId: ['i-a'], batchOptimization: 'SuccessFirst' }));
      assert.equal(batch.body?.instanceResponses?.instanceResponse?.[0]?.code, 'OperationDenied.NoStock');
      assert.equal(emu.instance('i-a')?.noStockAttempts, 0);
      await sdk.start('i-a');
      assert.equal(emu.instance('i-a')?.status, 'Starting');
    });

    it('noStock: false ends every form of no stock; a permanent noStock stays', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped', noStockUntil: t + 1e9, noStockAttempts: 5 });
      emu.addInstance({ instanceId: 'i-b', regionId: REGION, status: 'Stopped', noStock: true });
      emu.update('i-a', { noStock: false });
      assert.deepEqual([emu.instance('i-a')?.noStockUntil, emu.instance('i-a')?.noStockAttempts], [undefined, 0]);
      await sdk.start('i-a');
      t += 1e9;
      await expectEcsError(sdk.start('i-b'), 'OperationDenied.NoStock', 403);
      assert.throws(() => emu.update('i-b', { noStockAttempts: 1.5, tags: { a: 'b' } }), /noStockAttempts/);
      assert.deepEqual(emu.instance('i-b')?.tags, {}, 'a rejected patch changes nothing');
    });
  });

  describe('Hibernate', () => {
    it('without HibernationOptions.Configured: 403 InvalidInstanceId.NotSupport, nothing changed; Hibernate=false stops normally', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const e = await expectEcsError(sdk.stop('i-a', { hibernate: true }), 'InvalidInstanceId.NotSupport', 403);
      assert.match(String((e.data as Record<string, unknown>).Message), /hibernation/);
      await expectEcsError(sdk.stop('i-a', { hibernate: true, dryRun: true }), 'InvalidInstanceId.NotSupport', 403);
      assert.equal(emu.instance('i-a')?.status, 'Running');
      await sdk.stop('i-a', { hibernate: false });
      assert.equal(emu.instance('i-a')?.hibernated, false);
    });

    it('configured: accepted, Stopping then Stopped like a stop, recorded as hibernated until the next start', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, hibernationConfigured: true });
      await expectEcsError(sdk.stop('i-a', { hibernate: true, dryRun: true }), 'DryRunOperation', 400);
      await sdk.stop('i-a', { hibernate: true, stoppedMode: 'StopCharging' });
      assert.equal(emu.calls.at(-1)?.params.Hibernate, 'true');
      assert.equal(await sdk.status('i-a'), 'Stopping');
      t += 2000;
      const d = await sdk.described('i-a');
      assert.deepEqual([d?.status, d?.stoppedMode, d?.hibernationOptions?.configured], ['Stopped', 'StopCharging', true]);
      assert.equal(emu.instance('i-a')?.hibernated, true);
      await sdk.start('i-a');
      assert.equal(emu.instance('i-a')?.hibernated, false);
      t += 1000;
      assert.equal(await sdk.status('i-a'), 'Running');
    });
  });
});
