// The container image, built from the Dockerfile and run for real.
//
// podman builds the image (on local stand-ins for the two public base images: no registry is
// reachable here; test/support/provision-image.sh). The container then runs the way the shipped
// Deployment runs it: the Deployment's own args and NODE_OPTIONS, as user 65532 with a read-only
// root file system and no capabilities, with in-cluster configuration (a ServiceAccount token,
// CA and namespace mounted at /var/run/secrets/kubernetes.io/serviceaccount, and
// KUBERNETES_SERVICE_HOST/PORT), against a real API server holding `kubectl apply -k` of deploy/
// plus the kubernetes-1.20 and metrics-secure components (so only the shipped RBAC authorises
// it), and the ECS emulator. Host networking reaches both on loopback.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { CONTROLLER_NAMESPACE, CONTROLLER_USER, startTestCluster, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { buildImage, imageTag, inspectImage, podman, podmanCommand, provisionImageTools, removeContainers, type BuiltImage } from '../support/image.ts';
import { Resources, cond, metricValue } from '../support/operator-harness.ts';
import { freePorts } from '../support/ports.ts';
import { REPO_ROOT, httpGet, startControllerProcess, type ControllerProcess } from '../support/process.ts';
import { findObject, type K8sObject } from './support.ts';

const NS = 'image-e2e';
const CONTAINER_PREFIX = 'ecs-power-e2e-';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SCRAPER = 'prometheus';
/** What the image layers on top of its runtime base (dist/ and production node_modules), at most. */
const APP_LAYERS_MAX_MB = 90;

interface Container {
  name: string;
  process: ControllerProcess;
}

/** The RUN steps of a `podman build` output, and whether each came from the layer cache. */
function runSteps(output: string): Array<{ step: string; cached: boolean }> {
  const lines = output.split('\n');
  return lines.flatMap((l, i) => (/^\[\d+\/\d+\] STEP \d+\/\d+: RUN /.test(l) ? [{ step: l, cached: /^--> Using cache /.test(lines[i + 1] ?? '') }] : []));
}

