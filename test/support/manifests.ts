// Rendering the install manifests the way users do, for tests: `kubectl kustomize` of deploy/
// through a temporary overlay (optionally moved to another namespace, with components), and
// `helm template` of charts/ecs-power with the helm binary of test/support/provision-helm.sh.
// Both are parsed as YAML 1.1, as Kubernetes reads them (0444 is octal there).

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './process.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const CHART_DIR = join(REPO_ROOT, 'charts/ecs-power');
const PROVISION_HELM = join(REPO_ROOT, 'test/support/provision-helm.sh');

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text, { version: '1.1' })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** The controller's NODE_OPTIONS in deploy/deployment.yaml (the V8 heap flags the container runs with). */
export function shippedNodeOptions(): string {
  const deployment = findOne(parseManifests(readFileSync(join(DEPLOY_DIR, 'deployment.yaml'), 'utf8')), 'Deployment');
  const env = getPath(deployment, 'spec.template.spec.containers.0.env') as Array<{ name: string; value?: string }> | undefined;
  const value = env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
  if (!value) throw new Error('deploy/deployment.yaml: the controller container sets no NODE_OPTIONS');
  return value;
}

// ---------------------------------------------------------------------------------------------
// kustomize

export const kubectlBin = (): string => process.env['KUBECTL'] ?? 'kubectl';

export function kustomize(dir: string): K8sObject[] {
  return parseManifests(execFileSync(kubectlBin(), ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 32 << 20 }));
}

export interface OverlayOptions {
  /** The overlay's `namespace:` (unset: the base's ecs-power-system). */
  namespace?: string;
  /** Names of folders under deploy/components/. */
  components?: string[];
}

/** Writes an overlay of deploy/ into a new temp dir; the caller removes it. */
export function writeOverlay(opts: OverlayOptions, dir = mkdtempSync(join(tmpdir(), 'ecs-power-overlay-'))): string {
  // kustomize refuses absolute paths to other kustomizations: relative ones.
  const rel = (p: string) => relative(dir, p);
  const lines = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization'];
  if (opts.namespace) lines.push(`namespace: ${opts.namespace}`);
  lines.push('resources:', `  - ${rel(DEPLOY_DIR)}`);
  if (opts.components?.length) lines.push('components:', ...opts.components.map((c) => `  - ${rel(join(DEPLOY_DIR, 'components', c))}`));
  writeFileSync(join(dir, 'kustomization.yaml'), lines.join('\n') + '\n');
  return dir;
}

/** `kubectl kustomize` of an overlay of deploy/. */
export function renderOverlay(opts: OverlayOptions): K8sObject[] {
  const dir = writeOverlay(opts);
  try {
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** renderOverlay without blocking. */
export async function renderOverlayAsync(opts: OverlayOptions): Promise<K8sObject[]> {
  const dir = writeOverlay(opts);
  try {
    const out = await new Promise<string>((resolvePromise, reject) => {
      execFile(kubectlBin(), ['kustomize', dir], { maxBuffer: 32 << 20 }, (err, stdout, stderr) =>
        err ? reject(new Error(`kubectl kustomize failed:\n${stderr || err.message}`)) : resolvePromise(stdout),
      );
    });
    return parseManifests(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// helm

let helmBinary: string | undefined;

/** The helm binary: provision-helm.sh fetches and caches it when missing (never a skip). */
export function helmPath(): string {
  if (helmBinary) return helmBinary;
  let out: string;
  try {
    out = execFileSync('bash', [PROVISION_HELM], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${PROVISION_HELM} failed: ${e.stderr || e.message}`);
  }
  helmBinary = out.trim().split('\n').at(-1)!;
  return helmBinary;
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  /** Values, written to a temp file and passed with -f. */
  values?: Record<string, unknown>;
  /** Extra arguments (e.g. --api-versions). */
  args?: string[];
}

/** Runs helm; returns stdout or throws with stderr. */
export function helm(args: string[], env: Record<string, string> = {}): string {
  try {
    return execFileSync(helmPath(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 32 << 20, env: { ...process.env, ...env } });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${e.stderr || e.stdout || e.message}`);
  }
}

/** Writes values to a temp file; returns its path and a cleanup. */
export function valuesFile(values: Record<string, unknown>): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-power-values-'));
  const path = join(dir, 'values.yaml');
  writeFileSync(path, JSON.stringify(values)); // JSON is YAML
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `helm template` of charts/ecs-power (release ecs-power in ecs-power-system by default). */
export function helmTemplate(opts: TemplateOptions = {}): K8sObject[] {
  const file = valuesFile(opts.values ?? {});
  try {
    const out = helm(['template', opts.release ?? 'ecs-power', CHART_DIR, '--namespace', opts.namespace ?? 'ecs-power-system', '-f', file.path, ...(opts.args ?? [])]);
    return parseManifests(out);
  } finally {
    file.remove();
  }
}

/** helmTemplate without blocking: many renders run side by side (each helm run is ~0.2 CPU-seconds). */
export async function helmTemplateAsync(opts: TemplateOptions = {}): Promise<K8sObject[]> {
  const file = valuesFile(opts.values ?? {});
  const args = ['template', opts.release ?? 'ecs-power', CHART_DIR, '--namespace', opts.namespace ?? 'ecs-power-system', '-f', file.path, ...(opts.args ?? [])];
  try {
    const out = await new Promise<string>((resolvePromise, reject) => {
      execFile(helmPath(), args, { maxBuffer: 32 << 20 }, (err, stdout, stderr) =>
        err ? reject(new Error(`helm ${args.join(' ')} failed:\n${stderr || err.message}`)) : resolvePromise(stdout),
      );
    });
    return parseManifests(out);
  } finally {
    file.remove();
  }
}

/** Maps with at most `limit` calls in flight; each result is the value or the error it threw. */
export async function settleAll<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<Array<R | Error>> {
  const results: Array<R | Error> = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------

export function findOne(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hits[0]!;
}

export function getPath(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = Array.isArray(cur) ? cur[Number(part)] : (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Cluster-scoped kinds among what the chart and deploy/ install. */
export const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
