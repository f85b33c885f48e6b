// The Helm chart charts/ecs-power with the real helm binary (test/support/provision-helm.sh):
// `helm lint --strict`, what each value switches on or off (`helm template`, table-driven), the
// values the schema refuses, the release namespace everywhere, and the files the chart copies
// from crds/ and deploy/ (scripts/sync-chart.sh) being identical to their sources.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/process.ts';
import { CHART_DIR, CLUSTER_SCOPED, DEPLOY_DIR, findOne, getPath, helm, helmPath, helmTemplate, helmTemplateAsync, settleAll, valuesFile, type K8sObject } from '../support/manifests.ts';

type Obj = Record<string, unknown>;
/** Every CRD the project ships (crds/*.yaml), as the chart must install them. */
const CRD_NAMES = readdirSync(join(REPO_ROOT, 'crds'))
  .filter((f) => /^ecspower\.io_.*\.yaml$/.test(f))
  .map((f) => (parse(readFileSync(join(REPO_ROOT, 'crds', f), 'utf8')) as { metadata: { name: string } }).metadata.name)
  .sort();
const container = (objs: K8sObject[]): Obj => (getPath(findOne(objs, 'Deployment'), 'spec.template.spec.containers') as Obj[])[0]!;
const podSpec = (objs: K8sObject[]): Obj => getPath(findOne(objs, 'Deployment'), 'spec.template.spec') as Obj;
const kinds = (objs: K8sObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const envNames = (objs: K8sObject[]): string[] => (container(objs)['env'] as { name: string }[]).map((e) => e.name);

/** Everything the chart can switch on, with valid values. */
const ALL_ON = {
  namespace: { create: true },
  metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
  grafanaDashboard: { enabled: true },
  networkPolicy: { enabled: true },
  rrsa: { enabled: true, roleArn: 'acs:ram::1234567890:role/ecs-power', oidcProviderArn: 'acs:ram::1234567890:oidc-provider/ack-rrsa-c1' },
};

describe('Helm chart charts/ecs-power', function () {
  this.timeout(120_000); // the first call may provision helm
  let defaults: K8sObject[] = [];
  before(() => {
    defaults = helmTemplate();
  });

  describe('copies of crds/ and deploy/ (scripts/sync-chart.sh)', () => {
    const pairs = (srcDir: string, dstDir: string, keep: (f: string) => boolean): [string, string][] => {
      const src = readdirSync(srcDir).filter(keep).sort();
      const dst = readdirSync(dstDir).sort();
      assert.deepEqual(dst, src, `${dstDir} must hold exactly the files of ${srcDir}; run scripts/sync-chart.sh`);
      return src.map((f) => [join(srcDir, f), join(dstDir, f)]);
    };
    const cases: { what: string; files: () => [string, string][] }[] = [
      { what: 'every CRD of crds/', files: () => pairs(join(REPO_ROOT, 'crds'), join(CHART_DIR, 'files/crds'), (f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f)) },
      { what: 'the Grafana dashboards of deploy/grafana/', files: () => pairs(join(DEPLOY_DIR, 'grafana'), join(CHART_DIR, 'files/grafana'), (f) => f.endsWith('.json')) },
      { what: 'the PrometheusRule of deploy/components/prometheus/', files: () => pairs(join(DEPLOY_DIR, 'components/prometheus'), join(CHART_DIR, 'files/prometheus'), (f) => f === 'prometheusrule.yaml') },
    ];
    for (const c of cases) {
      it(`${c.what}: byte-identical`, () => {
        const files = c.files();
        assert.ok(files.length > 0);
        for (const [src, dst] of files) assert.ok(readFileSync(src).equals(readFileSync(dst)), `${dst} differs from ${src}; run scripts/sync-chart.sh`);
      });
    }

    it('renders one CRD per file of crds/, with its exact spec and its GitOps annotations, kept on uninstall', () => {
      const crdFiles = readdirSync(join(REPO_ROOT, 'crds')).filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f));
      const rendered = defaults.filter((o) => o.kind === 'CustomResourceDefinition');
      assert.equal(rendered.length, crdFiles.length);
      for (const f of crdFiles) {
        const source = parse(readFileSync(join(REPO_ROOT, 'crds', f), 'utf8')) as K8sObject;
        const crd = findOne(rendered, 'CustomResourceDefinition', source.metadata.name);
        assert.deepEqual(crd['spec'], source['spec'], f);
        assert.deepEqual(crd.metadata.annotations, { ...source.metadata.annotations, 'helm.sh/resource-policy': 'keep' }, f);
        for (const [k, v] of Object.entries(source.metadata.labels ?? {})) assert.equal(crd.metadata.labels?.[k], v, `${f} label ${k}`);
      }
    });
  });

  describe('version', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    it("Chart.yaml's version and appVersion are package.json's", () => {
      assert.equal(chart.version, pkg.version);
      assert.equal(chart.appVersion, pkg.version);
    });
    it('the default image is the one deploy/ names: v<appVersion>', () => {
      const k = parse(readFileSync(join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { images: { newName: string; newTag: string }[] };
      assert.equal(container(defaults)['image'], `${k.images[0]!.newName}:${k.images[0]!.newTag}`);
      assert.equal(k.images[0]!.newTag, `v${chart.appVersion}`);
    });
  });

  describe('helm lint --strict', () => {
    for (const [what, values] of [['defaults', {}], ['everything switched on', ALL_ON]] as const) {
      it(what, () => {
        const file = valuesFile(values);
        try {
          const out = helm(['lint', '--strict', CHART_DIR, '-f', file.path]);
          assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
          assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/);
        } finally {
          file.remove();
        }
      });
    }
  });

  describe('helm template: what each value does', () => {
    const rows: { name: string; values: Record<string, unknown>; check: (objs: K8sObject[]) => void }[] = [
      {
        name: 'defaults: the controller objects, CRDs, user roles; no optional extras',
        values: {},
        check: (objs) => {
          assert.deepEqual(kinds(objs), [
            'ClusterRole/ecs-power-controller', 'ClusterRole/ecs-power-edit', 'ClusterRole/ecs-power-override-creator', 'ClusterRole/ecs-power-view',
            'ClusterRoleBinding/ecs-power-controller', ...CRD_NAMES.map((n) => `CustomResourceDefinition/${n}`), 'Deployment/ecs-power-controller',
            'PodDisruptionBudget/ecs-power-controller', 'Role/ecs-power-leader-election', 'RoleBinding/ecs-power-leader-election',
            'Service/ecs-power-controller-metrics', 'ServiceAccount/ecs-power-controller',
          ].sort());
          assert.deepEqual(container(objs)['args'], ['--leader-elect', '--metrics-bind-address=:8080', '--health-probe-bind-address=:8081', '--max-concurrent-reconciles=100']);
          assert.equal(getPath(findOne(objs, 'Deployment'), 'spec.replicas'), 2);
        },
      },
      { name: 'crds.enabled=false: no CRD', values: { crds: { enabled: false } }, check: (objs) => assert.ok(!objs.some((o) => o.kind === 'CustomResourceDefinition')) },
      {
        name: 'crds.keep=false: CRDs without the keep policy',
        values: { crds: { keep: false } },
        check: (objs) => {
          const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition');
          assert.equal(crds.length, CRD_NAMES.length);
          for (const crd of crds) assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], undefined, crd.metadata.name);
        },
      },
      { name: 'replicaCount', values: { replicaCount: 3 }, check: (objs) => assert.equal(getPath(findOne(objs, 'Deployment'), 'spec.replicas'), 3) },
      {
        name: 'replicaCount=1: no PodDisruptionBudget (minAvailable 1 would block every drain)',
        values: { replicaCount: 1 },
        check: (objs) => assert.ok(!objs.some((o) => o.kind === 'PodDisruptionBudget')),
      },
      { name: 'podDisruptionBudget.enabled=false', values: { podDisruptionBudget: { enabled: false } }, check: (objs) => assert.ok(!objs.some((o) => o.kind === 'PodDisruptionBudget')) },
      {
        name: 'leaderElection.enabled=false with one replica: no --leader-elect, no Lease role',
        values: { replicaCount: 1, leaderElection: { enabled: false } },
        check: (objs) => {
          assert.ok(!(container(objs)['args'] as string[]).includes('--leader-elect'));
          assert.ok(!objs.some((o) => o.kind === 'Role' || o.kind === 'RoleBinding'));
        },
      },
      {
        name: 'leaderElection durations become flags',
        values: { leaderElection: { leaseDuration: '30s', renewDeadline: '20s', retryPeriod: '4s' } },
        check: (objs) => {
          const args = container(objs)['args'] as string[];
          for (const a of ['--leader-election-lease-duration=30s', '--leader-election-renew-deadline=20s', '--leader-election-retry-period=4s']) assert.ok(args.includes(a), a);
        },
      },
      {
        name: 'extraArgs and maxConcurrentReconciles',
        values: { extraArgs: ['--resync-period=30m', '--log-level=debug'], maxConcurrentReconciles: 20 },
        check: (objs) => {
          const args = container(objs)['args'] as string[];
          assert.deepEqual(args.slice(-3), ['--max-concurrent-reconciles=20', '--resync-period=30m', '--log-level=debug']);
        },
      },
      {
        name: 'nodeOptions, extraEnv, resources',
        values: { nodeOptions: '--max-old-space-size=512', extraEnv: [{ name: 'TZ', value: 'UTC' }], resources: { requests: { cpu: '100m', memory: '600Mi' }, limits: { memory: '768Mi' } } },
        check: (objs) => {
          const env = container(objs)['env'] as Obj[];
          assert.deepEqual(env.find((e) => e['name'] === 'NODE_OPTIONS'), { name: 'NODE_OPTIONS', value: '--max-old-space-size=512' });
          assert.deepEqual(env.at(-1), { name: 'TZ', value: 'UTC' });
          assert.deepEqual(container(objs)['resources'], { requests: { cpu: '100m', memory: '600Mi' }, limits: { memory: '768Mi' } });
        },
      },
      { name: 'nodeOptions empty: no NODE_OPTIONS', values: { nodeOptions: '' }, check: (objs) => assert.ok(!envNames(objs).includes('NODE_OPTIONS')) },
      {
        name: 'credentials.secretName empty: no AccessKey variables',
        values: { credentials: { secretName: '' } },
        check: (objs) => assert.deepEqual(envNames(objs), ['POD_NAME', 'POD_NAMESPACE', 'NODE_OPTIONS']),
      },
      { name: 'image.tag', values: { image: { tag: 'v9.9.9' } }, check: (objs) => assert.equal(container(objs)['image'], 'ghcr.io/ecs-power/ecs-power:v9.9.9') },
      {
        name: 'image.digest pins the image (the tag is ignored)',
        values: { image: { repository: 'registry.example.com/ecs-power', tag: 'v9', digest: `sha256:${'a'.repeat(64)}` } },
        check: (objs) => assert.equal(container(objs)['image'], `registry.example.com/ecs-power@sha256:${'a'.repeat(64)}`),
      },
      {
        name: 'rrsa: ServiceAccount annotation, OIDC variables, projected token',
        values: { rrsa: ALL_ON.rrsa },
        check: (objs) => {
          assert.equal(findOne(objs, 'ServiceAccount').metadata.annotations?.['pod-identity.alibabacloud.com/role-name'], 'ecs-power-controller');
          const env = Object.fromEntries((container(objs)['env'] as Obj[]).map((e) => [e['name'], e['value']]));
          assert.equal(env['ALIBABA_CLOUD_ROLE_ARN'], ALL_ON.rrsa.roleArn);
          assert.equal(env['ALIBABA_CLOUD_OIDC_PROVIDER_ARN'], ALL_ON.rrsa.oidcProviderArn);
          assert.equal(env['ALIBABA_CLOUD_OIDC_TOKEN_FILE'], '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token');
          const vol = (podSpec(objs)['volumes'] as Obj[]).find((v) => v['name'] === 'rrsa-oidc-token');
          assert.equal(getPath(vol, 'projected.defaultMode'), 0o444);
          assert.equal(getPath(vol, 'projected.sources.0.serviceAccountToken.audience'), 'sts.aliyuncs.com');
        },
      },
      {
        name: 'serviceAccount.create=false uses the named ServiceAccount everywhere',
        values: { serviceAccount: { create: false, name: 'platform-sa' } },
        check: (objs) => {
          assert.ok(!objs.some((o) => o.kind === 'ServiceAccount'));
          assert.equal(podSpec(objs)['serviceAccountName'], 'platform-sa');
          for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) assert.deepEqual(getPath(b, 'subjects.0.name'), 'platform-sa');
        },
      },
      { name: 'serviceAccount annotations', values: { serviceAccount: { annotations: { a: 'b' } } }, check: (objs) => assert.deepEqual(findOne(objs, 'ServiceAccount').metadata.annotations, { a: 'b' }) },
      {
        name: 'rbac.create=false: no controller roles',
        values: { rbac: { create: false } },
        check: (objs) => assert.deepEqual(objs.filter((o) => /Role/.test(o.kind)).map((o) => o.metadata.name).sort(), ['ecs-power-edit', 'ecs-power-override-creator', 'ecs-power-view']),
      },
      { name: 'rbac.userRoles=false: no user roles', values: { rbac: { userRoles: false } }, check: (objs) => assert.ok(!objs.some((o) => /-(view|edit|override-creator)$/.test(o.metadata.name))) },
      {
        name: 'metrics.serviceMonitor with labels, interval and port',
        values: { metrics: { port: 9090, serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' }, interval: '1m' } } },
        check: (objs) => {
          const sm = findOne(objs, 'ServiceMonitor');
          assert.equal(sm.metadata.labels?.['release'], 'kube-prometheus-stack');
          assert.equal(getPath(sm, 'spec.endpoints.0.interval'), '1m');
          const svc = findOne(objs, 'Service');
          for (const [k, v] of Object.entries(getPath(sm, 'spec.selector.matchLabels') as Obj)) assert.equal(svc.metadata.labels?.[k], v, `Service label ${k}`);
          assert.ok((container(objs)['args'] as string[]).includes('--metrics-bind-address=:9090'));
          assert.deepEqual(getPath(svc, 'spec.ports.0'), { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' });
        },
      },
      {
        name: 'metrics.prometheusRule with labels: the rules of deploy/, Prometheus templates untouched',
        values: { metrics: { prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } } } },
        check: (objs) => {
          const rule = findOne(objs, 'PrometheusRule');
          assert.equal(rule.metadata.labels?.['release'], 'kube-prometheus-stack');
          const source = parse(readFileSync(join(DEPLOY_DIR, 'components/prometheus/prometheusrule.yaml'), 'utf8')) as Obj;
          assert.deepEqual(rule['spec'], source['spec']);
          assert.match(JSON.stringify(rule['spec']), /\{\{ \$labels\.reason \}\}/);
        },
      },
      {
        name: 'grafanaDashboard: a sidecar ConfigMap holding deploy/grafana/*.json, optionally in Grafana\'s namespace',
        values: { grafanaDashboard: { enabled: true, namespace: 'monitoring', annotations: { grafana_folder: 'Operators' } } },
        check: (objs) => {
          const cm = findOne(objs, 'ConfigMap', 'ecs-power-dashboard');
          assert.equal(cm.metadata.namespace, 'monitoring');
          assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
          assert.equal(cm.metadata.annotations?.['grafana_folder'], 'Operators');
          assert.equal((cm['data'] as Obj)['ecs-power-dashboard.json'], readFileSync(join(DEPLOY_DIR, 'grafana/ecs-power-dashboard.json'), 'utf8'));
        },
      },
      {
        name: 'networkPolicy: metricsFrom, apiServerPorts, no metadata service, extra egress',
        values: { networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }], apiServerPorts: [443], instanceMetadata: false, extraEgress: [{ ports: [{ port: 8443, protocol: 'TCP' }] }] } },
        check: (objs) => {
          const np = findOne(objs, 'NetworkPolicy');
          assert.deepEqual(getPath(np, 'spec.ingress.0.from'), [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }]);
          const egressPorts = (getPath(np, 'spec.egress') as { ports: { port: number }[]; to?: unknown }[]).map((r) => r.ports.map((p) => p.port));
          assert.deepEqual(egressPorts, [[53, 53], [443], [8443]]);
          assert.deepEqual(getPath(np, 'spec.podSelector.matchLabels'), getPath(findOne(objs, 'Deployment'), 'spec.selector.matchLabels'));
        },
      },
      {
        name: 'scheduling: priorityClassName, nodeSelector, affinity, tolerations, topology spread',
        values: {
          priorityClassName: 'system-cluster-critical',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['system'] }] }] } } },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'system', effect: 'NoSchedule' }],
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }],
        },
        check: (objs) => {
          const spec = podSpec(objs);
          assert.equal(spec['priorityClassName'], 'system-cluster-critical');
          assert.deepEqual(spec['nodeSelector'], { 'kubernetes.io/os': 'linux' });
          assert.equal(getPath(spec, 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.key'), 'pool');
          assert.deepEqual(spec['tolerations'], [{ key: 'dedicated', operator: 'Equal', value: 'system', effect: 'NoSchedule' }]);
          const spread = spec['topologySpreadConstraints'] as Obj[];
          assert.equal(spread.length, 1);
          assert.equal(spread[0]!['topologyKey'], 'topology.kubernetes.io/zone');
          assert.deepEqual(getPath(spread[0], 'labelSelector.matchLabels'), getPath(findOne(objs, 'Deployment'), 'spec.selector.matchLabels'));
        },
      },
      {
        name: 'podLabels, podAnnotations, imagePullSecrets',
        values: { podLabels: { team: 'platform' }, podAnnotations: { 'example.com/a': 'b' }, imagePullSecrets: [{ name: 'regcred' }] },
        check: (objs) => {
          const d = findOne(objs, 'Deployment');
          assert.equal(getPath(d, 'spec.template.metadata.labels.team'), 'platform');
          assert.equal((getPath(d, 'spec.template.metadata.annotations') as Obj)['example.com/a'], 'b');
          assert.deepEqual(podSpec(objs)['imagePullSecrets'], [{ name: 'regcred' }]);
          assert.equal(getPath(d, 'spec.selector.matchLabels.team'), undefined, 'pod labels never enter the immutable selector');
        },
      },
      {
        name: 'fullnameOverride renames the objects and keeps references consistent; the user roles keep their names',
        values: { fullnameOverride: 'power' },
        check: (objs) => {
          assert.equal(podSpec(objs)['serviceAccountName'], 'power-controller');
          assert.equal(getPath(findOne(objs, 'ClusterRoleBinding'), 'roleRef.name'), 'power-controller');
          assert.equal(getPath(findOne(objs, 'RoleBinding'), 'roleRef.name'), findOne(objs, 'Role').metadata.name);
          assert.deepEqual(objs.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name).sort(), ['ecs-power-edit', 'ecs-power-override-creator', 'ecs-power-view', 'power-controller']);
        },
      },
    ];
    // rendered side by side up front; each row then checks its own render
    let renders: Array<K8sObject[] | Error> = [];
    before(async () => {
      renders = await settleAll(rows, 4, (row) => helmTemplateAsync({ values: row.values }));
    });
    rows.forEach((row, i) => {
      it(row.name, () => {
        const objs = renders[i]!;
        if (objs instanceof Error) throw objs;
        row.check(objs);
      });
    });
  });

  describe('the release namespace everywhere', () => {
    it('every namespaced object, binding subject and the Namespace itself; nothing names ecs-power-system', () => {
      const objs = helmTemplate({ namespace: 'platform-ecs-power', release: 'ecs-power', values: ALL_ON });
      for (const o of objs) {
        if (CLUSTER_SCOPED.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name}`);
        else assert.equal(o.metadata.namespace, 'platform-ecs-power', `${o.kind} ${o.metadata.name}`);
      }
      assert.equal(findOne(objs, 'Namespace').metadata.name, 'platform-ecs-power');
      for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
        assert.deepEqual(b['subjects'], [{ kind: 'ServiceAccount', name: 'ecs-power-controller', namespace: 'platform-ecs-power' }]);
      }
      assert.doesNotMatch(JSON.stringify(objs), /ecs-power-system/);
    });
  });

  describe('values the schema refuses, with a message naming the value', () => {
    const rows: { values: Record<string, unknown>; error: RegExp }[] = [
      { values: { replica: 2 }, error: /additional properties 'replica' not allowed/ },
      { values: { replicaCount: 'two' }, error: /\/replicaCount.*want integer/ },
      { values: { crds: { enable: false } }, error: /additional properties 'enable' not allowed/ },
      { values: { image: { digest: 'sha256:abc' } }, error: /\/image\/digest/ },
      { values: { image: { pullPolicy: 'Sometimes' } }, error: /\/image\/pullPolicy/ },
      { values: { rrsa: { enabled: true } }, error: /\/rrsa\/roleArn/ },
      { values: { rrsa: { enabled: true, roleArn: 'arn:aws:iam::1:role/x', oidcProviderArn: 'acs:ram::1:oidc-provider/p' } }, error: /\/rrsa\/roleArn.*does not match/ },
      { values: { extraArgs: ['resync-period=30m'] }, error: /\/extraArgs\/0/ },
      { values: { leaderElection: { leaseDuration: '15' } }, error: /\/leaderElection\/leaseDuration/ },
      { values: { maxConcurrentReconciles: 0 }, error: /\/maxConcurrentReconciles/ },
      { values: { metrics: { port: 70000 } }, error: /\/metrics\/port/ },
      { values: { credentials: { secretName: 'Not_A_Name' } }, error: /\/credentials\/secretName/ },
      { values: { nodeSelector: { pool: 1 } }, error: /\/nodeSelector\/pool/ },
      // not a schema matter but a template check: two replicas need leader election
      { values: { leaderElection: { enabled: false } }, error: /leaderElection\.enabled=false needs replicaCount: 1/ },
    ];
    let outcomes: Array<K8sObject[] | Error> = [];
    before(async () => {
      outcomes = await settleAll(rows, 4, (row) => helmTemplateAsync({ values: row.values }));
    });
    rows.forEach((row, i) => {
      it(JSON.stringify(row.values), () => {
        const outcome = outcomes[i]!;
        assert.ok(outcome instanceof Error, 'helm template succeeded');
        assert.match(outcome.message, row.error);
      });
    });
  });

  it('helm is provisioned, never missing', () => {
    assert.match(helm(['version', '--short']), /^v\d+\.\d+\.\d+/);
    assert.ok(helmPath().length > 0);
  });
});
