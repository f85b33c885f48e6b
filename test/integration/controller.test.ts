import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources, cond, metricValue, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';

const NS = 'it-controller';

/** Write calls the emulator saw for one instance. */
function writes(emu: EcsEmulator, id: string): Array<{ action: string; params: Record<string, string>; code: string; requestId: string }> {
  return emu.calls.filter(
    (c) =>
      /^(Stop|Start)Instances?$/.test(c.action) &&
      (c.params['InstanceId'] === id || Object.entries(c.params).some(([k, v]) => k.startsWith('InstanceId.') && v === id)),
  );
}

describe('controller against kube-apiserver and the ECS emulator', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let op: RunningOperator;
  let res: Resources;

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    await cluster.kubectl(['create', 'namespace', `${NS}-other`]);
    emu = await startEcsEmulator({
      stopMs: 600,
      forceStopMs: 200,
      startMs: 400,
      accessKeys: [
        { accessKeyId: 'test-ak', accessKeySecret: 'test-secret' },
        { accessKeyId: 'team-a-ak', accessKeySecret: 'team-a-secret' },
      ],
    });
    op = await startOperator(cluster, emu, { namespace: NS, resyncPeriodMs: 3_000, terminalRecheckMs: 3_000 });
    res = new Resources(cluster.kubeConfig(), NS);
  });

  after(async () => {
    await op?.stop();
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, `${NS}-other`, '--wait=false']);
  });

  it('stops a Running instance with exactly the spec options and reports Ready=Stopped', async () => {
    emu.addInstance({ instanceId: 'i-stop1', regionId: 'cn-hangzhou', localDisk: true, instanceType: 'ecs.i1.xlarge' });
    await res.create('stop1', { instanceId: 'i-stop1', stoppedMode: 'KeepCharging', forceStop: true, confirmStop: true, hibernate: false });
    const done = await res.waitForReady('stop1', 'Stopped');
    const calls = writes(emu, 'i-stop1');
    assert.equal(calls.length, 1, JSON.stringify(calls));
    const c = calls[0]!;
    assert.equal(c.action, 'StopInstance');
    assert.equal(c.params['ForceStop'], 'true');
    assert.equal(c.params['ConfirmStop'], 'true');
    assert.equal(c.params['Hibernate'], 'false');
    assert.equal(c.params['StoppedMode'], 'KeepCharging');
    assert.equal(c.params['DryRun'], 'false');
    assert.equal(done.status?.instanceStatus, 'Stopped');
    assert.equal(done.status?.lastRequestId, c.requestId);
    assert.equal(done.status?.observedGeneration, done.metadata.generation);
    for (const t of ['Ready', 'Reconciling', 'Stalled'] as const) assert.equal(cond(done, t)?.observedGeneration, done.metadata.generation);
    assert.equal(cond(done, 'Reconciling')?.status, 'False');
    assert.equal(cond(done, 'Stalled')?.status, 'False');
    assert.equal(emu.instance('i-stop1')?.status, 'Stopped');
  });

  it('does not send stoppedMode when unset, and kubectl wait --for=condition=Ready works', async () => {
    emu.addInstance({ instanceId: 'i-stop2', regionId: 'cn-hangzhou' });
    await res.create('stop2', { instanceId: 'i-stop2' });
    const r = await cluster.kubectl(['wait', '-n', NS, '--for=condition=Ready', 'ecsinstancepower/stop2', '--timeout=20s']);
    assert.equal(r.code, 0, r.stderr);
    const c = writes(emu, 'i-stop2');
    assert.equal(c.length, 1);
    assert.equal('StoppedMode' in c[0]!.params, false);
  });

  it('starts a Stopped instance with StartInstance and reports Ready=Running', async () => {
    emu.addInstance({ instanceId: 'i-start1', regionId: 'cn-hangzhou', status: 'Stopped' });
    await res.create('start1', { instanceId: 'i-start1', desiredState: 'Running', forceStop: true, stoppedMode: 'StopCharging' });
    const done = await res.waitForReady('start1', 'Running');
    const c = writes(emu, 'i-start1');
    assert.deepEqual(c.map((x) => x.action), ['StartInstance']);
    assert.equal('ForceStop' in c[0]!.params, false, 'stop options are only sent when stopping');
    assert.equal(done.status?.instanceStatus, 'Running');
  });

  it('costs no write call and no status write for an instance already in the desired state', async () => {
    emu.addInstance({ instanceId: 'i-idle', regionId: 'cn-hangzhou', status: 'Stopped' });
    await res.create('idle', { instanceId: 'i-idle' });
    const first = await res.waitForReady('idle', 'Stopped');
    await sleep(7_000); // two resyncs
    const later = await res.get('idle');
    assert.equal(writes(emu, 'i-idle').length, 0);
    assert.equal(later.metadata.resourceVersion, first.metadata.resourceVersion, 'converged resource was rewritten');
    const describes = emu.calls.filter((c) => c.action === 'DescribeInstances' && c.params['InstanceIds']?.includes('i-idle'));
    assert.ok(describes.length >= 2, `resync observed ${describes.length} times`);
  });

  it('dry run: sends DryRun=true, reports DryRunSucceeded and changes nothing', async () => {
    emu.addInstance({ instanceId: 'i-dry', regionId: 'cn-hangzhou' });
    await res.create('dry', { instanceId: 'i-dry', dryRun: true, forceStop: true });
    const done = await res.waitForReady('dry', 'DryRunSucceeded');
    const c = writes(emu, 'i-dry');
    assert.equal(c.length, 1);
    assert.equal(c[0]!.params['DryRun'], 'true');
    assert.equal(c[0]!.code, 'DryRunOperation');
    assert.equal(emu.instance('i-dry')?.status, 'Running');
    assert.equal(done.status?.lastRequestId, c[0]!.requestId);
    await sleep(4_000);
    assert.equal(writes(emu, 'i-dry').length, 1, 'a validated dry run is not repeated for the same generation');
  });

  it('Enforce: an instance started out of band is stopped again within resync + poll', async () => {
    emu.addInstance({ instanceId: 'i-drift1', regionId: 'cn-hangzhou', status: 'Stopped' });
    await res.create('drift1', { instanceId: 'i-drift1' });
    await res.waitForReady('drift1', 'Stopped');
    emu.setStatus('i-drift1', 'Running');
    const t0 = Date.now();
    await res.waitFor('drift1', (o) => cond(o, 'Ready')?.status === 'False', 8_000, 'drift noticed');
    await res.waitForReady('drift1', 'Stopped', 8_000);
    assert.ok(Date.now() - t0 < 3_000 + 200 + 3_000, 'took longer than resync + poll + stop');
    assert.deepEqual(writes(emu, 'i-drift1').map((c) => c.action), ['StopInstance']);
    const events = await res.events('drift1');
    assert.ok(events.some((e) => e.reason === 'DriftDetected'), JSON.stringify(events.map((e) => e.reason)));
  });

  it('Enforce: an instance stopped out of band is started again', async () => {
    emu.addInstance({ instanceId: 'i-drift2', regionId: 'cn-hangzhou' });
    await res.create('drift2', { instanceId: 'i-drift2', desiredState: 'Running' });
    await res.waitForReady('drift2', 'Running');
    emu.setStatus('i-drift2', 'Stopped');
    await res.waitFor('drift2', () => writes(emu, 'i-drift2').length === 1, 8_000, 'StartInstance');
    await res.waitForReady('drift2', 'Running', 8_000);
  });

  it('Observe: reports Drifted and calls nothing', async () => {
    emu.addInstance({ instanceId: 'i-obs', regionId: 'cn-hangzhou' });
    await res.create('obs', { instanceId: 'i-obs', driftPolicy: 'Observe' });
    await res.waitForReady('obs', 'Stopped');
    assert.equal(writes(emu, 'i-obs').length, 1, 'Observe still acts once per generation');
    emu.setStatus('i-obs', 'Running');
    const drifted = await res.waitForReason('obs', 'Ready', 'False', 'Drifted', 8_000);
    assert.equal(cond(drifted, 'Reconciling')?.status, 'False');
    assert.equal(cond(drifted, 'Stalled')?.status, 'False');
    await sleep(4_000);
    assert.equal(writes(emu, 'i-obs').length, 1, 'Observe must not act again');
    // A new generation acts once more.
    await res.patchSpec('obs', { forceStop: true });
    await res.waitForReady('obs', 'Stopped');
    assert.equal(writes(emu, 'i-obs').length, 2);
  });

  it('a spec changed while a stop is in flight: the newest generation wins', async () => {
    emu.addInstance({ instanceId: 'i-flip', regionId: 'cn-hangzhou' });
    await res.create('flip', { instanceId: 'i-flip' });
    await res.waitFor('flip', () => writes(emu, 'i-flip').length === 1, 10_000, 'StopInstance');
    await res.patchSpec('flip', { desiredState: 'Running' });
    const done = await res.waitForReady('flip', 'Running', 15_000);
    assert.equal(done.status?.observedGeneration, 2);
    assert.deepEqual(writes(emu, 'i-flip').map((c) => c.action), ['StopInstance', 'StartInstance']);
    assert.equal(emu.instance('i-flip')?.status, 'Running');
  });

  it('IncorrectInstanceStatus leads to a fresh observation, not an error spiral', async () => {
    emu.addInstance({ instanceId: 'i-ics', regionId: 'cn-hangzhou' });
    emu.injectFault({ action: 'StopInstance', instanceId: 'i-ics', code: 'IncorrectInstanceStatus', count: 1 });
    await res.create('ics', { instanceId: 'i-ics' });
    const done = await res.waitForReady('ics', 'Stopped', 15_000);
    assert.equal(cond(done, 'Stalled')?.status, 'False');
    assert.deepEqual(writes(emu, 'i-ics').map((c) => c.code), ['IncorrectInstanceStatus', 'OK']);
  });

  it('the credentials Secret of the resource namespace signs its calls; one in another namespace is never used', async () => {
    const secret = (ns: string) => ({
      metadata: { name: 'team-a-ecs', namespace: ns },
      stringData: { accessKeyId: 'team-a-ak', accessKeySecret: 'team-a-secret' },
    });
    await res.core.createNamespacedSecret({ namespace: `${NS}-other`, body: secret(`${NS}-other`) });
    emu.addInstance({ instanceId: 'i-cred', regionId: 'cn-hangzhou' });
    await res.create('cred', { instanceId: 'i-cred', credentialsSecretRef: { name: 'team-a-ecs' } });
    const stalled = await res.waitForReason('cred', 'Stalled', 'True', 'InvalidCredentials');
    assert.match(cond(stalled, 'Ready')!.message, /Secret it-controller\/team-a-ecs not found/);
    assert.equal(writes(emu, 'i-cred').length, 0);

    await res.core.createNamespacedSecret({ namespace: NS, body: secret(NS) });
    await res.waitForReady('cred', 'Stopped', 40_000);
    const c = writes(emu, 'i-cred');
    assert.equal(c.length, 1);
    assert.equal(c[0]!.params['ForceStop'], 'false');
    assert.equal(emu.calls.find((x) => x.requestId === c[0]!.requestId)?.accessKeyId, 'team-a-ak');
  });

  it('a Secret with a wrong key is InvalidCredentials from ECS, and its value appears nowhere', async () => {
    const planted = 'PLANTED-s3cr3t-value-0123456789';
    await res.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'wrong-key' }, stringData: { accessKeyId: 'team-a-ak', accessKeySecret: planted } },
    });
    emu.addInstance({ instanceId: 'i-badkey', regionId: 'cn-hangzhou' });
    await res.create('badkey', { instanceId: 'i-badkey', credentialsSecretRef: { name: 'wrong-key' } });
    const stalled = await res.waitForReason('badkey', 'Stalled', 'True', 'InvalidCredentials');
    assert.match(cond(stalled, 'Stalled')!.message, /SignatureDoesNotMatch/);
    const events = await res.events('badkey');
    const everything = [JSON.stringify(stalled), JSON.stringify(events), op.logs.join('\n'), await op.metricsText()].join('\n');
    assert.equal(everything.includes(planted), false, 'secret value leaked');
  });

  it('two resources for one instance: the younger is InvalidSpec and never acts', async () => {
    emu.addInstance({ instanceId: 'i-dup', regionId: 'cn-hangzhou' });
    await res.create('dup-a', { instanceId: 'i-dup' });
    await res.waitForReady('dup-a', 'Stopped');
    await res.create('dup-b', { instanceId: 'i-dup', desiredState: 'Running' });
    const b = await res.waitForReason('dup-b', 'Stalled', 'True', 'InvalidSpec');
    assert.match(cond(b, 'Stalled')!.message, /already managed by EcsInstancePower it-controller\/dup-a/);
    await sleep(1_000);
    assert.deepEqual(writes(emu, 'i-dup').map((c) => c.action), ['StopInstance']);
  });

  it('emits Normal events for the request and the arrival, aggregated Warnings for repeats', async () => {
    emu.addInstance({ instanceId: 'i-ev', regionId: 'cn-hangzhou' });
    await res.create('ev', { instanceId: 'i-ev' });
    await res.waitForReady('ev', 'Stopped');
    await sleep(300);
    const reasons = (await res.events('ev')).map((e) => e.reason);
    assert.ok(reasons.includes('StopRequested') && reasons.includes('Stopped'), JSON.stringify(reasons));
  });

  it('exposes every metric of API.md', async () => {
    const text = await op.metricsText();
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'controller_runtime_active_workers',
      'controller_runtime_max_concurrent_reconciles',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_retries_total',
      'workqueue_queue_duration_seconds_bucket',
      'workqueue_work_duration_seconds_bucket',
      'ecs_api_requests_total',
      'ecs_api_request_duration_seconds_bucket',
      'ecspower_resources',
      'process_cpu_seconds_total',
      'nodejs_heap_size_total_bytes',
    ]) {
      assert.ok(text.includes(`\n${name}`), `missing ${name}`);
    }
    assert.ok((metricValue(text, 'controller_runtime_reconcile_total', { controller: 'ecsinstancepower', result: 'requeue_after' }) ?? 0) > 0);
    assert.ok((metricValue(text, 'ecs_api_requests_total', { action: 'StopInstance', region: 'cn-hangzhou', code: 'OK' }) ?? 0) > 0);
    assert.ok((metricValue(text, 'ecs_api_requests_total', { action: 'StopInstance', code: 'IncorrectInstanceStatus' }) ?? 0) > 0);
    assert.ok((metricValue(text, 'ecspower_resources', { desired_state: 'Stopped', ready: 'True', reason: 'Stopped' }) ?? 0) >= 3);
    assert.equal(metricValue(text, 'controller_runtime_max_concurrent_reconciles', { controller: 'ecsinstancepower' }), 10);
  });
});
