// Installing the operator end to end on a real API server (Kubernetes 1.20), the two ways users do:
//
// 1. The Helm chart with the real helm binary: `helm install` into a namespace of its own, the
//    controller converging with the chart's RBAC only, `helm upgrade` rolling a change out,
//    `helm uninstall` removing the controller while the CRD and the resources stay.
// 2. Then the kustomize base moved by an overlay to a namespace of the test's choosing (plus the
//    kubernetes-1.20, networkpolicy and grafana-dashboard components), `kubectl apply -k` over
//    the CRD Helm kept: the controller converges with the moved bindings.
// 3. The roles for users, as the API server's authorizer sees them (SubjectAccessReview).
//
// There is no kubelet, so no pod runs: each time the controller runs as a local child process
// with a real token of the installed ServiceAccount and the installed Deployment's args and
// downward-API env (install-support.ts), so the Lease must land in the install namespace.
// One cluster for all three (a cluster start is the slowest step); the steps run in order.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources } from '../support/operator-harness.ts';
import type { ControllerProcess } from '../support/process.ts';
import { HelmCli, startInstalledController } from './install-support.ts';
import { DeployOverlay, eventually } from './support.ts';

const RELEASE = 'ecs-power';
const HELM_NS = 'ecs-power-helm';
const OVERLAY_NS = 'team-platform';
const WORK_NS = 'install-e2e';
const CRD = 'customresourcedefinition/ecsinstancepowers.ecspower.io';
const INSTANCES = ['i-inst000001', 'i-inst000002', 'i-inst000003'];

