// The kustomize install beyond its defaults (`kubectl kustomize`, offline): the base moved to
// another namespace by an overlay, the GitOps annotations of every CRD, the roles for users, and
// the networkpolicy and grafana-dashboard components.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/process.ts';
import { CLUSTER_SCOPED, DEPLOY_DIR, findOne, getPath, kustomize, renderOverlay, type K8sObject } from '../support/manifests.ts';

const CRDS_DIR = join(REPO_ROOT, 'crds');
const crdFiles = readdirSync(CRDS_DIR).filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f));
const ALL_COMPONENTS = ['prometheus', 'grafana-dashboard', 'networkpolicy', 'rrsa'];
const USER_KINDS = ['ecsinstancepowers', 'ecspowerschedules', 'ecspoweroverrides', 'ecsinstancepowersets'];

describe('crds/: GitOps tools never prune or delete a CRD', () => {
  for (const f of crdFiles) {
    it(`${f} carries the Argo CD and Flux no-prune annotations`, () => {
      const crd = parse(readFileSync(join(CRDS_DIR, f), 'utf8')) as K8sObject;
      assert.equal(crd.kind, 'CustomResourceDefinition');
      assert.equal(crd.metadata.annotations?.['argocd.argoproj.io/sync-options'], 'Prune=false,Delete=false');
      assert.equal(crd.metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune'], 'disabled');
    });
  }
  it('crds/kustomization.yaml lists every CRD file', () => {
    const k = parse(readFileSync(join(CRDS_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    assert.deepEqual([...k.resources].sort(), [...crdFiles].sort());
  });
});

describe('deploy/ moved by an overlay to another namespace', function () {
  const ns = 'platform-ecs-power';
  let objs: K8sObject[] = [];
  before(() => {
    objs = renderOverlay({ namespace: ns, components: ALL_COMPONENTS });
  });

  it('moves every namespaced object and renames the Namespace', () => {
    assert.equal(findOne(objs, 'Namespace').metadata.name, ns);
    for (const o of objs) {
      if (CLUSTER_SCOPED.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name}`);
      else assert.equal(o.metadata.namespace, ns, `${o.kind} ${o.metadata.name}`);
    }
  });

  it('binds the roles to the ServiceAccount in the new namespace', () => {
    for (const b of objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      assert.deepEqual(b['subjects'], [{ kind: 'ServiceAccount', name: 'ecs-power-controller', namespace: ns }], `${b.kind} ${b.metadata.name}`);
    }
  });

  it('leaves the Lease to the pod namespace (downward API), the ServiceMonitor to its own namespace', () => {
    const c = (getPath(findOne(objs, 'Deployment'), 'spec.template.spec.containers') as Record<string, unknown>[])[0]!;
    assert.ok(!(c['args'] as string[]).some((a) => a.startsWith('--leader-election-namespace')));
    assert.ok((c['env'] as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } })));
    assert.equal(getPath(findOne(objs, 'ServiceMonitor'), 'spec.namespaceSelector'), undefined);
  });

  it('names ecs-power-system nowhere', () => {
    const left = objs.filter((o) => JSON.stringify(o).includes('ecs-power-system')).map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(left, []);
  });
});

describe('deploy/user-rbac.yaml: roles for users', () => {
  let objs: K8sObject[] = [];
  before(() => {
    objs = kustomize(DEPLOY_DIR);
  });
  const rules = (name: string) => findOne(objs, 'ClusterRole', name)['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[];

  it('ecs-power-view: read-only on every ecspower.io kind and its status, aggregated into view', () => {
    const role = findOne(objs, 'ClusterRole', 'ecs-power-view');
    assert.equal(role.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    assert.deepEqual(rules('ecs-power-view'), [{ apiGroups: ['ecspower.io'], resources: USER_KINDS.flatMap((k) => [k, `${k}/status`]), verbs: ['get', 'list', 'watch'] }]);
  });

  it('ecs-power-edit: full edit of every ecspower.io kind but never its status, aggregated into edit and admin', () => {
    const role = findOne(objs, 'ClusterRole', 'ecs-power-edit');
    assert.equal(role.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    assert.equal(role.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    assert.deepEqual(rules('ecs-power-edit'), [{ apiGroups: ['ecspower.io'], resources: USER_KINDS, verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] }]);
  });

  it('ecs-power-override-creator: only create, list and delete EcsPowerOverrides, aggregated nowhere', () => {
    const role = findOne(objs, 'ClusterRole', 'ecs-power-override-creator');
    assert.ok(!Object.keys(role.metadata.labels ?? {}).some((l) => l.startsWith('rbac.authorization.k8s.io/aggregate-to')));
    assert.deepEqual(rules('ecs-power-override-creator'), [{ apiGroups: ['ecspower.io'], resources: ['ecspoweroverrides'], verbs: ['create', 'list', 'delete'] }]);
  });
});

describe('deploy/components/networkpolicy', () => {
  let objs: K8sObject[] = [];
  before(() => {
    objs = renderOverlay({ components: ['networkpolicy'] });
  });

  it('selects the controller pods, admits the metrics and health ports', () => {
    const np = findOne(objs, 'NetworkPolicy', 'ecs-power-controller');
    const d = findOne(objs, 'Deployment');
    assert.equal(np.metadata.namespace, 'ecs-power-system');
    assert.deepEqual(getPath(np, 'spec.podSelector.matchLabels'), getPath(d, 'spec.selector.matchLabels'));
    assert.deepEqual(getPath(np, 'spec.policyTypes'), ['Ingress', 'Egress']);
    const containerPorts = (getPath(d, 'spec.template.spec.containers.0.ports') as { name: string }[]).map((p) => p.name);
    const ingressPorts = (getPath(np, 'spec.ingress.0.ports') as { port: string }[]).map((p) => p.port);
    assert.deepEqual(ingressPorts, ['metrics', 'health']);
    for (const p of ingressPorts) assert.ok(containerPorts.includes(p), `container port ${p}`);
  });

  it('lets out DNS, the API server and ECS/STS on 443 and 6443, and the ECS metadata service only', () => {
    const np = findOne(objs, 'NetworkPolicy');
    assert.deepEqual(getPath(np, 'spec.egress'), [
      { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
      { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] },
      { to: [{ ipBlock: { cidr: '100.100.100.200/32' } }], ports: [{ port: 80, protocol: 'TCP' }] },
    ]);
  });
});

describe('deploy/components/grafana-dashboard', () => {
  it('is the dashboard JSON of deploy/grafana/, one source, in a ConfigMap for the Grafana sidecar', () => {
    const objs = renderOverlay({ components: ['grafana-dashboard'] });
    const cm = findOne(objs, 'ConfigMap', 'ecs-power-dashboard');
    assert.equal(cm.metadata.namespace, 'ecs-power-system');
    assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
    const files = readdirSync(join(DEPLOY_DIR, 'grafana')).filter((f) => f.endsWith('.json'));
    assert.deepEqual(Object.keys(cm['data'] as object).sort(), files.sort());
    for (const f of files) assert.equal((cm['data'] as Record<string, string>)[f], readFileSync(join(DEPLOY_DIR, 'grafana', f), 'utf8'), f);
    assert.ok(Buffer.byteLength(JSON.stringify(cm)) < 256 * 1024, 'fits kubectl apply\'s last-applied annotation');
  });
});
