import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources, metricValue, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';

const NS = 'it-sharding';

describe('--selector shards one namespace between controllers', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let a: RunningOperator;
  let b: RunningOperator;
  let res: Resources;

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    emu = await startEcsEmulator({ stopMs: 200 });
    a = await startOperator(cluster, emu, { namespace: NS, selector: 'shard=a' });
    b = await startOperator(cluster, emu, { namespace: NS, selector: 'shard in (b)' });
    res = new Resources(cluster.kubeConfig(), NS);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it('each controller reconciles only the resources its selector matches', async () => {
    for (const s of ['a', 'b', 'c']) {
      emu.addInstance({ instanceId: `i-shard${s}`, regionId: 'cn-hangzhou' });
      await res.create(`shard-${s}`, { instanceId: `i-shard${s}` }, { shard: s });
    }
    await res.waitForReady('shard-a', 'Stopped');
    await res.waitForReady('shard-b', 'Stopped');
    await sleep(1_500);
    const c = await res.get('shard-c');
    assert.equal(c.status, undefined, 'a resource outside every shard was touched');
    assert.equal(emu.instance('i-shardc')?.status, 'Running');
    const countOf = async (op: RunningOperator): Promise<number> =>
      metricValue(await op.metricsText(), 'ecspower_resources', { desired_state: 'Stopped' }) ?? 0;
    assert.equal(await countOf(a), 1);
    assert.equal(await countOf(b), 1);
  });
});
