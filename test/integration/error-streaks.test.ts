// A streak of the same ECS error (a regional outage) is one Warning Event with a growing count,
// and the status is written once for it: the condition message keeps the RequestId of the first
// failure of the streak (API.md "Reasons" and "Events"). Before, every failed reconcile created
// a new Event and rewrote the status, because each retry carries a new RequestId.
import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources, cond, metricValue, startOperator, type RunningOperator } from '../support/operator-harness.ts';
import { eventually } from '../support/eventually.ts';

const NS = 'it-error-streaks';
const STREAK = 15;
/** The controller's short in-call retries: 1 call + 2 retries per pass (src/operator.ts). */
const IN_CALL_ATTEMPTS = 3;

describe('a streak of the same ECS error', function () {
  this.timeout(90_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let op: RunningOperator;
  let res: Resources;

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    res = new Resources(cluster.kubeConfig(), NS);
    emu = await startEcsEmulator({ stopMs: 300 });
    emu.addInstance({ instanceId: 'i-streak1', regionId: 'cn-hangzhou' });
    op = await startOperator(cluster, emu, { namespace: NS });
  });

  after(async () => {
    await op?.stop();
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it(`${STREAK} InternalError answers in a row: one Warning Event, at most 2 status writes, the first RequestId kept`, async () => {
    emu.injectFault({ action: 'StopInstance', instanceId: 'i-streak1', code: 'InternalError', count: STREAK });
    const writesBefore = metricValue(await op.metricsText(), 'ecspower_status_writes_total', { result: 'ok' }) ?? 0;
    await res.create('streak', { instanceId: 'i-streak1', desiredState: 'Stopped' });

    const failed = () => emu.calls.filter((c) => c.action === 'StopInstance' && c.code === 'InternalError');
    await eventually(`${STREAK} InternalError answers`, async () => failed().length >= STREAK, 60_000, () => `${failed().length} so far`);
    const writesDuringStreak = (metricValue(await op.metricsText(), 'ecspower_status_writes_total', { result: 'ok' }) ?? 0) - writesBefore;
    const during = await res.get('streak');
    // The first failed pass made IN_CALL_ATTEMPTS calls (short in-call retries); it reported the last one.
    const firstPass = failed().slice(0, IN_CALL_ATTEMPTS).map((c) => c.requestId);
    const shown = /\(RequestId ([^)]+)\)$/.exec(cond(during, 'Ready')?.message ?? '')?.[1];
    assert.equal(cond(during, 'Ready')?.reason, 'InternalError');
    assert.ok(shown && firstPass.includes(shown), `RequestId shown ${shown}; the first pass's ${firstPass.join(', ')}; the last ${failed().at(-1)!.requestId}`);
    assert.ok(writesDuringStreak <= 2, `${writesDuringStreak} status writes during the streak`);

    await res.waitForReady('streak', 'Stopped', 30_000);
    const warnings = (await res.events('streak')).filter((e) => e.type === 'Warning');
    assert.deepEqual(
      warnings.map((e) => e.reason),
      ['InternalError'],
      `Warning events: ${JSON.stringify(warnings.map((e) => [e.reason, e.count, e.message]))}`,
    );
  });
});
