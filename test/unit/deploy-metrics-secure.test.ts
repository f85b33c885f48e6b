// deploy/components/metrics-secure, rendered with kustomize as a user's overlay would: it adds the
// flag, exactly the review permissions the filter needs, a reader role, and (after the prometheus
// component) an HTTPS ServiceMonitor with a bearer token, and changes nothing else.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clusterAssets } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/process.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

let kubectl = 'kubectl';

function render(components: string[], namespace?: string): Obj[] {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-power-metrics-secure-'));
  try {
    const rel = (p: string) => relative(dir, join(REPO_ROOT, p));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        ...(namespace ? [`namespace: ${namespace}`] : []),
        `resources: [${rel('deploy')}]`,
        `components: [${components.map((c) => rel(`deploy/components/${c}`)).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
    return parseAllDocuments(out).map((d) => d.toJS() as Obj).filter((o) => o !== null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name}`);
  return o;
};
const containerOf = (objs: Obj[]) =>
  (find(objs, 'Deployment', 'ecs-power-controller')['spec'] as { template: { spec: { serviceAccountName: string; containers: Array<{ args: string[] }> } } }).template.spec;
const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('deploy/components/metrics-secure', () => {
  let base: Obj[];
  let secure: Obj[];
  before(async function () {
    this.timeout(600_000); // provisions kubectl on a new machine
    kubectl = (await clusterAssets()).kubectl;
    base = render(['prometheus']);
    secure = render(['prometheus', 'metrics-secure']);
  });

  it('adds --metrics-secure to the Deployment, on the same metrics port', () => {
    const args = containerOf(secure).containers[0]!.args;
    assert.equal(args.filter((a) => a === '--metrics-secure').length, 1);
    assert.deepEqual(args.filter((a) => a !== '--metrics-secure'), containerOf(base).containers[0]!.args);
  });

  it('lets the controller create TokenReviews and SubjectAccessReviews, and nothing else', () => {
    assert.deepEqual(find(secure, 'ClusterRole', 'ecs-power-metrics-auth')['rules'], [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    const binding = find(secure, 'ClusterRoleBinding', 'ecs-power-metrics-auth');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ecs-power-metrics-auth' });
    const sa = find(secure, 'ServiceAccount', containerOf(secure).serviceAccountName);
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  });

  it('the binding follows the ServiceAccount when an overlay moves the base to another namespace', () => {
    const moved = render(['metrics-secure'], 'team-x');
    const sa = find(moved, 'ServiceAccount', 'ecs-power-controller');
    assert.equal(sa.metadata.namespace, 'team-x');
    assert.deepEqual(find(moved, 'ClusterRoleBinding', 'ecs-power-metrics-auth')['subjects'], [{ kind: 'ServiceAccount', name: 'ecs-power-controller', namespace: 'team-x' }]);
  });

  it('ships the ecs-power-metrics-reader ClusterRole: get on /metrics only', () => {
    assert.deepEqual(find(secure, 'ClusterRole', 'ecs-power-metrics-reader')['rules'], [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  });

  it('after the prometheus component: the ServiceMonitor scrapes over HTTPS with Prometheus\'s ServiceAccount token', () => {
    const endpoints = (find(secure, 'ServiceMonitor', 'ecs-power-controller')['spec'] as { endpoints: Array<Record<string, unknown>> }).endpoints;
    const plain = (find(base, 'ServiceMonitor', 'ecs-power-controller')['spec'] as { endpoints: Array<Record<string, unknown>> }).endpoints;
    assert.equal(endpoints.length, 1);
    assert.deepEqual(endpoints[0], {
      ...plain[0],
      scheme: 'https',
      bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      tlsConfig: { insecureSkipVerify: true },
    });
  });

  it('without the prometheus component it renders, and adds no ServiceMonitor', () => {
    const alone = render(['metrics-secure']);
    assert.equal(alone.filter((o) => o.kind === 'ServiceMonitor').length, 0);
    assert.ok(alone.some((o) => o.kind === 'ClusterRole' && o.metadata.name === 'ecs-power-metrics-auth'));
  });

  it('changes nothing else', () => {
    const added = secure.filter((o) => !base.some((b) => key(b) === key(o))).map(key).sort();
    assert.deepEqual(added, ['ClusterRole//ecs-power-metrics-auth', 'ClusterRole//ecs-power-metrics-reader', 'ClusterRoleBinding//ecs-power-metrics-auth']);
    for (const b of base) {
      if (b.kind === 'Deployment' || b.kind === 'ServiceMonitor') continue;
      assert.deepEqual(secure.find((o) => key(o) === key(b)), b, key(b));
    }
  });
});
