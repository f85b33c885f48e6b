// Proves the test cluster harness: a real kube-apiserver + etcd with RBAC, reachable through
// kubectl and @kubernetes/client-node, whose data survives an API server restart, and a garbage
// collector (kube-controller-manager) that runs only when a test starts it.
import assert from 'node:assert/strict';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { ADMIN_USER, CONTROLLER_USER, startTestCluster, type TestCluster } from '../support/cluster.ts';

describe('test cluster harness', function () {
  this.timeout(180_000); // a cold machine may have to provision first
  let cluster: TestCluster | undefined;
  const ns = 'harness-test';

  before(async function () {
    // Its own cluster (not sharedCluster()) because it restarts the API server.
    cluster = await startTestCluster({ users: [{ name: 'viewer', groups: ['harness:viewers'] }] });
    const created = await cluster.kubectl(['create', 'namespace', ns]);
    assert.equal(created.code, 0, created.stderr);
  });

  after(async () => {
    await cluster?.stop();
  });

  const c = (): TestCluster => {
    assert.ok(cluster, 'cluster did not start');
    return cluster;
  };

  it('serves kubectl as admin', async () => {
    assert.match(c().server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await c().kubectl(['get', 'namespaces', '-o', 'name']);
    assert.equal(res.code, 0, res.stderr);
    const names = res.stdout.trim().split('\n');
    for (const n of ['namespace/default', 'namespace/kube-system', `namespace/${ns}`]) assert.ok(names.includes(n), res.stdout);
  });

  it('serves @kubernetes/client-node with kubeConfig()', async () => {
    const core = c().kubeConfig().makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    assert.ok(list.items.some((n) => n.metadata?.name === 'default'));
    const sa = c().kubeConfig(CONTROLLER_USER);
    assert.equal(sa.getCurrentUser()?.name, CONTROLLER_USER);
  });

  it('installs the project CRDs and they are Established', async () => {
    const res = await c().kubectl(['get', 'crd', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.equal(res.code, 0, res.stderr);
    // crds/ may still be empty while the project is being written; when it has a CRD it must be served.
    const crds = res.stdout.trim().split(/\s+/).filter(Boolean);
    for (const crd of crds) {
      const w = await c().kubectl(['wait', '--for', 'condition=established', `crd/${crd}`, '--timeout', '1s']);
      assert.equal(w.code, 0, w.stderr);
    }
  });

  it('enforces RBAC: a non-admin token user may not list secrets, until granted', async () => {
    const viewer = c().kubeConfig('viewer').makeApiClient(CoreV1Api);
    await assert.rejects(viewer.listNamespacedSecret({ namespace: ns }), (e: unknown) => {
      assert.ok(e instanceof ApiException, String(e));
      assert.equal(e.code, 403);
      return true;
    });
    const denied = await c().kubectl(['auth', 'can-i', 'list', 'secrets', '-n', ns], { user: 'viewer' });
    assert.equal(denied.stdout.trim(), 'no');

    const role = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: secret-reader, namespace: ${ns} }
rules: [{ apiGroups: [""], resources: [secrets], verbs: [list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: secret-reader, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "harness:viewers" }]
`;
    const applied = await c().kubectl(['apply', '-f', '-'], { input: role });
    assert.equal(applied.code, 0, applied.stderr);
    const secrets = await viewer.listNamespacedSecret({ namespace: ns });
    assert.ok(Array.isArray(secrets.items));
  });

  it('garbage-collects dependents only while startGarbageCollector() runs, and stops it by pid', async () => {
    const core = c().kubeConfig(ADMIN_USER).makeApiClient(CoreV1Api);
    const pair = async (suffix: string): Promise<void> => {
      const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `owner-${suffix}` } } });
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: `owner-${suffix}`, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `dependent-${suffix}`, ownerReferences: [ref] } } });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: `owner-${suffix}` });
    };
    const exists = async (name: string): Promise<boolean> =>
      core.readNamespacedConfigMap({ namespace: ns, name }).then(
        () => true,
        (e: unknown) => {
          if (e instanceof ApiException && e.code === 404) return false;
          throw e;
        },
      );

    // Without the collector an orphan stays: the API server alone does not cascade.
    await pair('without');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(await exists('dependent-without'), true);

    await c().startGarbageCollector();
    const deadline = Date.now() + 20_000;
    await pair('with');
    while ((await exists('dependent-with')) || (await exists('dependent-without'))) {
      assert.ok(Date.now() < deadline, 'the dependents were not collected within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const pids = await processPids('kube-controller-manager', c().dir);
    assert.equal(pids.length, 1, 'one kube-controller-manager');
    await c().stopGarbageCollector();
    assert.deepEqual(await processPids('kube-controller-manager', c().dir, pids), [], 'stopped');
  });

  it('keeps data across restartApiServer()', async () => {
    const core = c().kubeConfig(ADMIN_USER).makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'survivor' }, data: { answer: '42' } },
    });
    const pid = await apiServerPid(c());
    await c().restartApiServer();
    assert.notEqual(await apiServerPid(c()), pid, 'kube-apiserver was not restarted');
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name: 'survivor' });
    assert.equal(cm.data?.answer, '42');
  });
});

/** Pids of running processes of this binary whose arguments name a file in `dir` (among `among` if given), from /proc. */
async function processPids(binary: string, dir: string, among?: string[]): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: string[] = [];
  for (const pid of among ?? (await readdir('/proc'))) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    const zombie = /^State:\s+Z/m.test(status);
    if (!zombie && args[0]?.endsWith(binary) && args.some((a) => a.startsWith(dir))) out.push(pid);
  }
  return out;
}

/** The kube-apiserver pid listening on the cluster's port, read from /proc (Linux). */
async function apiServerPid(cluster: TestCluster): Promise<string> {
  const port = new URL(cluster.server).port;
  const { readdir, readFile } = await import('node:fs/promises');
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args.some((a) => a.endsWith('kube-apiserver')) && args.includes(port) && args[0] !== '/usr/bin/setpriv') return pid;
  }
  throw new Error('kube-apiserver process not found');
}
