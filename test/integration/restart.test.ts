import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources, cond, sleep } from '../support/operator-harness.ts';
import { startControllerProcess, type ControllerProcess } from '../support/process.ts';

const NS = 'it-restart';
const IDS = ['i-rs1', 'i-rs2', 'i-rs3', 'i-rs4'];

describe('the controller process: SIGKILL mid-transition, restart, SIGTERM', function () {
  this.timeout(90_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let res: Resources;
  const procs: ControllerProcess[] = [];

  const start = async (name: string): Promise<ControllerProcess> => {
    const p = await startControllerProcess({
      name,
      args: [
        '--kubeconfig', cluster.kubeconfigPath,
        '--namespace', NS,
        '--ecs-endpoint', emu.url,
        '--poll-interval', '300ms',
        '--batch-window', '50ms',
      ],
    });
    procs.push(p);
    return p;
  };

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    // ECS shows an accepted stop a moment later; here longer than the restart takes, so the new
    // process sees the instances still Running and must know from the status that it asked.
    emu = await startEcsEmulator({ stopMs: 4_000, startMs: 4_000, acceptLagMs: 8_000 });
    res = new Resources(cluster.kubeConfig(), NS);
  });

  after(async () => {
    for (const p of procs) await p.stop(2_000);
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it('a controller killed with SIGKILL while instances are Stopping is restarted and finishes without a second stop', async () => {
    for (const id of IDS) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    for (const id of IDS) await res.create(id.slice(2), { instanceId: id });
    const first = await start('first');
    await first.waitForHttp(`${first.healthUrl}/readyz`, 200, 20_000);
    // Killed after it recorded its request (StopRequested), while ECS still shows the instances
    // Running: the restarted process must learn from the status, not from memory, that it asked.
    for (const id of IDS) await res.waitForReason(id.slice(2), 'Ready', 'False', 'StopRequested', 20_000);
    first.kill('SIGKILL');
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');
    for (const id of IDS) assert.equal(emu.instance(id)?.status, 'Stopping', `${id} should still be Stopping`);

    const second = await start('second');
    for (const id of IDS) {
      const o = await res.waitForReady(id.slice(2), 'Stopped', 30_000);
      assert.equal(cond(o, 'Stalled')?.status, 'False');
    }
    const writes = emu.calls.filter((c) => /^StopInstances?$/.test(c.action));
    const perInstance = IDS.map((id) => writes.filter((c) => Object.values(c.params).includes(id)).length);
    assert.deepEqual(perInstance, IDS.map(() => 1), `stop calls per instance after the restart: ${perInstance.join(',')}`);
    assert.ok(second.isRunning());
  });

  it('killed across a schedule transition: after the restart it converges to what the schedule says now, one write call per instance', async () => {
    const ids = ['i-rsched1', 'i-rsched2', 'i-rsched3'];
    for (const id of ids) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    const transition = Math.ceil((Date.now() + 6_000) / 1000) * 1000;
    await res.createOf('EcsPowerSchedule', 'until-soon', {
      timeZone: 'UTC',
      running: [{ from: '00:00', to: '00:00' }],
      exceptions: [{ from: new Date(transition).toISOString(), to: new Date(transition + 3_600_000).toISOString(), desiredState: 'Stopped' }],
    });
    for (const id of ids) await res.create(id.slice(2), { instanceId: id, scheduleRef: { name: 'until-soon' } });
    const before = procs[procs.length - 1]!;
    for (const id of ids) await res.waitForReady(id.slice(2), 'Running', 20_000);
    before.kill('SIGKILL');
    await before.exited;
    while (Date.now() < transition + 2_000) await sleep(100); // the transition passes while nobody runs
    await start('after-transition');
    for (const id of ids) await res.waitForReady(id.slice(2), 'Stopped', 30_000);
    const writes = emu.calls.filter((c) => /^StopInstances?$/.test(c.action) && c.code === 'OK');
    const perInstance = ids.map((id) => writes.filter((c) => Object.values(c.params).includes(id)).length);
    assert.deepEqual(perInstance, ids.map(() => 1), `stop calls per instance: ${perInstance.join(',')}`);
  });

  it('SIGTERM stops taking work, finishes in-flight reconciles and exits 0; probes answer before', async () => {
    const p = procs[procs.length - 1]!;
    assert.equal((await p.get(`${p.healthUrl}/healthz`)).status, 200);
    assert.equal((await p.get(`${p.healthUrl}/readyz`)).status, 200);
    const t0 = Date.now();
    p.kill('SIGTERM');
    const exit = await p.exited;
    assert.equal(exit.code, 0, p.tail(20));
    assert.ok(Date.now() - t0 < 10_000, 'shutdown took too long');
    assert.ok(p.logs().some((l) => l['msg'] === 'stopped' && l['drained'] === true), p.tail(10));
  });

  it('logs are structured JSON lines', () => {
    const p = procs[0]!;
    const lines = p.stderrLines.concat(p.stdoutLines).filter((l) => l.trim() !== '');
    assert.ok(lines.length > 0);
    for (const l of lines) {
      const o = JSON.parse(l) as Record<string, unknown>;
      assert.equal(typeof o['msg'], 'string');
      assert.ok(['debug', 'info', 'warn', 'error'].includes(o['level'] as string));
    }
  });
});
