// `npm run demo -- --exit-when-ready`, as a user runs it: a child process that starts its own API
// server, ECS emulator and controller, applies deploy/examples/ and exits 0 once all are Ready.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { NODE_BIN, REPO_ROOT, startControllerProcess, type ControllerProcess } from '../support/process.ts';

interface ExampleObject {
  kind: string;
  metadata: { name: string };
  spec?: { instanceId: string; desiredState: string; dryRun?: boolean };
}

function examples(): ExampleObject[] {
  const dir = join(REPO_ROOT, 'deploy/examples');
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as ExampleObject))
    .filter((o) => o?.kind === 'EcsInstancePower');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('e2e: npm run demo', function () {
  this.timeout(120_000);
  let demo: ControllerProcess | undefined;

  afterEach(async () => {
    await demo?.stop(15_000);
  });

  it('--exit-when-ready: starts everything, shows every example converging in a live table, and exits 0 when all are Ready', async function () {
    this.timeout(600_000); // a cold machine provisions kube-apiserver first (about 5 minutes)
    demo = await startControllerProcess({
      name: 'demo',
      command: [NODE_BIN, '--import', 'tsx', join(REPO_ROOT, 'scripts/demo.ts')],
      args: ['--exit-when-ready', '--timeout', '90s'],
      defaultCredentials: false,
    });
    const exit = await demo.exited;
    const out = demo.stdoutLines.join('\n');
    assert.deepEqual(exit, { code: 0, signal: null }, `demo output:\n${demo.tail(60)}`);

    // the steps, and how to use kubectl with it
    for (const step of ['[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]']) assert.ok(out.includes(step), `missing ${step}:\n${out}`);
    assert.match(out, /^ {2}export KUBECONFIG=\/\S+$/m);
    assert.match(out, /get ecspower -A$/m);

    // The last table drawn: a row per example, each Ready=True with the reason its spec implies.
    const headerAt = demo.stdoutLines.findLastIndex((l) => /^NAME\s+INSTANCE\s+DESIRED\s+ECS STATUS\s+READY\s+REASON\s+AGE$/.test(l));
    assert.ok(headerAt >= 0, `no table in the output:\n${out}`);
    const rows = demo.stdoutLines.slice(headerAt + 1).filter((l) => l.startsWith('default/'));
    const powers = examples();
    assert.equal(powers.length, 7);
    // The examples, and the calendar scene's fleet (fleet-1..4 on a schedule flipping every minute).
    assert.equal(rows.length, powers.length + 4, rows.join('\n'));
    for (const p of [...powers.map((x) => ({ name: x.metadata.name, instanceId: x.spec!.instanceId, dryRun: x.spec!.dryRun })), ...[1, 2, 3, 4].map((n) => ({ name: `fleet-${n}`, instanceId: `i-fleet00000${n}`, dryRun: undefined }))]) {
      const row = rows.find((r) => r.startsWith(`default/${p.name} `));
      assert.ok(row, `no row for ${p.name}:\n${rows.join('\n')}`);
      const cells = row.split(/\s{3,}/);
      // DESIRED is the effective state (with its schedule or override, if any)
      const desired = cells[2]!.split(' ')[0]!;
      assert.ok(desired === 'Stopped' || desired === 'Running', row);
      assert.equal(cells[1], p.instanceId, row);
      assert.equal(cells[4], 'True', row);
      assert.equal(cells[5], p.dryRun ? 'DryRunSucceeded' : desired, row);
      // ECS STATUS: the desired state reached, or (dry run) left as it was
      assert.equal(cells[3], p.dryRun ? 'Running' : desired, row);
      if (p.name.startsWith('fleet-')) assert.match(cells[2]!, /\((schedule demo-minutes|override wake-fleet)\)$/, row);
    }
    assert.match(out, /^All 11 resources Ready/m);
    assert.match(out, /^ECS calls: .*StopInstance \d+ \(1 DryRunOperation\)/m);
    assert.match(out, /StartInstances? \d+/);
  });

  it('--exit-when-ready exits 1, naming what is not Ready, when the timeout passes first', async function () {
    this.timeout(600_000);
    demo = await startControllerProcess({
      name: 'demo',
      command: [NODE_BIN, '--import', 'tsx', join(REPO_ROOT, 'scripts/demo.ts')],
      args: ['--exit-when-ready', '--timeout', '1s'], // graceful stops take 3 s in the demo's emulator
      defaultCredentials: false,
    });
    const exit = await demo.exited;
    assert.deepEqual(exit, { code: 1, signal: null }, demo.tail());
    const out = demo.stdoutLines.join('\n');
    assert.match(out, /^demo: not every resource became Ready within 1s:$/m);
    assert.match(out, /^ {2}default\/dev-box-stopped: Ready=/m);
  });

  it('without --exit-when-ready it keeps running; Ctrl-C (SIGINT) stops everything it started and exits 0', async function () {
    this.timeout(600_000);
    demo = await startControllerProcess({
      name: 'demo',
      command: [NODE_BIN, '--import', 'tsx', join(REPO_ROOT, 'scripts/demo.ts')],
      args: [],
      defaultCredentials: false,
    });
    await demo.waitForLog(/^All 11 resources Ready/, 500_000);
    const kubeconfig = /^ {2}export KUBECONFIG=(\S+)$/m.exec(demo.stdoutLines.join('\n'))?.[1];
    assert.ok(kubeconfig, demo.tail());
    const clusterDir = dirname(kubeconfig);
    const clusterProcesses = (): string[] =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .flatMap((p) => {
          try {
            const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
            return cmd.some((a) => a.startsWith(clusterDir + '/')) ? [`${p}: ${cmd.join(' ')}`] : [];
          } catch {
            return [];
          }
        });
    assert.equal(clusterProcesses().length, 2, 'etcd and kube-apiserver of the demo run'); // sanity: the check sees them
    await sleep(1_000);
    assert.equal(demo.isRunning(), true, 'the demo exited by itself');

    demo.kill('SIGINT');
    const exit = await Promise.race([demo.exited, sleep(30_000).then(() => undefined)]);
    assert.deepEqual(exit, { code: 0, signal: null }, demo.tail());
    assert.match(demo.stdoutLines.join('\n'), /SIGINT: stopping the controller, the ECS emulator and the API server/);
    assert.deepEqual(clusterProcesses(), [], 'processes of the demo survived it');
    assert.equal(existsSync(clusterDir), false, `${clusterDir} left behind`);
  });
});
