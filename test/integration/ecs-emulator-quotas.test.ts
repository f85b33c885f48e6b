/**
 * Flow control as ECS does it: N calls per (action, region) per calendar minute, then a
 * throttling code without `x-acs-retry-after` until the next minute; and the token bucket with
 * retry-after. Through the real SDK, the admin API and the CLI.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import * as $Ecs from '../support/ecs-emulator/sdk-requests.ts';
import { ThrottlingError } from '@alicloud/openapi-core';
import { signRequest, startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator, EmulatorOptions } from '../support/ecs-emulator/index.ts';
import { expectEcsError, makeClient, rejection, sdkCalls } from '../support/ecs-emulator/test-client.ts';
import type { EcsClient } from '../support/ecs-emulator/test-client.ts';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

const REGION = 'cn-hangzhou';
const MINUTE = 60_000;

function rawHeaders(emu: EcsEmulator, action: string, params: Record<string, string>): Promise<{ status: number; retryAfter: unknown }> {
  const signed = signRequest({ host: emu.endpoint, action, params, accessKeyId: 'test-ak', accessKeySecret: 'test-secret' });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: emu.port, method: signed.method, path: signed.path, headers: signed.headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['x-acs-retry-after'] }));
    });
    req.on('error', reject);
    req.end(signed.body);
  });
}

describe('ECS emulator: quotas (real SDK)', function () {
  this.timeout(20_000);
  let t: number;
  let emu: EcsEmulator;
  let ecs: EcsClient;
  const sdk = sdkCalls(() => ecs);
  const describeStatus = (regionId = REGION) => ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId }));

  async function start(opts: EmulatorOptions = {}): Promise<void> {
    await emu?.close();
    emu = await startEcsEmulator({ now: () => t, acceptLagMs: 0, ...opts });
    ecs = makeClient(emu);
  }

  beforeEach(() => {
    t = 28_333_333 * MINUTE + 10_000; // 10 s into a calendar minute
  });
  afterEach(async () => {
    await emu?.close();
  });

  it('perMinute: N calls per action and region per calendar minute, then Throttling.User without x-acs-retry-after', async () => {
    await start({ quotas: { DescribeInstanceStatus: { perMinute: 3 } } });
    for (let i = 0; i < 3; i++) await describeStatus();
    const e = await expectEcsError(describeStatus(), 'Throttling.User', 400);
    assert.ok(e instanceof ThrottlingError);
    assert.equal(e.retryAfter, undefined, 'no retry-after: the client has to pick its own wait');
    assert.deepEqual(await rawHeaders(emu, 'DescribeInstanceStatus', { RegionId: REGION }), { status: 400, retryAfter: undefined });
    await describeStatus('cn-beijing'); // another region has its own window
    await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })); // another action is not limited
    t += 49_999; // last millisecond of the minute
    await expectEcsError(describeStatus(), 'Throttling.User', 400);
    t += 1; // the next minute starts
    for (let i = 0; i < 3; i++) await describeStatus();
    await expectEcsError(describeStatus(), 'Throttling.User', 400);
  });

  it('perMinute on StopInstance counts per instance region; a throttled stop changes nothing; the code is selectable', async () => {
    await start({ quotas: { StopInstance: { perMinute: 1, code: 'Throttling' } } });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION });
    emu.addInstance({ instanceId: 'i-b', regionId: REGION });
    emu.addInstance({ instanceId: 'i-far', regionId: 'cn-beijing' });
    await sdk.stop('i-a');
    const e = await expectEcsError(sdk.stop('i-b'), 'Throttling', 400);
    assert.equal(e.retryAfter, undefined);
    assert.equal(emu.instance('i-b')?.status, 'Running');
    await sdk.stop('i-far');
    t += MINUTE;
    await sdk.stop('i-b');
  });

  it('setQuota switches an action between window and bucket, and removes it', async () => {
    await start();
    emu.setQuota('DescribeInstanceStatus', { perMinute: 1, code: 'Throttling.Api' });
    await describeStatus();
    assert.equal((await expectEcsError(describeStatus(), 'Throttling.Api', 400)).retryAfter, undefined);
    emu.setQuota('DescribeInstanceStatus', { perSecond: 1 });
    await describeStatus();
    assert.equal((await expectEcsError(describeStatus(), 'Throttling.User', 400)).retryAfter, 1000, 'the bucket sends retry-after');
    emu.setQuota('DescribeInstanceStatus', undefined);
    for (let i = 0; i < 5; i++) await describeStatus();
    assert.throws(() => emu.setQuota('X', { perMinute: -1 }), /perMinute must be an integer >= 0/);
    assert.throws(() => emu.setQuota('X', { perMinute: 1, code: 'Nope' as 'Throttling' }), /code must be/);
  });

  it('admin API: POST /_emulator/quotas/ACTION takes {perMinute, code}, {perSecond, burst} or {} ; a bad body is a 400', async () => {
    await start();
    const post = (action: string, body: unknown) => fetch(`${emu.url}/_emulator/quotas/${action}`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal((await post('DescribeInstanceStatus', { perMinute: 2 })).status, 200);
    await describeStatus();
    await describeStatus();
    assert.equal((await expectEcsError(describeStatus(), 'Throttling.User', 400)).retryAfter, undefined);
    assert.equal((await post('DescribeInstanceStatus', { perSecond: 2, burst: 1 })).status, 200);
    await describeStatus();
    assert.equal((await expectEcsError(describeStatus(), 'Throttling.User', 400)).retryAfter, 500);
    assert.equal((await post('DescribeInstanceStatus', {})).status, 200);
    for (let i = 0; i < 3; i++) await describeStatus();
    const bad = await post('DescribeInstanceStatus', { perMinute: 1.5 });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /perMinute/);
    assert.equal((await post('DescribeInstanceStatus', { code: 'Throttling' })).status, 400, 'a code alone is not a quota');
    for (let i = 0; i < 3; i++) await describeStatus(); // the bad bodies changed nothing
  });

  it('CLI: --quota ACTION=N/min[:CODE] next to ACTION=QPS[:BURST], --tag, --instance-type, --accept-lag-ms', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/ecs-emulator/cli.ts', '--instances', '2', '--region', 'cn-shanghai', '--tag', 'env=dev', '--tag', 'team=a', '--instance-type', 'ecs.c7.xlarge',
        '--accept-lag-ms', '60000', '--quota', 'DescribeInstanceStatus=2/min:Throttling', '--quota', 'StopInstance=5:5'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const info = JSON.parse(chunk.toString()) as { endpoint: string; instances: string[] };
      const remote = makeClient({ endpoint: info.endpoint });
      await remote.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-emu000001' }));
      const d = await remote.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: 'cn-shanghai', tag: [new $Ecs.DescribeInstancesRequestTag({ key: 'team', value: 'a' })] }));
      const first = d.body?.instances?.instance?.[0];
      assert.equal(d.body?.instances?.instance?.length, 2);
      assert.deepEqual(first?.tags?.tag?.map((x) => `${x.tagKey}=${x.tagValue}`), ['env=dev', 'team=a']);
      assert.deepEqual([first?.instanceType, first?.cpu, first?.memory], ['ecs.c7.xlarge', 4, 8192]);
      assert.equal(first?.status, 'Running', 'a one-minute acceptance lag hides the stop');
      // Real clock: a new calendar minute may start between two calls, so allow a few.
      let throttled: (Error & Record<string, unknown>) | undefined;
      for (let i = 0; i < 5 && !throttled; i++) {
        try {
          await remote.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: 'cn-shanghai' }));
        } catch (e) {
          throttled = e as Error & Record<string, unknown>;
        }
      }
      assert.equal(throttled?.code, 'Throttling');
      assert.equal(throttled?.retryAfter, undefined);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/ecs-emulator/cli.ts', '--quota', 'StopInstance=3/hour'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--quota: expected ACTION=QPS\[:BURST\] or ACTION=N\/min\[:CODE\]/);
  });

  it('a throttled call is recorded with its code', async () => {
    await start({ quotas: { StartInstance: { perMinute: 0 } } });
    emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped' });
    await rejection(sdk.start('i-a'));
    assert.deepEqual([emu.calls.at(-1)?.code, emu.calls.at(-1)?.httpStatus], ['Throttling.User', 400]);
    assert.equal(emu.instance('i-a')?.status, 'Stopped');
  });
});
