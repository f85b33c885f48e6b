// Static checks of the observability assets: the Prometheus component (ServiceMonitor and
// PrometheusRule) and the Grafana dashboard may only use metric and label names of API.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parseAllDocuments } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const deployDir = join(repo, 'deploy');

// The metrics of API.md ("Metrics"), with their labels. Kept here rather than read from
// shared/spec so that the test runs from any checkout.
const API_METRICS: Record<string, { labels: string[]; histogram?: true }> = {
  controller_runtime_reconcile_total: { labels: ['controller', 'result'] },
  controller_runtime_reconcile_errors_total: { labels: ['controller'] },
  controller_runtime_reconcile_time_seconds: { labels: ['controller'], histogram: true },
  controller_runtime_active_workers: { labels: ['controller'] },
  controller_runtime_max_concurrent_reconciles: { labels: ['controller'] },
  workqueue_depth: { labels: ['name'] },
  workqueue_adds_total: { labels: ['name'] },
  workqueue_retries_total: { labels: ['name'] },
  workqueue_queue_duration_seconds: { labels: ['name'], histogram: true },
  workqueue_work_duration_seconds: { labels: ['name'], histogram: true },
  leader_election_master_status: { labels: ['name'] },
  ecs_api_requests_total: { labels: ['action', 'region', 'code'] },
  ecs_api_request_duration_seconds: { labels: ['action', 'region'], histogram: true },
  ecspower_resources: { labels: ['desired_state', 'ready', 'reason'] },
  // SCHEDULES.md
  ecspower_schedule_transition_seconds: { labels: [], histogram: true },
  ecspower_overrides_active: { labels: [] },
  ecspower_stopped_seconds_total: { labels: ['namespace', 'stopped_mode'] },
  ecspower_stopped_vcpu_seconds_total: { labels: ['namespace', 'stopped_mode'] },
};
// Labels that Prometheus adds to every scraped series (ServiceMonitor target labels) and `le`;
// a metric's own `namespace` label is stored as `exported_namespace` next to the target's.
const TARGET_LABELS = ['namespace', 'pod', 'job', 'instance', 'service', 'endpoint', 'container', 'le', 'exported_namespace'];

/** Names of prom-client's default process_* and nodejs_* metrics (API.md allows those). */
async function promClientDefaults(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

function allowedMetric(name: string, defaults: Set<string>): boolean {
  if (name === 'up') return true; // Prometheus's own, per scrape target
  if (API_METRICS[name] && !API_METRICS[name].histogram) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  if (base !== name && API_METRICS[base]?.histogram) return true;
  return defaults.has(name);
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'Inf', 'NaN']);

/** Metric names and label names used by a PromQL expression (the subset of PromQL used here). */
export function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  // label matchers
  s = s.replace(/\{([^}]*)\}/g, (_m, inner: string) => {
    for (const l of inner.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(l[1]!);
    return ' ';
  });
  // grouping clauses
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _kw: string, inner: string) => {
    for (const l of inner.split(',')) if (l.trim()) labels.push(l.trim());
    return ' ';
  });
  // range selectors and subqueries, offsets
  s = s.replace(/\[[^\]]*\]/g, ' ').replace(/\boffset\s+\S+/g, ' ');
  const metrics: string[] = [];
  for (const m of s.matchAll(/\$?[0-9.]+(?:e[+-]?\d+)?[a-zA-Z]*|\$?[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const tok = m[0];
    if (/^[$0-9.]/.test(tok) || KEYWORDS.has(tok)) continue;
    const after = s.slice(m.index + tok.length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation operator
    metrics.push(tok);
  }
  return { metrics, labels };
}

function checkExpr(expr: string, defaults: Set<string>, where: string): string[] {
  const { metrics, labels } = promqlNames(expr);
  assert.ok(metrics.length > 0, `${where}: no metric in ${expr}`);
  const bad = metrics.filter((m) => !allowedMetric(m, defaults));
  assert.deepEqual(bad, [], `${where}: metric names not in API.md: ${expr}`);
  const knownLabels = new Set([...TARGET_LABELS, ...Object.values(API_METRICS).flatMap((m) => m.labels)]);
  const badLabels = labels.filter((l) => !knownLabels.has(l));
  assert.deepEqual(badLabels, [], `${where}: label names not in API.md: ${expr}`);
  return metrics;
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

function kustomizeUnavailable(): string | undefined {
  const kubectl = process.env['KUBECTL'] ?? 'kubectl';
  try {
    const out = execFileSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const version = (JSON.parse(out) as { kustomizeVersion?: string }).kustomizeVersion ?? '';
    if (Number(/^v?(\d+)/.exec(version)?.[1] ?? '0') < 4) return `${kubectl} embeds kustomize ${version || '(unknown)'}, components need v4+`;
    return undefined;
  } catch (err) {
    return `${kubectl} not runnable: ${(err as Error).message.split('\n')[0]}`;
  }
}

function renderWithComponents(components: string[]): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-power-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, p);
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', `  - ${rel(deployDir)}`, 'components:',
        ...components.map((c) => `  - ${rel(join(deployDir, 'components', c))}`), ''].join('\n'),
    );
    const out = execFileSync(process.env['KUBECTL'] ?? 'kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    return parseAllDocuments(out).map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('PromQL name extraction (test helper)', () => {
  it('finds metrics and labels, ignoring functions, strings, ranges and keywords', () => {
    assert.deepEqual(
      promqlNames('histogram_quantile(0.99, sum by (le, action) (rate(ecs_api_request_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))'),
      { metrics: ['ecs_api_request_duration_seconds_bucket'], labels: ['namespace', 'le', 'action'] },
    );
    assert.deepEqual(promqlNames('max(a_total{code=~".*Throttling.*"}) < 1 or absent(b_seconds) and on (pod) c offset 5m').metrics, ['a_total', 'b_seconds', 'c']);
    assert.deepEqual(promqlNames('sum(x) or vector(0) > 1e3').metrics, ['x']);
  });
});

