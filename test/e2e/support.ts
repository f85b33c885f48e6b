// Helpers shared by the end-to-end tests (not a test file: mocha only loads *.test.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clusterAssets, type TestCluster } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/process.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/**
 * What a user on Kubernetes 1.20 does: a kustomization (in a temp dir) that takes deploy/ plus the
 * kubernetes-1.20 component (and optionally moves it to another namespace and adds components).
 * `render()` is `kubectl kustomize` (needs no cluster), `apply()` is `kubectl apply -k` and waits
 * for the CRD.
 */
export class DeployOverlay {
  private constructor(readonly dir: string) {}

  static async create(opts: { namespace?: string; components?: string[] } = {}): Promise<DeployOverlay> {
    const dir = await mkdtemp(join(tmpdir(), 'ecs-power-e2e-install-'));
    const components = ['kubernetes-1.20', ...(opts.components ?? [])];
    // kustomize refuses absolute paths to other kustomizations: relative ones.
    await writeFile(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        ...(opts.namespace ? [`namespace: ${opts.namespace}`] : []),
        'resources:',
        `  - ${relative(dir, join(REPO_ROOT, 'deploy'))}`,
        'components:',
        ...components.map((c) => `  - ${relative(dir, join(REPO_ROOT, 'deploy/components', c))}`),
        '',
      ].join('\n'),
    );
    return new DeployOverlay(dir);
  }

  async render(): Promise<K8sObject[]> {
    const { kubectl } = await clusterAssets();
    const out = await new Promise<string>((resolvePromise, reject) => {
      execFile(kubectl, ['kustomize', this.dir], { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        err ? reject(new Error(`kubectl kustomize failed: ${stderr || err.message}`)) : resolvePromise(stdout),
      );
    });
    return parseAllDocuments(out)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
  }

  async apply(cluster: TestCluster): Promise<string> {
    const applied = await cluster.kubectl(['apply', '-k', this.dir]);
    if (applied.code !== 0) throw new Error(`kubectl apply -k deploy/ failed:\n${applied.stdout}${applied.stderr}`);
    const established = await cluster.kubectl(['wait', '--for=condition=established', '--timeout=60s', 'crd/ecsinstancepowers.ecspower.io']);
    if (established.code !== 0) throw new Error(`CRD not Established:\n${established.stdout}${established.stderr}`);
    return applied.stdout;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function findObject(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`deploy/ renders no ${kind} ${name}`);
  return o;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { eventually } from '../support/eventually.ts';

/** Waits until `ms` have passed since `since` (for "never happens" assertions). */
export async function untilElapsed(since: number, ms: number): Promise<void> {
  const left = since + ms - Date.now();
  if (left > 0) await sleep(left);
}
