// The Argo CD and Flux install manifests (deploy/argocd/application.yaml, deploy/flux/ecs-power.yaml)
// pass a server-side dry run (`kubectl apply --dry-run=server`) on the test API server with
// (minimal) Argo CD and Flux CRDs loaded, and order things so that the CRD comes first: the
// Argo CD patch really puts the CRD in sync wave -1 when kustomize applies it to deploy/, the
// instances Application syncs in a later wave, and Flux's instances Kustomization dependsOn the
// controller's, which waits for what it applied.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { TestCluster } from '../support/cluster.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { REPO_ROOT } from '../support/process.ts';

const CRDS = join(REPO_ROOT, 'test/support/gitops-crds');
const ARGO = join(REPO_ROOT, 'deploy/argocd/application.yaml');
const FLUX = join(REPO_ROOT, 'deploy/flux/ecs-power.yaml');

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } };
const docs = (path: string): Obj[] => parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Obj);
const byName = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name}`);
  return o;
};
const wave = (o: Obj): number => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0');

describe('GitOps install manifests: server-side dry run with Argo CD and Flux CRDs loaded', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let tmp: string;

  const dryRun = async (objs: Obj[]) => {
    const file = join(tmp, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, objs.map((o) => stringify(o)).join('---\n'));
    return cluster.kubectl(['apply', '--dry-run=server', '-f', file]);
  };

  before(async function () {
    this.timeout(180_000);
    cluster = await sharedCluster();
    tmp = mkdtempSync(join(tmpdir(), 'ecs-power-gitops-'));
    const applied = await cluster.kubectl(['apply', '-f', CRDS]);
    assert.equal(applied.code, 0, applied.stderr);
    const names = readdirSync(CRDS).filter((f) => f.endsWith('.yaml')).map((f) => `crd/${f.replace(/\.yaml$/, '').split('_').reverse().join('.')}`);
    const established = await cluster.kubectl(['wait', '--for=condition=established', '--timeout=60s', ...names]);
    assert.equal(established.code, 0, established.stderr);
    for (const ns of ['argocd', 'flux-system']) await cluster.kubectl(['create', 'namespace', ns]);
  });

  after(async function () {
    this.timeout(60_000);
    await cluster?.kubectl(['delete', 'namespace', 'argocd', 'flux-system', '--wait=false']);
    await cluster?.kubectl(['delete', '-f', CRDS, '--wait=false']);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('Argo CD: kubectl apply --dry-run=server accepts both Applications', async () => {
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', ARGO]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^application\.argoproj\.io\/ecs-power created \(server dry run\)$/m);
    assert.match(r.stdout, /^application\.argoproj\.io\/ecs-power-instances created \(server dry run\)$/m);
  });

  it('Flux: kubectl apply --dry-run=server accepts the GitRepository and both Kustomizations', async () => {
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', FLUX]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gitrepository\.source\.toolkit\.fluxcd\.io\/ecs-power created \(server dry run\)$/m);
    assert.match(r.stdout, /^kustomization\.kustomize\.toolkit\.fluxcd\.io\/ecs-power created \(server dry run\)$/m);
    assert.match(r.stdout, /^kustomization\.kustomize\.toolkit\.fluxcd\.io\/ecs-power-instances created \(server dry run\)$/m);
  });

  describe('the dry run refuses broken manifests (so the checks above can fail)', () => {
    const table: Array<{ name: string; file: string; breakIt: (objs: Obj[]) => void; says: RegExp }> = [
      {
        name: 'an Application without source.repoURL',
        file: ARGO,
        breakIt: (objs) => delete (byName(objs, 'Application', 'ecs-power')['spec'] as { source: Record<string, unknown> }).source['repoURL'],
        says: /repoURL/,
      },
      {
        name: 'an Application with a misspelt field',
        file: ARGO,
        breakIt: (objs) => ((byName(objs, 'Application', 'ecs-power')['spec'] as Record<string, unknown>)['syncPolicyy'] = {}),
        says: /syncPolicyy/,
      },
      {
        name: 'a Kustomization whose sourceRef kind is not a Flux source',
        file: FLUX,
        breakIt: (objs) => ((byName(objs, 'Kustomization', 'ecs-power')['spec'] as { sourceRef: Record<string, unknown> }).sourceRef['kind'] = 'GitRepo'),
        says: /sourceRef\.kind/,
      },
      {
        name: 'a Kustomization with dependsOn misspelt',
        file: FLUX,
        breakIt: (objs) => {
          const spec = byName(objs, 'Kustomization', 'ecs-power-instances')['spec'] as Record<string, unknown>;
          spec['dependson'] = spec['dependsOn'];
          delete spec['dependsOn'];
        },
        says: /dependson/,
      },
      {
        name: 'a GitRepository with an interval that is not a duration',
        file: FLUX,
        breakIt: (objs) => ((byName(objs, 'GitRepository', 'ecs-power')['spec'] as Record<string, unknown>)['interval'] = 'hourly'),
        says: /interval/,
      },
    ];
    for (const t of table) {
      it(t.name, async () => {
        const objs = docs(t.file);
        t.breakIt(objs);
        const r = await dryRun(objs);
        assert.notEqual(r.code, 0, `accepted:\n${r.stdout}`);
        assert.match(r.stderr, t.says);
      });
    }
  });

  it('Argo CD: the Application\'s kustomize patch puts the CRD (and only it) in wave -1; the instances sync in a later wave', async () => {
    const apps = docs(ARGO);
    const controller = byName(apps, 'Application', 'ecs-power');
    const instances = byName(apps, 'Application', 'ecs-power-instances');
    assert.ok(wave(instances) > wave(controller), 'instances after the controller');
    const source = (controller['spec'] as { source: { path: string; kustomize: { patches: unknown[] } } }).source;
    assert.equal(source.path, 'deploy');
    // What Argo CD does with spec.source.kustomize.patches: a kustomization over the path.
    const overlay = mkdtempSync(join(tmp, 'argocd-'));
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [relative(overlay, join(REPO_ROOT, source.path))], patches: source.kustomize.patches }),
    );
    const r = await cluster.kubectl(['kustomize', overlay]);
    assert.equal(r.code, 0, r.stderr);
    const rendered = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    for (const o of rendered) {
      assert.equal(wave(o), o.kind === 'CustomResourceDefinition' ? -1 : 0, `${o.kind} ${o.metadata.name}`);
    }
    assert.ok(rendered.some((o) => o.kind === 'CustomResourceDefinition'));
    assert.ok(rendered.some((o) => o.kind === 'Deployment'));
  });

  it('Flux: the instances Kustomization dependsOn the controller\'s, which applies deploy/ and waits for it', () => {
    const objs = docs(FLUX);
    const repo = byName(objs, 'GitRepository', 'ecs-power');
    const controller = byName(objs, 'Kustomization', 'ecs-power');
    const instances = byName(objs, 'Kustomization', 'ecs-power-instances');
    const spec = (o: Obj) => o['spec'] as Record<string, unknown>;
    assert.deepEqual(spec(instances)['dependsOn'], [{ name: 'ecs-power' }]);
    assert.equal(spec(controller)['path'], './deploy');
    assert.equal(spec(controller)['wait'], true, 'Ready only once the CRD is Established and the Deployment rolled out');
    assert.deepEqual(spec(controller)['sourceRef'], { kind: 'GitRepository', name: repo.metadata.name });
    assert.equal(controller.metadata.namespace, repo.metadata.namespace);
    // the GitRepository's ignore rules keep what the controller's path needs
    const ignore = String(spec(repo)['ignore']);
    for (const dir of ['deploy', 'crds']) assert.match(ignore, new RegExp(`^!/${dir}/$`, 'm'), `${dir}/ is fetched (deploy/ includes ../crds)`);
  });
});