describe('deploy/components/prometheus', () => {
  let objs: K8sObject[] = [];
  let defaults = new Set<string>();
  before(async () => {
    // kubectl comes with the test cluster binaries (provision-cluster.sh): missing is a failure.
    const why = kustomizeUnavailable();
    assert.equal(why, undefined, why);
    objs = renderWithComponents(['prometheus']);
    defaults = await promClientDefaults();
  });

  it('ServiceMonitor scrapes the metrics Service port in ecs-power-system', () => {
    const sm = objs.find((o) => o.kind === 'ServiceMonitor');
    const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'ecs-power-controller-metrics');
    assert.ok(sm && svc);
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(sm.metadata.namespace, 'ecs-power-system');
    const selector = (sm.spec!['selector'] as { matchLabels: Record<string, string> }).matchLabels;
    for (const [k, v] of Object.entries(selector)) assert.equal(svc.metadata.labels?.[k], v, `Service label ${k}`);
    const endpoints = sm.spec!['endpoints'] as { port: string; path: string }[];
    assert.deepEqual(endpoints.map((e) => [e.port, e.path]), [['metrics', '/metrics']]);
    const ports = (svc.spec!['ports'] as { name: string }[]).map((p) => p.name);
    assert.ok(ports.includes('metrics'));
  });

  it('PrometheusRule: the alerts, on API.md metric names only, each with a runbook_url into the troubleshooting page', () => {
    const rule = objs.find((o) => o.kind === 'PrometheusRule');
    assert.ok(rule);
    assert.equal(rule.metadata.namespace, 'ecs-power-system');
    const rules = (rule.spec!['groups'] as { rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[]).flatMap((g) => g.rules);
    const byName = new Map(rules.map((r) => [r.alert ?? '', r]));
    assert.deepEqual([...byName.keys()].sort(), [
      'EcsPowerControllerAbsent',
      'EcsPowerDesiredStateNotReached',
      'EcsPowerEcsThrottlingSustained',
      'EcsPowerInsufficientCapacity',
      'EcsPowerMetricsTargetDown',
      'EcsPowerNoLeader',
      'EcsPowerReconcileErrorsRising',
      'EcsPowerResourcesNotReady',
      'EcsPowerResourcesStalled',
    ]);
    for (const r of rules) {
      assert.ok(r.alert, 'alerting rules only');
      checkExpr(r.expr, defaults, r.alert);
      assert.ok(r.for, `${r.alert} has a for: duration`);
      assert.ok(r.labels?.['severity'], `${r.alert} has a severity`);
      assert.ok(r.annotations?.['summary'] && r.annotations['description'], `${r.alert} has summary and description`);
      assert.equal(
        r.annotations?.['runbook_url'],
        `https://github.com/ecs-power/ecs-power/blob/main/docs/troubleshooting.md#${r.alert.toLowerCase()}`,
        `${r.alert} runbook_url`,
      );
      // Nothing depends on the Lease's name (--leader-election-id).
      assert.doesNotMatch(r.expr, /ecs-power-controller|\bname\s*=/, `${r.alert} names no Lease`);
    }
    const expr = (n: string) => byName.get(n)!.expr.replace(/\s+/g, ' ');
    for (const terminal of ['InstanceLockedForSecurity', 'InstanceNotFound', 'ConfirmStopRequired', 'InstanceExpiredOrInArrears', 'OperationNotSupported', 'KMSUnauthorized', 'InvalidCredentials', 'Forbidden', 'InvalidSpec', 'ScheduleNotFound', 'InvalidSchedule']) {
      assert.match(expr('EcsPowerResourcesStalled'), new RegExp(`ecspower_resources\\{[^}]*reason=~"[^"]*\\b${terminal}\\b`), `terminal reason ${terminal}`);
    }
    assert.match(expr('EcsPowerInsufficientCapacity'), /ecspower_resources\{reason="InsufficientCapacity"\}/);
    assert.match(expr('EcsPowerReconcileErrorsRising'), /rate\(controller_runtime_reconcile_errors_total\{[^}]*\}\[5m\]\)/);
    assert.match(expr('EcsPowerEcsThrottlingSustained'), /rate\(ecs_api_requests_total\{code=~"\.\*Throttling\.\*"\}\[10m\]\)/);
    // "Is it there" from a series every install has; the leader alert only where leader election runs.
    assert.match(expr('EcsPowerControllerAbsent'), /^absent\(controller_runtime_max_concurrent_reconciles\{controller="ecsinstancepower"\}\)/);
    assert.match(expr('EcsPowerMetricsTargetDown'), /\(up == 0\) and on \(namespace, job\)/);
    assert.match(expr('EcsPowerNoLeader'), /leader_election_master_status and on \(namespace, job\) group by \(namespace, job\) \(controller_runtime_max_concurrent_reconciles\{controller="ecsinstancepower"\}\)/);
    assert.equal(byName.get('EcsPowerNoLeader')!.for, '5m');
    for (const r of rules.filter((x) => x.alert !== 'EcsPowerNoLeader')) {
      assert.doesNotMatch(r.expr, /leader_election_master_status/, `${r.alert} does not depend on leader election`);
    }
  });
});

