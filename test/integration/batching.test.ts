import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources, cond, metricValue, startOperator, type RunningOperator } from '../support/operator-harness.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/api/types.ts';

const N = 300;

async function createMany(cluster: TestCluster, ns: string, n: number, spec: (i: number) => Record<string, unknown>): Promise<void> {
  const api = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
  const ids = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((j) =>
        api.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: ns,
          body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: `r${j}` }, spec: { regionId: 'cn-hangzhou', ...spec(j) } },
        }),
      ),
    );
  }
}

async function allReady(res: Resources, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = (await res.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: res.namespace })) as {
      items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
    };
    const ready = list.items.filter((o) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready === n) return;
    if (Date.now() > deadline) throw new Error(`${ready}/${n} Ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe(`batching with ${N} resources`, function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
  });

  for (const mode of ['batched', 'single'] as const) {
    describe(mode, () => {
      const ns = `it-batching-${mode}`;
      let emu: EcsEmulator;
      let op: RunningOperator;
      after(async () => {
        await op?.stop();
        await emu?.close();
        await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
      });

      it(`stops and starts ${N} instances ${mode === 'batched' ? 'in a handful of StopInstances/StartInstances calls' : 'with one call per instance (--max-batch-size 1)'}`, async () => {
        emu = await startEcsEmulator({ stopMs: 1_000, startMs: 500, quotas: { DescribeInstances: { perSecond: 50, burst: 50 } } });
        for (let i = 0; i < N; i++) {
          emu.addInstance({ instanceId: `i-b${i}`, regionId: 'cn-hangzhou', status: i % 3 === 0 ? 'Stopped' : 'Running' });
        }
        await cluster.kubectl(['create', 'namespace', ns]);
        // A third of them asks for force stop: a different option set, so a batch of its own.
        await createMany(cluster, ns, N, (i) => ({
          instanceId: `i-b${i}`,
          desiredState: i % 3 === 0 ? 'Running' : 'Stopped',
          ...(i % 3 === 1 ? { forceStop: true } : {}),
        }));
        op = await startOperator(cluster, emu, {
          namespace: ns,
          // More workers than resources: one wave of reconciles, so batch sizes do not depend on
          // when workers free up (with 200 workers a second, ragged wave made extra small batches).
          maxConcurrentReconciles: 400,
          maxBatchSize: mode === 'batched' ? 100 : 1,
          batchWindowMs: 300,
          pollIntervalMs: 500,
          ecsQps: 50,
          ecsBurst: 50,
        });
        const res = new Resources(cluster.kubeConfig(), ns);
        await allReady(res, N, 120_000);

        const by = (a: string): number => emu.calls.filter((c) => c.action === a && c.code === 'OK').length;
        const writes = by('StopInstances') + by('StartInstances') + by('StopInstance') + by('StartInstance');
        if (mode === 'batched') {
          // 100 force stops, 100 graceful stops, 100 starts: ideally 3 calls, a few more when a batch window closes early.
          assert.ok(writes <= 12, `write calls: ${writes}`);
          assert.ok(writes / N < 0.05, `write calls per resource ${writes / N}`);
          assert.ok(by('StopInstances') >= 2 && by('StartInstances') >= 1);
          const batchSizes = emu.calls.filter((c) => c.action === 'StopInstances').map((c) => Object.keys(c.params).filter((k) => k.startsWith('InstanceId.')).length);
          assert.ok(Math.max(...batchSizes) >= 50, `largest batch ${Math.max(...batchSizes)}`);
          // Each batch groups one option set only.
          for (const c of emu.calls.filter((x) => x.action === 'StopInstances')) {
            const ids = Object.entries(c.params).filter(([k]) => k.startsWith('InstanceId.')).map(([, v]) => Number(v.slice(3)));
            const force = c.params['ForceStop'] === 'true';
            assert.ok(ids.every((i) => (i % 3 === 1) === force), 'a batch mixed stop options');
            assert.equal(c.params['BatchOptimization'], 'SuccessFirst');
          }
          assert.ok(by('DescribeInstances') < N / 4, `describe calls ${by('DescribeInstances')}`);
        } else {
          assert.equal(by('StopInstances') + by('StartInstances'), 0);
          assert.equal(by('StopInstance') + by('StartInstance'), N);
          const describeSizes = emu.calls.filter((c) => c.action === 'DescribeInstances').map((c) => (JSON.parse(c.params['InstanceIds'] ?? '[]') as unknown[]).length);
          assert.equal(Math.max(...describeSizes), 1);
        }
        for (let i = 0; i < N; i++) {
          assert.equal(emu.instance(`i-b${i}`)?.status, i % 3 === 0 ? 'Running' : 'Stopped', `i-b${i}`);
        }
        const sample = await res.get('r1');
        assert.equal(cond(sample, 'Ready')?.reason, 'Stopped');
        assert.ok(sample.status?.lastRequestId, 'per-instance answer maps the batch RequestId');
        const text = await op.metricsText();
        assert.equal(metricValue(text, 'ecspower_status_writes_total', { result: 'error' }) ?? 0, 0, op.logs.filter((l) => l.includes('status write failed')).slice(0, 5).join('\n'));
      });
    });
  }

  describe('dry runs', () => {
    const ns = 'it-batching-dry-runs';
    let emu: EcsEmulator;
    let op: RunningOperator;
    after(async () => {
      await op?.stop();
      await emu?.close();
      await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
    });

    // Regression: dry runs were batched, and ECS answers a batched dry run as a whole with one
    // instance's error, so every valid dry run of the batch showed OperationNotSupported.
    it('11 valid dry runs and one invalid, created together: each gets its own verdict', async () => {
      emu = await startEcsEmulator({ stopMs: 1_000 });
      for (let i = 0; i < 12; i++) emu.addInstance({ instanceId: `i-dry${i}`, regionId: 'cn-hangzhou', ...(i === 11 ? { networkType: 'classic' as const } : {}) });
      await cluster.kubectl(['create', 'namespace', ns]);
      await createMany(cluster, ns, 12, (i) => ({ instanceId: `i-dry${i}`, desiredState: 'Stopped', stoppedMode: 'StopCharging', dryRun: true }));
      op = await startOperator(cluster, emu, { namespace: ns, batchWindowMs: 300 });
      const res = new Resources(cluster.kubeConfig(), ns);
      for (let i = 0; i < 11; i++) await res.waitForReady(`r${i}`, 'DryRunSucceeded', 20_000);
      const invalid = await res.waitForReason('r11', 'Stalled', 'True', 'OperationNotSupported', 20_000);
      assert.match(cond(invalid, 'Ready')?.message ?? '', /^InvalidInstanceId\.NotSupport: /);
      for (let i = 0; i < 12; i++) assert.equal(emu.instance(`i-dry${i}`)?.status, 'Running', 'a dry run changed an instance');
      assert.equal(emu.calls.filter((c) => c.action === 'StopInstances').length, 0, 'a dry run was batched');
    });
  });
});
