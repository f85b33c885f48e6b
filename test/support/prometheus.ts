// Debian's Prometheus for tests: the binaries (provision-prometheus.sh), the shipped alert rules
// as a plain rule file, and a Prometheus server scraping given targets.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { freePorts } from './ports.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PROMETHEUS_RULE_PATH = join(repo, 'deploy/components/prometheus/prometheusrule.yaml');

export interface PrometheusTools {
  prometheus: string;
  promtool: string;
}

let tools: PrometheusTools | undefined;

/** Provisions (once per machine, cached) and returns the binaries. A missing tool throws: never a skip. */
export function prometheusTools(): PrometheusTools {
  if (tools) return tools;
  let dir: string;
  try {
    dir = execFileSync('bash', [join(repo, 'test/support/provision-prometheus.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`test/support/provision-prometheus.sh failed: ${e.stderr || e.message}`);
  }
  tools = { prometheus: join(dir, 'prometheus'), promtool: join(dir, 'promtool') };
  return tools;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The rule groups of the shipped PrometheusRule (what the Prometheus Operator hands Prometheus). */
export function shippedRuleGroups(): Array<{ name: string; rules: AlertRule[] }> {
  const rule = parse(readFileSync(PROMETHEUS_RULE_PATH, 'utf8')) as { spec: { groups: Array<{ name: string; rules: AlertRule[] }> } };
  return rule.spec.groups;
}

export function shippedAlerts(): AlertRule[] {
  return shippedRuleGroups().flatMap((g) => g.rules);
}

/** Writes the shipped rule groups as a Prometheus rule file; returns its path. */
export function writeShippedRuleFile(dir: string, name = 'ecs-power-rules.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, stringify({ groups: shippedRuleGroups() }));
  return path;
}

export interface ScrapeTarget {
  job: string;
  address: string;
  /** Target labels, as a ServiceMonitor would attach (namespace, pod, ...). */
  labels: Record<string, string>;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RuleState {
  name: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
  state?: string;
}

/** A Prometheus server on 127.0.0.1 with its own temporary storage. */
export class PrometheusServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.append(d));
    child.stderr?.on('data', (d: Buffer) => this.append(d));
  }

  static async start(o: { targets: ScrapeTarget[]; ruleFiles: string[]; intervalSeconds: number }): Promise<PrometheusServer> {
    const { prometheus } = prometheusTools();
    const dir = mkdtempSync(join(tmpdir(), 'ecs-power-prometheus-'));
    const jobs = [...new Set(o.targets.map((t) => t.job))].map((job) => ({
      job_name: job,
      static_configs: o.targets.filter((t) => t.job === job).map((t) => ({ targets: [t.address], labels: t.labels })),
    }));
    const interval = `${o.intervalSeconds}s`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
        rule_files: o.ruleFiles,
        scrape_configs: jobs,
      }),
    );
    const [port] = await freePorts(1);
    const child = spawn(
      prometheus,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${server.output}`);
      try {
        if ((await fetch(`${server.url}/-/ready`)).ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`prometheus not ready after 20 s:\n${server.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Prometheus's own log (warnings and errors). */
  log(): string {
    return this.output;
  }

  /** An instant query; throws on a query error (bad PromQL). */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr, ...(time !== undefined ? { time: String(time / 1000) } : {}) });
    const data = await this.api<{ resultType: string; result: Sample[] | [number, string] }>(`/api/v1/query?${params}`);
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as Sample[];
  }

  /** Grafana's label_values(selector, label). */
  async labelValues(label: string, selector: string): Promise<string[]> {
    return this.api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values?${new URLSearchParams({ 'match[]': selector })}`);
  }

  async rules(): Promise<RuleState[]> {
    const data = await this.api<{ groups: Array<{ rules: RuleState[] }> }>('/api/v1/rules');
    return data.groups.flatMap((g) => g.rules);
  }

  async targets(): Promise<Array<{ labels: Record<string, string>; health: string; lastError: string }>> {
    const data = await this.api<{ activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> }>('/api/v1/targets');
    return data.activeTargets;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  private append(d: Buffer): void {
    this.output += d.toString();
    if (this.output.length > 100_000) this.output = this.output.slice(-50_000);
  }
}