describe('deploy/grafana/ecs-power-dashboard.json', () => {
  interface Target { expr: string; refId: string }
  interface Panel { id: number; type: string; title: string; targets?: Target[]; panels?: Panel[]; datasource?: { uid: string } }
  const dash = JSON.parse(readFileSync(join(deployDir, 'grafana', 'ecs-power-dashboard.json'), 'utf8')) as {
    uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] };
  };
  const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  let defaults = new Set<string>();
  before(async () => {
    defaults = await promClientDefaults();
  });

  it('is an importable dashboard with a data source variable and unique panel ids', () => {
    assert.equal(dash.uid, 'ecs-power');
    assert.ok(dash.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'));
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      assert.equal(p.datasource?.uid, '${datasource}', p.title);
      assert.ok(p.targets && p.targets.length > 0, `${p.title} has queries`);
    }
  });

  it('queries only API.md metric names, and covers them', () => {
    const used = new Set<string>();
    for (const p of panels) for (const t of p.targets ?? []) for (const m of checkExpr(t.expr, defaults, p.title)) used.add(m);
    for (const v of dash.templating.list.filter((x) => x.type === 'query')) {
      const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
      const m = /^label_values\((.+),\s*([a-zA-Z_]+)\)$/.exec(q);
      assert.ok(m, `variable ${v.name}: ${q}`);
      checkExpr(m[1]!, defaults, `variable ${v.name}`);
      assert.ok(TARGET_LABELS.includes(m[2]!), `variable ${v.name} label`);
    }
    for (const m of [
      'ecspower_resources',
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'ecs_api_requests_total',
      'ecs_api_request_duration_seconds_bucket',
      'leader_election_master_status',
      'ecspower_schedule_transition_seconds_bucket',
      'ecspower_overrides_active',
      'ecspower_stopped_seconds_total',
      'ecspower_stopped_vcpu_seconds_total',
    ]) {
      assert.ok(used.has(m), `dashboard shows ${m}`);
    }
  });

  it('takes its variables from series every install has, never from leader election or a Lease name', () => {
    const text = JSON.stringify(dash);
    assert.doesNotMatch(text, /ecs-power-controller/, 'no Lease name');
    const query = (name: string) => {
      const v = dash.templating.list.find((x) => x.name === name);
      assert.ok(v, `variable ${name}`);
      return typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    };
    assert.equal(query('namespace'), 'label_values(controller_runtime_max_concurrent_reconciles{controller="ecsinstancepower"}, namespace)');
    assert.match(query('job'), /^label_values\(controller_runtime_max_concurrent_reconciles\{controller="ecsinstancepower", namespace=~"\$namespace"\}, job\)$/);
    // Every query is scoped to the chosen install: the controller's namespace and scrape job.
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        for (const selector of t.expr.matchAll(/[a-z_:]+\{([^}]*)\}/g)) {
          assert.match(selector[1]!, /namespace=~"\$namespace", job=~"\$job"/, `${p.title}: ${t.expr}`);
        }
      }
    }
  });

  it('shows the savings per resource namespace (exported_namespace beside the target namespace)', () => {
    const savings = panels.filter((p) => (p.targets ?? []).some((t) => t.expr.includes('ecspower_stopped_')));
    assert.ok(savings.length >= 2);
    for (const p of savings) {
      for (const t of p.targets ?? []) {
        assert.match(t.expr, /sum by \(exported_namespace[,)]/, p.title);
        assert.match(t.expr, /exported_namespace=~"\$resource_namespace"/, p.title);
      }
    }
  });

  it('computes quantiles from histogram buckets', () => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (!t.expr.includes('histogram_quantile')) continue;
        assert.match(t.expr, /histogram_quantile\(0\.\d+, sum by \(le[,)].*rate\([a-z_]+_bucket\{/, p.title);
      }
    }
    const quantiles = panels.flatMap((p) => p.targets ?? []).filter((t) => t.expr.includes('controller_runtime_reconcile_time_seconds_bucket'));
    assert.ok(quantiles.some((t) => t.expr.startsWith('histogram_quantile(0.5,')), 'p50');
    assert.ok(quantiles.some((t) => t.expr.startsWith('histogram_quantile(0.99,')), 'p99');
  });
});
