// Where the controller finds its cluster: --kubeconfig, else client-node's default loading,
// where $KUBECONFIG may list several files (merged, as kubectl does).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startControllerProcess } from '../support/process.ts';

describe('kubeconfig loading', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let dir = '';

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    dir = await mkdtemp(join(tmpdir(), 'ecs-power-kubeconfig-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Regression: $KUBECONFIG was handed to loadFromFile, which fails on "a:b".
  it('$KUBECONFIG with several files: merged, the current context of the first one that sets it is used', async () => {
    const other = join(dir, 'other.yaml');
    await writeFile(other, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    const controller = await startControllerProcess({
      name: 'kubeconfig-list',
      env: { KUBECONFIG: `${cluster.kubeconfigPath}:${other}` },
      args: ['--namespace', 'it-kubeconfig-none', '--ecs-endpoint', 'http://127.0.0.1:9'],
    });
    try {
      await controller.waitForLog(/"msg":"cache synced"/, 30_000);
      await controller.waitForHttp(`${controller.healthUrl}/readyz`, 200, 10_000);
    } finally {
      await controller.stop(5_000);
    }
  });

  it('no kubeconfig at all and not in a pod: exit 2 with one line', async () => {
    const controller = await startControllerProcess({
      name: 'kubeconfig-none',
      env: { HOME: dir, KUBECONFIG: '' },
      args: ['--ecs-endpoint', 'http://127.0.0.1:9'],
    });
    const exit = await controller.exited;
    assert.equal(exit.code, 2, controller.tail());
    const lines = controller.stderrLines.filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^ecs-power: cannot load kubeconfig: /);
  });
});
