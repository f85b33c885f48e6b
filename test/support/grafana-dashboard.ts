// The shipped Grafana dashboard's queries and variables, with Grafana's substitutions done the
// way a test can: variables filled in, $__rate_interval and $__range as fixed durations.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DASHBOARD_PATH = join(repo, 'deploy/grafana/ecs-power-dashboard.json');

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

export interface DashboardVariable {
  name: string;
  /** The series selector of label_values(selector, label). */
  selector: string;
  label: string;
  allValue?: string;
}

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string }>;
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string }; allValue?: string }> };
}

function load(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

export function dashboardQueries(): DashboardQuery[] {
  const panels = load().panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/** The query variables in dashboard order (each may use the ones before it). */
export function dashboardVariables(): DashboardVariable[] {
  return load()
    .templating.list.filter((v) => v.type === 'query')
    .map((v) => {
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((.+),\s*([a-zA-Z_]+)\)$/.exec(q);
      if (!m) throw new Error(`variable ${v.name}: not label_values(selector, label): ${q}`);
      return { name: v.name, selector: m[1]!, label: m[2]!, ...(v.allValue ? { allValue: v.allValue } : {}) };
    });
}

/** Grafana's interpolation of single values (namespace and job names need no regex escaping). */
export function interpolate(expr: string, values: Record<string, string>, builtins: { rateInterval: string; range: string }): string {
  let out = expr.replaceAll('$__rate_interval', builtins.rateInterval).replaceAll('$__range', builtins.range);
  for (const [name, value] of Object.entries(values)) out = out.replace(new RegExp(`\\$\\{?${name}\\}?(?![a-zA-Z0-9_])`, 'g'), value);
  const left = /\$[a-zA-Z_{]/.exec(out);
  if (left) throw new Error(`unfilled variable in ${out}`);
  return out;
}

