// The Helm chart installs what the kustomize install does: `helm template` with the chart's
// defaults (release ecs-power) holds the same objects as `kubectl kustomize deploy/`, field for
// field, and each chart switch matches its kustomize component. Only Helm's bookkeeping labels
// (helm.sh/chart, app.kubernetes.io/instance, managed-by, version) and the CRDs' keep policy are
// the chart's own; lists of named items (env, volumes, ports) are compared by name, not order.

import assert from 'node:assert/strict';
import { helmTemplateAsync, renderOverlayAsync, settleAll, type K8sObject, type OverlayOptions, type TemplateOptions } from '../support/manifests.ts';

const HELM_ONLY_KEYS = new Set(['helm.sh/chart', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'helm.sh/resource-policy']);

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNamed = (v: unknown): v is { name: string } => isPlain(v) && typeof v['name'] === 'string';

/** Drops Helm's own keys wherever they occur (they occur only in label and annotation maps). */
export function normalise(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalise);
    if (items.length > 1 && items.every(isNamed)) items.sort((a, b) => (a as { name: string }).name.localeCompare((b as { name: string }).name));
    return items;
  }
  if (isPlain(value)) {
    const out: Plain = {};
    for (const [k, v] of Object.entries(value)) {
      if (HELM_ONLY_KEYS.has(k)) continue;
      const n = normalise(v);
      if ((k === 'annotations' || k === 'labels') && isPlain(n) && Object.keys(n).length === 0) continue;
      out[k] = n;
    }
    return out;
  }
  return value;
}

const key = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function byKey(objs: K8sObject[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const o of objs) {
    assert.ok(!map.has(key(o)), `${key(o)} rendered twice`);
    map.set(key(o), normalise(o));
  }
  return map;
}

function assertSameObjects(fromHelm: K8sObject[], fromKustomize: K8sObject[]): void {
  const helmObjs = byKey(fromHelm);
  const kustomizeObjs = byKey(fromKustomize);
  assert.deepEqual([...helmObjs.keys()].sort(), [...kustomizeObjs.keys()].sort(), 'the same kind/namespace/name set');
  for (const [k, expected] of kustomizeObjs) assert.deepEqual(helmObjs.get(k), expected, `${k} differs between the chart and deploy/`);
}

describe('Helm chart = kustomize install (helm template vs kubectl kustomize)', function () {
  this.timeout(120_000); // the first call may provision helm

  it('normalise() drops only Helm bookkeeping and ignores the order of named lists', () => {
    assert.deepEqual(
      normalise({ metadata: { labels: { 'helm.sh/chart': 'x', a: 'b' }, annotations: { 'helm.sh/resource-policy': 'keep' } }, env: [{ name: 'B' }, { name: 'A' }], args: ['--b', '--a'] }),
      { metadata: { labels: { a: 'b' } }, env: [{ name: 'A' }, { name: 'B' }], args: ['--b', '--a'] },
    );
  });

  // One row per kustomize setup and the chart values that install the same objects. Helm
  // leaves the Namespace to `helm install --create-namespace` unless namespace.create is set.
  const rows: { name: string; overlay: OverlayOptions; helm: TemplateOptions; withNamespace?: true }[] = [
    { name: 'defaults: every object of deploy/ but the Namespace', overlay: {}, helm: {} },
    { name: 'component prometheus', overlay: { components: ['prometheus'] }, helm: { values: { metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } } } },
    { name: 'component metrics-secure', overlay: { components: ['metrics-secure'] }, helm: { values: { metrics: { secure: true } } } },
    {
      name: 'components prometheus + metrics-secure',
      overlay: { components: ['prometheus', 'metrics-secure'] },
      helm: { values: { metrics: { secure: true, serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } } },
    },
    { name: 'component networkpolicy', overlay: { components: ['networkpolicy'] }, helm: { values: { networkPolicy: { enabled: true } } } },
    { name: 'component grafana-dashboard', overlay: { components: ['grafana-dashboard'] }, helm: { values: { grafanaDashboard: { enabled: true } } } },
    {
      name: 'component rrsa',
      overlay: { components: ['rrsa'] },
      helm: { values: { rrsa: { enabled: true, roleArn: 'acs:ram::ACCOUNT_ID:role/ecs-power-controller', oidcProviderArn: 'acs:ram::ACCOUNT_ID:oidc-provider/ack-rrsa-CLUSTER_ID' } } },
    },
    {
      name: 'another namespace, with the Namespace (namespace.create)',
      overlay: { namespace: 'platform-ecs-power' },
      helm: { namespace: 'platform-ecs-power', values: { namespace: { create: true } } },
      withNamespace: true,
    },
  ];
  let renders: Array<[K8sObject[], K8sObject[]] | Error> = [];
  before(async () => {
    renders = await settleAll(rows, 3, async (row) => Promise.all([helmTemplateAsync(row.helm), renderOverlayAsync(row.overlay)]));
  });
  rows.forEach((row, i) => {
    it(`${row.name}: ${JSON.stringify(row.helm.values ?? {})}`, () => {
      const rendered = renders[i]!;
      if (rendered instanceof Error) throw rendered;
      const [fromHelm, fromKustomize] = rendered;
      assertSameObjects(fromHelm, row.withNamespace ? fromKustomize : fromKustomize.filter((o) => o.kind !== 'Namespace'));
    });
  });

  it('a failing comparison names the object that differs', async () => {
    const defaults = renders[0]!;
    if (defaults instanceof Error) throw defaults;
    const fromKustomize = defaults[1].filter((o) => o.kind !== 'Namespace');
    const [moreReplicas, noUserRoles] = await Promise.all([helmTemplateAsync({ values: { replicaCount: 3 } }), helmTemplateAsync({ values: { rbac: { userRoles: false } } })]);
    assert.throws(() => assertSameObjects(moreReplicas, fromKustomize), /Deployment\/ecs-power-system\/ecs-power-controller differs/);
    assert.throws(() => assertSameObjects(noUserRoles, fromKustomize), /the same kind\/namespace\/name set/);
  });
});