function httpsGet(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

describe('e2e: the container image, built with podman and run against the test API server', function () {
  this.timeout(120_000);
  let built: BuiltImage;
  let warmBuild: BuiltImage;
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let res: Resources;
  let deployment: K8sObject;
  let container: Container;
  let startedAt = 0;
  let ports: { metrics: number; health: number };
  let workDir: string;
  const name = `${CONTAINER_PREFIX}${process.pid}`;

  before(async function () {
    // A first build on a cold machine downloads the npm dependencies into the build stages.
    this.timeout(15 * 60_000);
    const tools = await provisionImageTools();
    await removeContainers(CONTAINER_PREFIX);
    built = await buildImage();
    console.log(`      podman build: ${built.seconds.toFixed(1)} s, image ${(built.size / 1e6).toFixed(0)} MB (${built.ref}, bases ${tools.runtimeBase})`);
    // .ci/run has built it before npm test: then this build was the warm one already.
    warmBuild = runSteps(built.output).every((s) => s.cached) ? built : await buildImage();
    if (warmBuild !== built) console.log(`      podman build again, nothing changed: ${warmBuild.seconds.toFixed(1)} s`);

    workDir = mkdtempSync(join(tmpdir(), 'ecs-power-image-e2e-'));
    chmodSync(workDir, 0o755);
    cluster = await startTestCluster({ installCrds: false, users: [{ name: SCRAPER }] });

    // deploy/ + kubernetes-1.20 + metrics-secure, as a user's overlay would have it
    writeFileSync(
      join(workDir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${relative(workDir, join(REPO_ROOT, 'deploy'))}]`,
        'components:',
        `  - ${relative(workDir, join(REPO_ROOT, 'deploy/components/kubernetes-1.20'))}`,
        `  - ${relative(workDir, join(REPO_ROOT, 'deploy/components/metrics-secure'))}`,
        '',
      ].join('\n'),
    );
    const rendered = await cluster.kubectl(['kustomize', workDir]);
    assert.equal(rendered.code, 0, rendered.stderr);
    deployment = findObject(
      parseAllDocuments(rendered.stdout).map((d) => d.toJS() as K8sObject),
      'Deployment',
      'ecs-power-controller',
    );
    const applied = await cluster.kubectl(['apply', '-k', workDir]);
    assert.equal(applied.code, 0, applied.stderr);
    const established = await cluster.kubectl(['wait', '--for=condition=established', '--timeout=60s', 'crd/ecsinstancepowers.ecspower.io']);
    assert.equal(established.code, 0, established.stderr);
    const bound = await cluster.kubectl(['create', 'clusterrolebinding', 'prometheus-ecs-power-metrics', '--clusterrole=ecs-power-metrics-reader', `--user=${SCRAPER}`]);
    assert.equal(bound.code, 0, bound.stderr);

    emu = await startEcsEmulator({ stopMs: 300, startMs: 300 });
    emu.addInstance({ instanceId: 'i-imgstop', regionId: 'cn-hangzhou' });
    emu.addInstance({ instanceId: 'i-imgstart', regionId: 'cn-hangzhou', status: 'Stopped' });
    assert.equal((await cluster.kubectl(['create', 'namespace', NS])).code, 0);
    res = new Resources(cluster.kubeConfig(), NS);
    await res.create('stop-me', { instanceId: 'i-imgstop', desiredState: 'Stopped' });
    await res.create('start-me', { instanceId: 'i-imgstart', desiredState: 'Running' });

    // The ServiceAccount volume a pod would get: token, CA of the API server, namespace.
    const sa = join(workDir, 'serviceaccount');
    mkdirSync(sa, { mode: 0o755 });
    writeFileSync(join(sa, 'token'), cluster.tokenFor(CONTROLLER_USER), { mode: 0o644 });
    writeFileSync(join(sa, 'ca.crt'), readFileSync(join(cluster.dir, 'certs', 'apiserver.crt')), { mode: 0o644 });
    writeFileSync(join(sa, 'namespace'), CONTROLLER_NAMESPACE, { mode: 0o644 });

    const [metrics, health] = await freePorts(2);
    ports = { metrics: metrics!, health: health! };
    const spec = deployment['spec'] as { template: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string; value?: string }> }> } } };
    const shipped = spec.template.spec.containers[0]!;
    const nodeOptions = shipped.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    assert.ok(nodeOptions, 'the Deployment sets NODE_OPTIONS');
    const apiPort = new URL(cluster.server).port;
    startedAt = Date.now();
    container = {
      name,
      process: await startControllerProcess({
        name: 'container',
        command: [
          ...podmanCommand(), 'run', '--rm', '--name', name,
          '--network', 'host',
          '--user', '65532:65532', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
          '--volume', `${sa}:${SA_DIR}:ro`,
          '--env', `KUBERNETES_SERVICE_HOST=127.0.0.1`, '--env', `KUBERNETES_SERVICE_PORT=${apiPort}`,
          '--env', `NODE_OPTIONS=${nodeOptions}`,
          '--env', 'ALIBABA_CLOUD_ACCESS_KEY_ID=test-ak', '--env', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret',
          '--env', 'ALIBABA_CLOUD_ECS_METADATA_DISABLED=true',
          built.ref,
        ],
        args: [
          ...shipped.args,
          // test-only: loopback ports of our own, the emulator, fast polling (later flags win)
          `--metrics-bind-address=127.0.0.1:${ports.metrics}`,
          `--health-probe-bind-address=127.0.0.1:${ports.health}`,
          `--ecs-endpoint=${emu.url}`,
          '--poll-interval=200ms',
          '--batch-window=20ms',
        ],
        env: (await provisionImageTools()).env,
        defaultCredentials: false,
        probePorts: false,
      }),
    };
    await container.process.waitForLog(/"msg":"ecs-power started"/, 60_000);
    console.log(`      podman run to "ecs-power started" (cache synced, servers up): ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(60_000);
    if (container) {
      await container.process.stop(5_000);
      await podman(['rm', '--force', '--time', '0', container.name]);
    }
    await emu?.close();
    await cluster?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('builds from the Dockerfile, tagged v<package.json version>; a second build with nothing changed reuses every layer', async () => {
    assert.equal(warmBuild.id, built.id, 'the same image: every layer came from the cache');
    const runs = runSteps(warmBuild.output);
    assert.equal(runs.length, 3, 'npm ci, npm run build, npm prune');
    for (const r of runs) assert.ok(r.cached, `${r.step} ran again`);
    assert.match(built.ref, new RegExp(`:${imageTag().replace(/\./g, '\\.')}$`), 'tagged with package.json\'s version');
  });

  it('distroless: runs as 65532 with node dist/main.js as entry point, no shell, no npm; the app adds under 90 MB', async () => {
    const image = await inspectImage(built.ref);
    assert.equal(image.Config.User, '65532:65532');
    assert.deepEqual(image.Config.Entrypoint, ['/nodejs/bin/node', 'dist/main.js']);
    assert.equal(image.Config.WorkingDir, '/app');
    assert.ok(image.Config.Env?.includes('NODE_ENV=production'));
    // One run of the image's own node: what is (not) in it.
    const probe = await podman(['run', '--rm', '--network', 'none', '--entrypoint', '/nodejs/bin/node', built.ref, '-e', `
      const fs = require('fs');
      const has = (p) => fs.existsSync(p);
      process.stdout.write(JSON.stringify({
        shells: ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/env', '/bin/busybox'].filter(has),
        npm: ['/usr/local/bin/npm', '/usr/local/lib/node_modules/npm', '/app/node_modules/npm'].filter(has),
        devDependencies: ['typescript', 'mocha', 'tsx', 'fast-check', 'yaml'].filter((m) => has('/app/node_modules/' + m)),
        declarations: fs.readdirSync('/app/node_modules/@kubernetes/client-node/dist').filter((f) => f.endsWith('.d.ts')).length,
        uid: process.getuid(),
      }));`]);
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(JSON.parse(probe.stdout), { shells: [], npm: [], devDependencies: [], declarations: 0, uid: 65532 }, 'no shell, no npm, production dependencies only, pruned');
    const base = await inspectImage((await provisionImageTools()).runtimeBase);
    const appMb = (image.Size - base.Size) / 1e6;
    console.log(`      image ${(image.Size / 1e6).toFixed(0)} MB = runtime base ${(base.Size / 1e6).toFixed(0)} MB + dist/ and node_modules ${appMb.toFixed(0)} MB`);
    assert.ok(appMb < APP_LAYERS_MAX_MB, `the app layers are ${appMb.toFixed(0)} MB`);
  });

  it('with the shipped args and RBAC and in-cluster configuration, resources converge', async () => {
    await res.waitForReady('stop-me', 'Stopped', 60_000);
    await res.waitForReady('start-me', 'Running', 30_000);
    assert.equal(emu.instance('i-imgstop')?.status, 'Stopped');
    assert.equal(emu.instance('i-imgstart')?.status, 'Running');
    const ready = cond(await res.get('stop-me'), 'Ready');
    assert.equal(ready?.status, 'True');
  });

  it('leads through the Lease in its own namespace (--leader-elect from the Deployment), /readyz 200', async () => {
    const lease = await cluster.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'ecs-power-controller', namespace: CONTROLLER_NAMESPACE });
    assert.ok(lease.spec?.holderIdentity, 'a holder');
    assert.equal((await httpGet(`http://127.0.0.1:${ports.health}/readyz`)).status, 200);
  });

  it('--metrics-secure (metrics-secure component): 200 for a reader, 403 for others, 401 without a token', async () => {
    const url = `https://127.0.0.1:${ports.metrics}/metrics`;
    const reader = await httpsGet(url, cluster.tokenFor(SCRAPER));
    assert.equal(reader.status, 200, reader.body);
    assert.ok((metricValue(reader.body, 'controller_runtime_reconcile_total', { controller: 'ecsinstancepower' }) ?? 0) > 0, 'reconciles counted');
    assert.equal(metricValue(reader.body, 'ecs_api_requests_total', { action: 'StopInstance', code: 'OK' }), 1);
    // The controller's own identity may create reviews but not get /metrics
    assert.equal((await httpsGet(url, cluster.tokenFor(CONTROLLER_USER))).status, 403);
    assert.equal((await httpsGet(url)).status, 401);
  });

  it('logs JSON to stderr and never an access key', () => {
    const logs = container.process.logs();
    assert.ok(logs.some((l) => l['msg'] === 'ecs-power started'), container.process.tail());
    assert.doesNotMatch(container.process.lines.join('\n'), /test-secret/);
  });

  it('SIGTERM (podman stop, as the kubelet does) drains and exits 0', async () => {
    const stopped = await podman(['stop', '--time', '20', container.name]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const exit = await container.process.exited;
    assert.equal(exit.code, 0, container.process.tail());
    assert.ok(container.process.logs().some((l) => l['msg'] === 'stopped'), container.process.tail());
  });
});