describe('e2e: install with Helm, then with a relocated kustomize overlay', function () {
  this.timeout(60_000);

  let cluster: TestCluster;
  let helm: HelmCli;
  let emu: EcsEmulator;
  let res: Resources;
  let dir: string;
  let controller: ControllerProcess | undefined;

  const kubectlJson = async (args: string[]): Promise<Record<string, unknown>> => {
    const r = await cluster.kubectl([...args, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  /** `kubectl get` of several objects at once: the names that exist. */
  const existing = async (namespace: string | undefined, resources: string, ...more: string[]): Promise<string[]> => {
    const r = await cluster.kubectl(['get', resources, ...more, ...(namespace ? ['-n', namespace] : []), '--ignore-not-found', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  const converge = async (name: string, instanceId: string): Promise<void> => {
    await res.create(name, { instanceId });
    await res.waitForReady(name, 'Stopped', 30_000).catch((err: Error) => assert.fail(`${err.message}\n${controller?.tail(30)}`));
  };
  const leaseNamespace = (): unknown => controller?.logs().find((l) => l['msg'] === 'became leader')?.['lease'];

  before(async function () {
    this.timeout(240_000);
    dir = await mkdtemp(join(tmpdir(), 'ecs-power-install-e2e-'));
    cluster = await startTestCluster({ installCrds: false });
    helm = await HelmCli.create(cluster);
    emu = await startEcsEmulator({ stopMs: 300, startMs: 300 });
    for (const id of INSTANCES) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
  });

  after(async function () {
    this.timeout(30_000);
    await controller?.stop();
    await emu?.close();
    await helm?.remove();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('Helm', () => {
    it('helm install: the chart installs on Kubernetes 1.20, with the PodDisruptionBudget as policy/v1beta1', async () => {
      const out = await helm.run(['install', RELEASE, helm.chart, '--namespace', HELM_NS, '--create-namespace', '--set', 'networkPolicy.enabled=true', '--set', 'grafanaDashboard.enabled=true']);
      assert.match(out, /STATUS: deployed/);
      const established = await cluster.kubectl(['wait', '--for=condition=established', '--timeout=30s', CRD]);
      assert.equal(established.code, 0, established.stderr);
      assert.deepEqual((await existing(HELM_NS, 'deployment,serviceaccount,role,rolebinding,service,networkpolicy,configmap,poddisruptionbudgets.v1beta1.policy')).sort(), [
        'configmap/ecs-power-dashboard',
        'deployment.apps/ecs-power-controller',
        'networkpolicy.networking.k8s.io/ecs-power-controller',
        'poddisruptionbudget.policy/ecs-power-controller', // the 1.20 API server serves no policy/v1: the chart asked and chose v1beta1
        'role.rbac.authorization.k8s.io/ecs-power-leader-election',
        'rolebinding.rbac.authorization.k8s.io/ecs-power-leader-election',
        'service/ecs-power-controller-metrics',
        'serviceaccount/ecs-power-controller',
      ]);
      assert.deepEqual((await existing(undefined, 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=ecs-power')).sort(), [
        'clusterrole.rbac.authorization.k8s.io/ecs-power-controller',
        'clusterrole.rbac.authorization.k8s.io/ecs-power-edit',
        'clusterrole.rbac.authorization.k8s.io/ecs-power-override-creator',
        'clusterrole.rbac.authorization.k8s.io/ecs-power-view',
        'clusterrolebinding.rbac.authorization.k8s.io/ecs-power-controller',
      ]);
    });

    it("the controller converges as the chart's ServiceAccount, with the Deployment's flags and env; the Lease is in the release namespace", async () => {
      assert.equal((await cluster.kubectl(['create', 'namespace', WORK_NS])).code, 0);
      res = new Resources(cluster.kubeConfig(), WORK_NS);
      controller = await startInstalledController(cluster, HELM_NS, emu.url, dir);
      await converge('first', INSTANCES[0]!);
      assert.equal(leaseNamespace(), `${HELM_NS}/ecs-power-controller`);
      assert.ok((await res.events('first')).length > 0, 'Events recorded with the chart RBAC');
    });

    it('helm upgrade: new values roll out and the controller, restarted with them, keeps converging', async () => {
      const out = await helm.run(['upgrade', RELEASE, helm.chart, '--namespace', HELM_NS, '--reuse-values', '--set', 'replicaCount=3', '--set', 'extraArgs[0]=--resync-period=30m']);
      assert.match(out, /REVISION: 2/);
      const spec = (await kubectlJson(['get', 'deployment', 'ecs-power-controller', '-n', HELM_NS]))['spec'] as { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
      assert.equal(spec.replicas, 3);
      assert.ok(spec.template.spec.containers[0]!.args.includes('--resync-period=30m'));
      assert.deepEqual(await existing(HELM_NS, 'networkpolicy'), ['networkpolicy.networking.k8s.io/ecs-power-controller'], '--reuse-values kept the NetworkPolicy');
      await controller?.stop();
      controller = await startInstalledController(cluster, HELM_NS, emu.url, dir);
      await converge('second', INSTANCES[1]!);
    });

    it('helm uninstall: the controller objects go; the CRD and every resource stay', async () => {
      await controller?.stop();
      controller = undefined;
      const out = await helm.run(['uninstall', RELEASE, '--namespace', HELM_NS]);
      assert.match(out, /uninstalled/);
      await eventually('the release objects deleted', async () => (await existing(HELM_NS, 'deployment,serviceaccount,role')).length === 0 && (await existing(undefined, 'clusterroles', '-l', 'app.kubernetes.io/instance=ecs-power')).length === 0, 20_000);
      const crd = await kubectlJson(['get', CRD]);
      assert.equal((crd['metadata'] as { annotations: Record<string, string> }).annotations['helm.sh/resource-policy'], 'keep');
      assert.deepEqual((await Promise.all(['first', 'second'].map((n) => res.get(n)))).map((o) => o.metadata.name), ['first', 'second']);
    });
  });

  describe('kustomize overlay in another namespace', () => {
    let overlay: DeployOverlay;
    after(async () => {
      await overlay?.remove();
    });

    it('kubectl apply -k installs everything in the chosen namespace, nothing in ecs-power-system', async () => {
      overlay = await DeployOverlay.create({ namespace: OVERLAY_NS, components: ['networkpolicy', 'grafana-dashboard'] });
      await overlay.apply(cluster);
      assert.deepEqual((await existing(OVERLAY_NS, 'deployment,serviceaccount,role,rolebinding,networkpolicy,configmap')).sort(), [
        'configmap/ecs-power-dashboard',
        'deployment.apps/ecs-power-controller',
        'networkpolicy.networking.k8s.io/ecs-power-controller',
        'role.rbac.authorization.k8s.io/ecs-power-leader-election',
        'rolebinding.rbac.authorization.k8s.io/ecs-power-leader-election',
        'serviceaccount/ecs-power-controller',
      ]);
      assert.deepEqual(await existing(undefined, 'namespace/ecs-power-system'), []);
    });

    it("the controller converges as that namespace's ServiceAccount; the Lease is in that namespace", async () => {
      controller = await startInstalledController(cluster, OVERLAY_NS, emu.url, dir);
      await converge('third', INSTANCES[2]!);
      assert.equal(leaseNamespace(), `${OVERLAY_NS}/ecs-power-controller`);
      const lease = await cluster.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: OVERLAY_NS, name: 'ecs-power-controller' });
      assert.ok(lease.spec?.holderIdentity);
    });
  });

  describe('roles for users, as the authorizer sees them', () => {
    // alice may only wake instances up (overrides); bob views; carol edits. Bound in team-a.
    before(async () => {
      assert.equal((await cluster.kubectl(['create', 'namespace', 'team-a'])).code, 0);
      for (const [user, role] of [['alice', 'ecs-power-override-creator'], ['bob', 'ecs-power-view'], ['carol', 'ecs-power-edit']] as const) {
        const r = await cluster.kubectl(['create', 'rolebinding', `${user}-${role}`, '-n', 'team-a', `--clusterrole=${role}`, `--user=${user}`]);
        assert.equal(r.code, 0, r.stderr);
      }
    });
    const rows: { user: string; verb: string; resource: string; allowed: boolean }[] = [
      { user: 'alice', verb: 'create', resource: 'ecspoweroverrides.ecspower.io', allowed: true },
      { user: 'alice', verb: 'list', resource: 'ecspoweroverrides.ecspower.io', allowed: true },
      { user: 'alice', verb: 'delete', resource: 'ecspoweroverrides.ecspower.io', allowed: true },
      { user: 'alice', verb: 'update', resource: 'ecspoweroverrides.ecspower.io', allowed: false },
      { user: 'alice', verb: 'get', resource: 'ecspoweroverrides.ecspower.io', allowed: false },
      { user: 'alice', verb: 'create', resource: 'ecsinstancepowers.ecspower.io', allowed: false },
      { user: 'alice', verb: 'patch', resource: 'ecspowerschedules.ecspower.io', allowed: false },
      { user: 'bob', verb: 'get', resource: 'ecsinstancepowers.ecspower.io', allowed: true },
      { user: 'bob', verb: 'watch', resource: 'ecsinstancepowersets.ecspower.io', allowed: true },
      { user: 'bob', verb: 'patch', resource: 'ecsinstancepowers.ecspower.io', allowed: false },
      { user: 'carol', verb: 'create', resource: 'ecsinstancepowers.ecspower.io', allowed: true },
      { user: 'carol', verb: 'delete', resource: 'ecspowerschedules.ecspower.io', allowed: true },
      { user: 'carol', verb: 'patch', resource: 'ecsinstancepowers.ecspower.io/status', allowed: false },
      { user: 'carol', verb: 'get', resource: 'secrets', allowed: false },
    ];
    it('each role grants exactly its verbs', async () => {
      // SubjectAccessReview, not `kubectl auth can-i`: kinds whose CRDs are not installed yet
      // (schedules, overrides, sets) are not in discovery, which can-i needs.
      const authz = cluster.kubeConfig().makeApiClient(AuthorizationV1Api);
      const answers = await Promise.all(
        rows.map(async (row) => {
          const [qualified, subresource] = row.resource.split('/');
          const [resource, ...group] = qualified!.split('.');
          const review = await authz.createSubjectAccessReview({
            body: { spec: { user: row.user, resourceAttributes: { namespace: 'team-a', verb: row.verb, group: group.join('.'), resource, subresource } } },
          });
          return `${row.user} ${row.verb} ${row.resource}: ${review.status?.allowed ? 'yes' : 'no'}`;
        }),
      );
      assert.deepEqual(answers, rows.map((row) => `${row.user} ${row.verb} ${row.resource}: ${row.allowed ? 'yes' : 'no'}`));
    });
  });
});
