/**
 * The ECS emulator against the real @alicloud/ecs20140526 SDK.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { once } from 'node:events';
import * as $Ecs from '../support/ecs-emulator/sdk-requests.ts';
import { ClientError, ServerError, ThrottlingError } from '@alicloud/openapi-core';
import { acsDate, signRequest, startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator, EmulatorOptions, Fault } from '../support/ecs-emulator/index.ts';
import { expectEcsError, makeClient, rejection } from '../support/ecs-emulator/test-client.ts';
import type { EcsClient } from '../support/ecs-emulator/test-client.ts';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

const REGION = 'cn-hangzhou';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function rawCall(emu: EcsEmulator, signed: { method: string; path: string; headers: Record<string, string>; body: string }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: emu.port, method: signed.method, path: signed.path, headers: signed.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(signed.body);
  });
}

function sign(emu: EcsEmulator, action: string, params: Record<string, string>, extra: Partial<Parameters<typeof signRequest>[0]> = {}) {
  return signRequest({ host: emu.endpoint, action, params, accessKeyId: 'test-ak', accessKeySecret: 'test-secret', ...extra });
}

describe('ECS emulator (real SDK)', function () {
  this.timeout(10_000);
  let t: number;
  let emu: EcsEmulator;
  let ecs: EcsClient;

  async function start(opts: EmulatorOptions = {}): Promise<void> {
    await emu?.close();
    // No acceptance lag here: these tests look at the state machine itself (ecs-emulator-lag.test.ts has the lag).
    emu = await startEcsEmulator({ now: () => t, stopMs: 2000, forceStopMs: 300, startMs: 1000, acceptLagMs: 0, ...opts });
    ecs = makeClient(emu);
  }

  const stop = (instanceId: string, o: Partial<$Ecs.StopInstanceRequest> = {}) => ecs.stopInstance(new $Ecs.StopInstanceRequest({ instanceId, ...o }));
  const startI = (instanceId: string, o: Partial<$Ecs.StartInstanceRequest> = {}) => ecs.startInstance(new $Ecs.StartInstanceRequest({ instanceId, ...o }));
  const statusOf = async (id: string, regionId = REGION) => {
    const r = await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId, instanceId: [id] }));
    return r.body?.instanceStatuses?.instanceStatus?.[0]?.status;
  };

  beforeEach(async () => {
    t = 1_700_000_000_000;
    await start();
  });
  afterEach(async () => {
    await emu.close();
  });

  describe('state machine', () => {
    it('stops Running -> Stopping -> Stopped on the injected clock', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      assert.equal(await statusOf('i-a'), 'Running');
      const r = await stop('i-a');
      assert.equal(r.statusCode, 200);
      assert.match(r.body?.requestId ?? '', /^[0-9A-F-]{36}$/);
      assert.equal(await statusOf('i-a'), 'Stopping');
      t += 1999;
      assert.equal(await statusOf('i-a'), 'Stopping');
      t += 1;
      assert.equal(await statusOf('i-a'), 'Stopped');
      assert.equal(emu.instance('i-a')?.status, 'Stopped');
      assert.equal(emu.instance('i-a')?.stoppedMode, 'KeepCharging');
    });

    it('forced stop uses forceStopMs and records StopCharging; start goes Starting -> Running', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      await stop('i-a', { forceStop: true, stoppedMode: 'StopCharging' });
      t += 299;
      assert.equal(await statusOf('i-a'), 'Stopping');
      t += 1;
      assert.equal(await statusOf('i-a'), 'Stopped');
      const d = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-a"]' }));
      assert.equal(d.body?.instances?.instance?.[0]?.stoppedMode, 'StopCharging');
      await startI('i-a');
      assert.equal(await statusOf('i-a'), 'Starting');
      t += 1000;
      assert.equal(await statusOf('i-a'), 'Running');
      assert.equal(emu.instance('i-a')?.stoppedMode, 'Not-applicable');
    });

    it('setStatus drifts an instance out of band; transitional states settle (or hold)', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, status: 'Stopped' });
      emu.setStatus('i-a', 'Running');
      assert.equal(await statusOf('i-a'), 'Running');
      emu.setStatus('i-a', 'Stopping', Infinity);
      t += 1e9;
      assert.equal(await statusOf('i-a'), 'Stopping');
      emu.setStatus('i-a', 'Pending');
      t += 1000;
      assert.equal(await statusOf('i-a'), 'Running');
    });
  });

  describe('signature', () => {
    it('rejects a wrong secret with SignatureDoesNotMatch and changes nothing', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const bad = makeClient(emu, { accessKeySecret: 'wrong' });
      const e = await expectEcsError(bad.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-a' })), 'SignatureDoesNotMatch', 400);
      assert.ok(e instanceof ClientError);
      assert.equal(emu.instance('i-a')?.status, 'Running');
      assert.equal(emu.calls.at(-1)?.code, 'SignatureDoesNotMatch');
      assert.equal(emu.calls.at(-1)?.accessKeyId, 'test-ak');
    });

    it('rejects an unknown key (404) and a disabled key', async () => {
      await expectEcsError(makeClient(emu, { accessKeyId: 'nobody' }).describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION })), 'InvalidAccessKeyId.NotFound', 404);
      await start({ accessKeys: [{ accessKeyId: 'test-ak', accessKeySecret: 'test-secret', inactive: true }] });
      await expectEcsError(ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION })), 'InvalidAccessKeyId.Inactive', 400);
    });

    it('verifies values with characters the SDK leaves unescaped on the wire', async () => {
      // *()!' and a space: a naive verifier would answer SignatureDoesNotMatch instead of NotFound.
      await expectEcsError(stop("i-x*()!' ~y/+"), 'InvalidInstanceId.NotFound', 404);
      assert.equal(emu.calls.at(-1)?.params.InstanceId, "i-x*()!' ~y/+");
    });

    it('accepts STS credentials with the matching token, rejects a mismatched one', async () => {
      await start({ accessKeys: [{ accessKeyId: 'sts-ak', accessKeySecret: 'sts-secret', securityToken: 'tok-1' }] });
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const good = makeClient(emu, { accessKeyId: 'sts-ak', accessKeySecret: 'sts-secret', securityToken: 'tok-1' });
      await good.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-a' }));
      const bad = makeClient(emu, { accessKeyId: 'sts-ak', accessKeySecret: 'sts-secret', securityToken: 'tok-2' });
      await expectEcsError(bad.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION })), 'InvalidSecurityToken.MismatchWithAccessKey', 400);
    });

    it('rejects a reused nonce, a stale date, a tampered query and an unknown action (raw HTTP)', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const req = sign(emu, 'DescribeInstanceStatus', { RegionId: REGION }, { nonce: 'n-1' });
      const first = await rawCall(emu, req);
      assert.equal(first.status, 200, first.body);
      assert.equal(first.headers['content-type'], 'application/json;charset=utf-8');
      const again = await rawCall(emu, req);
      assert.equal(again.status, 400);
      assert.equal(JSON.parse(again.body).Code, 'SignatureNonceUsed');

      const stale = await rawCall(emu, sign(emu, 'DescribeInstanceStatus', { RegionId: REGION }, { date: acsDate(Date.now() - 16 * 60_000) }));
      assert.equal(stale.status, 400);
      assert.equal(JSON.parse(stale.body).Code, 'InvalidTimeStamp.Expired');

      const tampered = sign(emu, 'StopInstance', { InstanceId: 'i-a' });
      tampered.path = tampered.path.replace('i-a', 'i-b');
      const t2 = await rawCall(emu, tampered);
      assert.equal(t2.status, 400);
      assert.equal(JSON.parse(t2.body).Code, 'SignatureDoesNotMatch');

      const unknown = await rawCall(emu, sign(emu, 'RebootEverything', { RegionId: REGION }));
      assert.equal(unknown.status, 400);
      const body = JSON.parse(unknown.body);
      assert.equal(body.Code, 'InvalidAction.NotFound');
      assert.deepEqual(Object.keys(body).sort(), ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
      assert.equal(unknown.headers['x-acs-request-id'], body.RequestId);
      assert.equal(emu.instance('i-a')?.status, 'Running');
    });
  });

  describe('batch calls', () => {
    beforeEach(() => {
      emu.addInstance({ instanceId: 'i-run1', regionId: REGION });
      emu.addInstance({ instanceId: 'i-run2', regionId: REGION });
      emu.addInstance({ instanceId: 'i-stopped', regionId: REGION, status: 'Stopped' });
      emu.addInstance({ instanceId: 'i-locked', regionId: REGION, locks: ['security'] });
      emu.addInstance({ instanceId: 'i-far', regionId: 'cn-beijing' });
    });

    it('StopInstances SuccessFirst: each instance succeeds or fails on its own', async () => {
      const r = await ecs.stopInstances(
        new $Ecs.StopInstancesRequest({
          regionId: REGION,
          instanceId: ['i-run1', 'i-missing', 'i-stopped', 'i-locked', 'i-far', 'i-run2'],
          batchOptimization: 'SuccessFirst',
          forceStop: true,
        }),
      );
      const byId = Object.fromEntries((r.body?.instanceResponses?.instanceResponse ?? []).map((x) => [x.instanceId, x]));
      assert.deepEqual(Object.keys(byId), ['i-run1', 'i-missing', 'i-stopped', 'i-locked', 'i-far', 'i-run2']);
      assert.deepEqual({ ...byId['i-run1'] }, { instanceId: 'i-run1', code: '200', message: 'success', previousStatus: 'Running', currentStatus: 'Stopping' });
      assert.equal(byId['i-missing']?.code, 'InvalidInstanceId.NotFound');
      assert.equal(byId['i-stopped']?.code, 'IncorrectInstanceStatus');
      assert.equal(byId['i-stopped']?.currentStatus, 'Stopped');
      assert.equal(byId['i-locked']?.code, 'InstanceLockedForSecurity');
      assert.equal(byId['i-far']?.code, 'InvalidInstanceId.NotFound', 'another region is not visible');
      assert.equal(byId['i-run2']?.code, '200');
      assert.equal(emu.instance('i-far')?.status, 'Running');
      t += 300;
      assert.equal(emu.instance('i-run1')?.status, 'Stopped');
      const sent = emu.calls.at(-1)?.params ?? {};
      assert.equal(sent['InstanceId.1'], 'i-run1');
      assert.equal(sent['InstanceId.6'], 'i-run2');
      assert.equal(sent.BatchOptimization, 'SuccessFirst');
    });

    it('StopInstances AllTogether fails the whole call and changes nothing', async () => {
      await expectEcsError(
        ecs.stopInstances(new $Ecs.StopInstancesRequest({ regionId: REGION, instanceId: ['i-run1', 'i-stopped'] })),
        'IncorrectInstanceStatus',
        403,
      );
      assert.equal(emu.instance('i-run1')?.status, 'Running');
      const ok = await ecs.stopInstances(new $Ecs.StopInstancesRequest({ regionId: REGION, instanceId: ['i-run1', 'i-run2'], batchOptimization: 'AllTogether' }));
      assert.deepEqual(ok.body?.instanceResponses?.instanceResponse?.map((x) => x.code), ['200', '200']);
    });

    it('StartInstances and the batch limits', async () => {
      const r = await ecs.startInstances(new $Ecs.StartInstancesRequest({ regionId: REGION, instanceId: ['i-stopped', 'i-run1'], batchOptimization: 'SuccessFirst' }));
      assert.deepEqual(r.body?.instanceResponses?.instanceResponse?.map((x) => [x.code, x.currentStatus]), [
        ['200', 'Starting'],
        ['IncorrectInstanceStatus', 'Running'],
      ]);
      const ids = Array.from({ length: 101 }, (_, i) => `i-n${i}`);
      await expectEcsError(ecs.startInstances(new $Ecs.StartInstancesRequest({ regionId: REGION, instanceId: ids })), 'InvalidParameter', 400);
      await expectEcsError(ecs.startInstances(new $Ecs.StartInstancesRequest({ instanceId: ['i-stopped'] })), 'MissingParameter', 400);
    });
  });

  describe('describe calls', () => {
    it('DescribeInstances with InstanceIds reports the documented fields, per region', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION, chargeType: 'PrePaid', networkType: 'classic', locks: ['financial'] });
      emu.addInstance({ instanceId: 'i-b', regionId: REGION, spot: true, instanceType: 'ecs.i1.xlarge', status: 'Stopped', stoppedMode: 'StopCharging' });
      emu.addInstance({ instanceId: 'i-c', regionId: 'cn-beijing' });
      const r = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(['i-a', 'i-b', 'i-c', 'i-zzz']) }));
      assert.equal(r.body?.totalCount, 2);
      const [a, b] = r.body?.instances?.instance ?? [];
      assert.equal(a?.instanceId, 'i-a');
      assert.equal(a?.regionId, REGION);
      assert.equal(a?.status, 'Running');
      assert.equal(a?.instanceChargeType, 'PrePaid');
      assert.equal(a?.spotStrategy, 'NoSpot');
      assert.equal(a?.instanceNetworkType, 'classic');
      assert.equal(a?.stoppedMode, 'Not-applicable');
      assert.equal(a?.instanceType, 'ecs.g7.large');
      assert.deepEqual(a?.operationLocks?.lockReason?.map((l) => l.lockReason), ['financial']);
      assert.equal(b?.spotStrategy, 'SpotAsPriceGo');
      assert.equal(b?.instanceType, 'ecs.i1.xlarge');
      assert.equal(b?.status, 'Stopped');
      assert.equal(b?.stoppedMode, 'StopCharging');
      assert.deepEqual(b?.operationLocks?.lockReason, []);
      await expectEcsError(ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: 'i-a' })), 'InvalidParameter', 400);
    });

    it('DescribeInstances pages with MaxResults/NextToken (MaxResults below 10 means 10)', async () => {
      for (let i = 0; i < 25; i++) emu.addInstance({ instanceId: `i-p${i}`, regionId: REGION });
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 2, ...(token ? { nextToken: token } : {}) }));
        seen.push(...(r.body?.instances?.instance ?? []).map((x) => x.instanceId ?? ''));
        token = r.body?.nextToken || undefined;
        pages++;
      } while (token);
      assert.equal(pages, 3);
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `i-p${i}`));
    });

    it('DescribeInstanceStatus pages (PageSize 1..50, default 10) and filters by InstanceId.N', async () => {
      for (let i = 0; i < 12; i++) emu.addInstance({ instanceId: `i-s${i}`, regionId: REGION });
      emu.addInstance({ instanceId: 'i-other', regionId: 'cn-beijing' });
      const p1 = await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION }));
      assert.equal(p1.body?.totalCount, 12);
      assert.equal(p1.body?.pageSize, 10);
      assert.equal(p1.body?.instanceStatuses?.instanceStatus?.length, 10);
      const p2 = await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION, pageNumber: 2 }));
      assert.deepEqual(p2.body?.instanceStatuses?.instanceStatus?.map((s) => s.instanceId), ['i-s10', 'i-s11']);
      const f = await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION, instanceId: ['i-s3', 'i-other'], pageSize: 50 }));
      assert.deepEqual(f.body?.instanceStatuses?.instanceStatus?.map((s) => [s.instanceId, s.status]), [['i-s3', 'Running']]);
      await expectEcsError(ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION, pageSize: 51 })), 'InvalidParameter', 400);
    });
  });

  describe('documented errors', () => {
    it('IncorrectInstanceStatus (403) for stop when not Running and start when not Stopped', async () => {
      emu.addInstance({ instanceId: 'i-stopped', regionId: REGION, status: 'Stopped' });
      emu.addInstance({ instanceId: 'i-run', regionId: REGION });
      emu.addInstance({ instanceId: 'i-starting', regionId: REGION, status: 'Starting' });
      await expectEcsError(stop('i-stopped'), 'IncorrectInstanceStatus', 403);
      await expectEcsError(stop('i-starting'), 'IncorrectInstanceStatus', 403);
      await expectEcsError(startI('i-run'), 'IncorrectInstanceStatus', 403);
      await stop('i-run');
      await expectEcsError(stop('i-run'), 'IncorrectInstanceStatus', 403); // Stopping
      await expectEcsError(startI('i-run'), 'IncorrectInstanceStatus', 403);
    });

    it('instance-driven errors of StopInstance/StartInstance, nothing changed', async () => {
      const cases: Array<{ init: Parameters<EcsEmulator['addInstance']>[0]; call: 'stop' | 'start'; req?: Partial<$Ecs.StopInstanceRequest>; code: string; status: number }> = [
        { init: { instanceId: 'i-nf', regionId: 'x' }, call: 'stop', code: 'InvalidInstanceId.NotFound', status: 404 },
        { init: { instanceId: 'i-sec', regionId: REGION, locks: ['security'] }, call: 'stop', code: 'InstanceLockedForSecurity', status: 403 },
        { init: { instanceId: 'i-i1', regionId: REGION, instanceType: 'ecs.i1.xlarge' }, call: 'stop', code: 'InstanceType.ParameterMismatch', status: 403 },
        { init: { instanceId: 'i-ld', regionId: REGION, localDisk: true }, call: 'stop', req: { confirmStop: false }, code: 'InstanceType.ParameterMismatch', status: 403 },
        { init: { instanceId: 'i-fin', regionId: REGION, locks: ['financial'] }, call: 'stop', code: 'InstanceExpiredOrInArrears', status: 403 },
        { init: { instanceId: 'i-fin2', regionId: REGION, status: 'Stopped', locks: ['financial'] }, call: 'start', code: 'InstanceExpiredOrInArrears', status: 403 },
        { init: { instanceId: 'i-cl', regionId: REGION, networkType: 'classic' }, call: 'stop', req: { stoppedMode: 'StopCharging' }, code: 'InvalidInstanceId.NotSupport', status: 403 },
        { init: { instanceId: 'i-pre', regionId: REGION, chargeType: 'PrePaid' }, call: 'stop', req: { stoppedMode: 'StopCharging' }, code: 'InvalidInstanceId.NotSupport', status: 403 },
        { init: { instanceId: 'i-spot', regionId: REGION, spot: true }, call: 'stop', req: { stoppedMode: 'StopCharging' }, code: 'InvalidInstanceId.NotSupport', status: 403 },
        { init: { instanceId: 'i-ldsc', regionId: REGION, instanceType: 'ecs.i1.xlarge' }, call: 'stop', req: { stoppedMode: 'StopCharging', confirmStop: true }, code: 'InvalidInstanceId.NotSupport', status: 403 },
        { init: { instanceId: 'i-kms', regionId: REGION, kmsUnauthorized: true }, call: 'stop', code: 'InvalidParameter.KMSKeyId.KMSUnauthorized', status: 403 },
        { init: { instanceId: 'i-ns', regionId: REGION, status: 'Stopped', noStock: true }, call: 'start', code: 'OperationDenied.NoStock', status: 403 },
      ];
      for (const c of cases) {
        if (c.init.regionId !== 'x') emu.addInstance(c.init);
        const before = emu.instance(c.init.instanceId)?.status;
        const p = c.call === 'stop' ? stop(c.init.instanceId, c.req) : startI(c.init.instanceId);
        const e = await expectEcsError(p, c.code, c.status);
        assert.ok(e instanceof ClientError, `${c.code}: ClientError expected`);
        assert.equal(emu.instance(c.init.instanceId)?.status, before, `${c.code} changed the instance`);
      }
      // Classic StopInstance (KeepCharging) on those works; ConfirmStop=true stops the i1 instance.
      await stop('i-cl', { stoppedMode: 'KeepCharging' });
      await stop('i-i1', { confirmStop: true });
      assert.equal(emu.instance('i-i1')?.status, 'Stopping');
      // A lifted lock clears the error.
      emu.update('i-sec', { locks: [] });
      await stop('i-sec');
      assert.equal(emu.instance('i-sec')?.status, 'Stopping');
    });

    it('every other code of the error table can be injected, with its HTTP status and SDK class', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const cases: Array<[string, number, typeof ClientError | typeof ServerError | typeof ThrottlingError]> = [
        ['InternalError', 500, ServerError],
        ['ServiceUnavailable', 503, ServerError],
        ['Throttling', 400, ThrottlingError],
        ['Throttling.User', 400, ThrottlingError],
        ['Throttling.Api', 400, ThrottlingError],
        ['OperationConflict', 403, ClientError],
        ['InvalidOperation.Conflict', 403, ClientError],
        ['IncorrectDiskStatus', 403, ClientError],
        ['DiskError', 403, ClientError],
        ['Forbidden', 403, ClientError],
        ['Forbidden.RAM', 403, ClientError],
        ['NoPermission', 403, ClientError],
        ['InvalidAccessKeyId.Inactive', 400, ClientError],
        ['InvalidSecurityToken.Expired', 400, ClientError],
      ];
      for (const [code, status, cls] of cases) {
        emu.injectFault({ action: 'StopInstance', code });
        const e = await expectEcsError(stop('i-a'), code, status);
        assert.ok(e instanceof cls, `${code}: ${cls.name} expected, got ${e.name}`);
        assert.equal(emu.calls.at(-1)?.fault, 'error');
      }
      emu.injectFault({ code: 'InternalError', httpStatus: 502, message: 'bad gateway' });
      const e = await expectEcsError(stop('i-a'), 'InternalError', 502);
      assert.match(e.message, /^InternalError: code: 502, bad gateway request id: /);
      assert.equal(emu.instance('i-a')?.status, 'Running', 'faults change nothing');
    });
  });

  describe('DryRun', () => {
    it('a passing dry run answers 400 DryRunOperation and changes nothing; a failing one the real error', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      emu.addInstance({ instanceId: 'i-sec', regionId: REGION, locks: ['security'] });
      const e = await expectEcsError(stop('i-a', { dryRun: true, forceStop: true }), 'DryRunOperation', 400);
      assert.ok(e instanceof ClientError);
      assert.equal((e.data as Record<string, unknown>).Message, 'Request validation has been passed with DryRun flag set.');
      assert.equal(emu.instance('i-a')?.status, 'Running');
      await expectEcsError(startI('i-a', { dryRun: true }), 'IncorrectInstanceStatus', 403);
      await expectEcsError(stop('i-sec', { dryRun: true }), 'InstanceLockedForSecurity', 403);
      await expectEcsError(ecs.stopInstances(new $Ecs.StopInstancesRequest({ regionId: REGION, instanceId: ['i-a'], dryRun: true })), 'DryRunOperation', 400);
      assert.equal(emu.instance('i-a')?.status, 'Running');
    });
  });

  describe('faults', () => {
    beforeEach(() => emu.addInstance({ instanceId: 'i-a', regionId: REGION }));

    it('delay beyond the read timeout: RequestTimeoutError "ReadTimeout(...)", code undefined, nothing changed', async () => {
      const slow = makeClient(emu, { readTimeout: 200, connectTimeout: 2000 });
      emu.injectFault({ kind: 'delay', delayMs: 500 });
      const e = await rejection(slow.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-a' })));
      assert.equal(e.name, 'RequestTimeoutError');
      assert.equal(e.code, undefined);
      assert.equal(e.statusCode, undefined);
      assert.match(e.message, /^ReadTimeout\(200\)/);
      await waitFor('the delayed call to be recorded', () => emu.calls.length === 1);
      assert.equal(emu.calls.at(-1)?.code, 'ClientClosedRequest');
      assert.equal(emu.calls.at(-1)?.httpStatus, 0);
      assert.equal(emu.instance('i-a')?.status, 'Running');
    });

    it('delay with applyAfterTimeout: the client times out but the stop happened', async () => {
      const slow = makeClient(emu, { readTimeout: 200, connectTimeout: 2000 });
      emu.injectFault({ kind: 'delay', delayMs: 400, applyAfterTimeout: true });
      await rejection(slow.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-a' })));
      await waitFor('the delayed call to be recorded', () => emu.calls.length === 1);
      assert.equal(emu.calls.at(-1)?.code, 'ClientClosedRequest');
      assert.equal(emu.instance('i-a')?.status, 'Stopping');
      assert.equal(emu.calls.at(-1)?.fault, 'delay');
    });

    it('delay beyond the connect (idle) timeout: message starts with ConnectTimeout', async () => {
      const slow = makeClient(emu, { readTimeout: 2000, connectTimeout: 200 });
      emu.injectFault({ kind: 'delay', delayMs: 500 });
      const e = await rejection(slow.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-a' })));
      assert.equal(e.name, 'RequestTimeoutError');
      assert.equal(e.code, undefined);
      assert.match(e.message, /^ConnectTimeout/);
    });

    it('a short delay just slows the answer down', async () => {
      emu.injectFault({ kind: 'delay', delayMs: 100 });
      const t0 = Date.now();
      await stop('i-a');
      assert.ok(Date.now() - t0 >= 95);
      assert.equal(emu.instance('i-a')?.status, 'Stopping');
    });

    it('reset: a plain Error with code ECONNRESET', async () => {
      emu.injectFault({ kind: 'reset' });
      const e = await rejection(stop('i-a'));
      assert.equal(e.code, 'ECONNRESET');
      assert.equal(e.statusCode, undefined);
      assert.equal(emu.calls.at(-1)?.code, 'ConnectionReset');
      assert.equal(emu.instance('i-a')?.status, 'Running');
      await stop('i-a'); // the next call works
    });

    it('non-json: 502 with HTML makes the SDK throw a SyntaxError', async () => {
      emu.injectFault({ kind: 'non-json' });
      const e = await rejection(stop('i-a'));
      assert.ok(e instanceof SyntaxError);
      assert.equal(e.code, undefined);
      assert.deepEqual([emu.calls.at(-1)?.httpStatus, emu.calls.at(-1)?.code], [502, 'NonJsonResponse']);
      assert.equal(emu.instance('i-a')?.status, 'Running');
    });

    it('truncated: 200 with half a JSON body makes the SDK throw a SyntaxError', async () => {
      emu.injectFault({ kind: 'truncated' });
      const e = await rejection(ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION })));
      assert.ok(e instanceof SyntaxError);
      assert.deepEqual([emu.calls.at(-1)?.httpStatus, emu.calls.at(-1)?.code], [200, 'TruncatedResponse']);
    });

    it('faults match action and instance, count down, and are recorded', async () => {
      emu.addInstance({ instanceId: 'i-b', regionId: REGION });
      const f: Fault = { action: 'StopInstance', instanceId: 'i-b', code: 'ServiceUnavailable', count: 2 };
      emu.injectFault(f);
      await stop('i-a'); // other instance: no fault
      await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION, instanceId: ['i-b'] })); // other action
      await expectEcsError(stop('i-b'), 'ServiceUnavailable', 503);
      await expectEcsError(stop('i-b'), 'ServiceUnavailable', 503);
      await stop('i-b');
      emu.injectFault({ instanceId: 'i-b', kind: 'reset', count: Infinity });
      await rejection(ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-b"]' })));
      await rejection(ecs.stopInstances(new $Ecs.StopInstancesRequest({ regionId: REGION, instanceId: ['i-a', 'i-b'] })));
      emu.clearFaults();
      await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-b"]' }));
      assert.deepEqual(
        emu.calls.map((c) => c.code),
        ['OK', 'OK', 'ServiceUnavailable', 'ServiceUnavailable', 'OK', 'ConnectionReset', 'ConnectionReset', 'OK'],
      );
      assert.equal(new Set(emu.calls.map((c) => c.requestId)).size, emu.calls.length, 'unique RequestIds');
      emu.resetCalls();
      assert.equal(emu.calls.length, 0);
    });
  });

  describe('throttling', () => {
    it('token bucket per action and region; ThrottlingError with retryAfter from x-acs-retry-after', async () => {
      await start({ quotas: { DescribeInstanceStatus: { perSecond: 2, burst: 2 } } });
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const describe = (regionId = REGION) => ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId }));
      await describe();
      await describe();
      const e = await expectEcsError(describe(), 'Throttling.User', 400);
      assert.ok(e instanceof ThrottlingError);
      assert.equal(e.retryAfter, 500);
      await describe('cn-beijing'); // another region has its own bucket
      await stop('i-a'); // another action is not limited
      t += 499;
      assert.equal((await expectEcsError(describe(), 'Throttling.User', 400)).retryAfter, 1);
      t += 1;
      await describe();
      emu.setQuota('DescribeInstanceStatus', undefined);
      for (let i = 0; i < 5; i++) await describe();
      emu.setQuota('StopInstance', { perSecond: 1 });
      emu.addInstance({ instanceId: 'i-b', regionId: REGION });
      emu.addInstance({ instanceId: 'i-c', regionId: REGION });
      await stop('i-b');
      const e2 = await expectEcsError(stop('i-c'), 'Throttling.User', 400);
      assert.equal(e2.retryAfter, 1000);
      assert.equal(emu.instance('i-c')?.status, 'Running', 'a throttled call changes nothing');
    });

    it('an injected throttling fault carries x-acs-retry-after too', async () => {
      emu.injectFault({ code: 'Throttling.Api', retryAfterMs: 1234 });
      const e = await expectEcsError(ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION })), 'Throttling.Api', 400);
      assert.equal(e.retryAfter, 1234);
    });
  });

  describe('extras', () => {
    it('latencyMs slows every answer', async () => {
      await start({ latencyMs: 80 });
      const t0 = Date.now();
      await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION }));
      assert.ok(Date.now() - t0 >= 75);
    });

    it('admin API: list, patch and fault over HTTP', async () => {
      emu.addInstance({ instanceId: 'i-a', regionId: REGION });
      const list = (await (await fetch(`${emu.url}/_emulator/instances`)).json()) as Array<{ instanceId: string }>;
      assert.deepEqual(list.map((i) => i.instanceId), ['i-a']);
      const patched = await fetch(`${emu.url}/_emulator/instances/i-a`, { method: 'POST', body: JSON.stringify({ status: 'Stopped', locks: ['security'] }) });
      assert.equal(patched.status, 200);
      assert.equal(emu.instance('i-a')?.status, 'Stopped');
      assert.deepEqual(emu.instance('i-a')?.locks, ['security']);
      await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ code: 'InternalError' }) });
      await expectEcsError(startI('i-a'), 'InternalError', 500);
      const stats = (await (await fetch(`${emu.url}/_emulator/stats`)).json()) as { calls: number };
      assert.equal(stats.calls, 1, 'admin calls are not recorded');
    });

    it('CLI starts an emulator the SDK can use and prints its endpoint', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/ecs-emulator/cli.ts', '--instances', '3', '--region', 'cn-shanghai', '--stop-ms', '100', '--accept-lag-ms', '0', '--quota', 'StopInstance=5'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
        const info = JSON.parse(chunk.toString()) as { endpoint: string; instances: string[] };
        assert.deepEqual(info.instances, ['i-emu000001', 'i-emu000002', 'i-emu000003']);
        const remote = makeClient({ endpoint: info.endpoint } as EcsEmulator);
        await remote.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: 'i-emu000002' }));
        const r = await remote.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: 'cn-shanghai', instanceId: ['i-emu000002'] }));
        assert.equal(r.body?.instanceStatuses?.instanceStatus?.[0]?.status, 'Stopping');
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    });
  });
});
