/**
 * Resident memory of an idle controller process (`node dist/main.js`, leading, nothing to
 * reconcile), with and without the NODE_OPTIONS that deploy/deployment.yaml ships.
 *
 * Most of an idle controller's memory is code: the node binary's mapped pages (~50 MiB) and the
 * V8 heap holding the source and functions of every module loaded. Measured on Node 24
 * (`npm run measure -- --skip-demo --skip-bulk`), before the ECS SDK's model classes were
 * slimmed: 159 MiB with the shipped NODE_OPTIONS, 157-185 without; since: 129-134 with them,
 * 137-155 without. With them (as the container runs) the limit sits between the two, so that
 * loading the whole SDK again, or anything of that size, fails here. Without them the young
 * generation V8 grows during start-up decides ±20 MiB, so that limit only catches larger
 * regressions. RSS is read once a second after start-up has settled (ready and leading) and
 * the smallest reading counts, so that a GC in flight or a loaded machine does not decide.
 */
import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator } from '../support/ecs-emulator/types.ts';
import { shippedNodeOptions } from '../support/manifests.ts';
import { sleep } from '../support/operator-harness.ts';
import { heapFromMetrics, procSample, startControllerProcess, type ControllerProcess } from '../support/process.ts';

const NS = 'it-idle-memory';
const SAMPLES = 5;

const VARIANTS = [
  { name: 'without NODE_OPTIONS', nodeOptions: '', limitMiB: 175 },
  { name: 'with the shipped NODE_OPTIONS', nodeOptions: shippedNodeOptions(), limitMiB: 145 },
];

describe('an idle controller process: resident memory', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  const procs: ControllerProcess[] = [];

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    emu = await startEcsEmulator({});
  });

  after(async () => {
    for (const p of procs) await p.stop(2_000);
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it(`stays under ${VARIANTS.map((v) => `${v.limitMiB} MiB ${v.name}`).join(' and ')}`, async () => {
    const measured = await Promise.all(
      VARIANTS.map(async (variant, i) => {
        const c = await startControllerProcess({
          name: `idle-${i}`,
          args: [
            '--kubeconfig', cluster.kubeconfigPath,
            '--namespace', NS,
            '--leader-elect',
            '--leader-election-namespace', NS,
            '--leader-election-id', `idle-memory-${i}`,
            '--ecs-endpoint', emu.url,
          ],
          env: variant.nodeOptions ? { NODE_OPTIONS: variant.nodeOptions } : {},
        });
        procs.push(c);
        await c.waitForHttp(`${c.healthUrl}/readyz`, 200, 60_000);
        await c.waitForLog(/"msg":"became leader"/, 60_000);
        const rssMiB: number[] = [];
        for (let s = 0; s < SAMPLES; s++) {
          await sleep(1_000);
          rssMiB.push(procSample(c.pid).rssKiB / 1024);
        }
        const heap = await heapFromMetrics(c);
        return { ...variant, rssMiB: Math.min(...rssMiB), heap };
      }),
    );
    const report = measured
      .map((m) => `${m.name}: RSS ${m.rssMiB.toFixed(0)} MiB (limit ${m.limitMiB}), V8 heap used ${m.heap.usedMiB.toFixed(0)} of ${m.heap.totalMiB.toFixed(0)} MiB`)
      .join('; ');
    for (const m of measured) assert.ok(m.rssMiB < m.limitMiB, report);
  });
});
