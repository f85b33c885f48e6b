// Memory and CPU of the controller process, to size the Deployment's requests and limits.
//
//   npm run measure                       # idle 60 s, demo workload 60 s, 1,000 resources at once
//   npm run measure -- --idle-seconds 30 --skip-bulk
//
// The controller runs as in the Deployment (`node dist/main.js --leader-elect
// --leader-election-namespace=ecs-power-system`, default poll/resync/workers), as a child process
// with the ServiceAccount identity bound by deploy/'s roles, against the local API server and the
// ECS emulator (which runs in this process, so its work is not counted). Sampled once a second
// from /proc/PID/status (VmRSS, VmHWM) and /proc/PID/stat (utime + stime). Prints a markdown table.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type EcsInstancePower } from '../src/api/types.ts';
import { CONTROLLER_NAMESPACE, CONTROLLER_USER, startTestCluster, type TestCluster } from '../test/support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../test/support/ecs-emulator/index.ts';
import { procSample, startControllerProcess, NODE_BIN, REPO_ROOT, type ControllerProcess, type ProcSample } from '../test/support/process.ts';
import { DeployOverlay } from '../test/e2e/support.ts';

const { values: args } = parseArgs({
  options: {
    'idle-seconds': { type: 'string', default: '60' },
    'demo-seconds': { type: 'string', default: '60' },
    resources: { type: 'string', default: '1000' },
    'skip-bulk': { type: 'boolean', default: false },
    'settle-seconds': { type: 'string', default: '20' },
  },
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`measure: ${s}\n`);

interface Series {
  name: string;
  startup: ProcSample;
  samples: Array<ProcSample & { t: number }>;
  convergedAfterS?: number;
  notes: string;
}

async function run(cluster: TestCluster, emu: EcsEmulator, name: string, extra: string[] = []): Promise<ControllerProcess> {
  const c = await startControllerProcess({
    name,
    args: [
      '--kubeconfig', cluster.kubeconfigFor(CONTROLLER_USER),
      '--leader-elect',
      `--leader-election-namespace=${CONTROLLER_NAMESPACE}`,
      '--leader-election-id', `measure-${name}`,
      '--ecs-endpoint', emu.url,
      ...extra,
    ],
  });
  await c.waitForHttp(`${c.healthUrl}/readyz`, 200, 60_000);
  await c.waitForLog(/"msg":"became leader"/, 60_000);
  return c;
}

async function sample(c: ControllerProcess, seconds: number, done?: () => Promise<boolean>): Promise<{ samples: Series['samples']; convergedAfterS?: number }> {
  const samples: Series['samples'] = [];
  const t0 = Date.now();
  let convergedAfterS: number | undefined;
  for (;;) {
    samples.push({ t: (Date.now() - t0) / 1000, ...procSample(c.pid) });
    if (done && convergedAfterS === undefined && (await done())) convergedAfterS = (Date.now() - t0) / 1000;
    const elapsed = (Date.now() - t0) / 1000;
    if (done ? convergedAfterS !== undefined && elapsed >= convergedAfterS + seconds : elapsed >= seconds) break;
    if (elapsed > 900) throw new Error(`${c.name}: no convergence within 900 s`);
    await sleep(1_000 - ((Date.now() - t0) % 1_000));
  }
  return { samples, ...(convergedAfterS !== undefined ? { convergedAfterS } : {}) };
}

async function allReady(custom: CustomObjectsApi, ns: string, n: number): Promise<boolean> {
  const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })) as { items: EcsInstancePower[] };
  return list.items.length === n && list.items.every((o) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

function summarise(s: Series): string {
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const rss = s.samples.map((x) => x.rssKiB);
  const first = s.samples[0]!;
  const last = s.samples.at(-1)!;
  const span = last.t - first.t || 1;
  const avgMillicores = ((last.cpuSeconds - first.cpuSeconds) / span) * 1000;
  let peak = 0;
  for (let i = 1; i < s.samples.length; i++) {
    const a = s.samples[i - 1]!;
    const b = s.samples[i]!;
    peak = Math.max(peak, ((b.cpuSeconds - a.cpuSeconds) / (b.t - a.t || 1)) * 1000);
  }
  return [
    s.name,
    `${mib(s.startup.rssKiB)}`,
    `${mib(Math.min(...rss))}–${mib(Math.max(...rss))}`,
    `${mib(last.hwmKiB)}`,
    `${s.startup.cpuSeconds.toFixed(2)}`,
    `${avgMillicores.toFixed(1)}`,
    `${peak.toFixed(0)}`,
    `${span.toFixed(0)}`,
    s.convergedAfterS !== undefined ? `${s.convergedAfterS.toFixed(1)}` : '–',
    s.notes,
  ].join(' | ');
}

async function main(): Promise<void> {
  const results: Series[] = [];
  log('starting the API server');
  const cluster = await startTestCluster({ installCrds: false });
  const overlay = await DeployOverlay.create();
  const emu = await startEcsEmulator({
    stopMs: 3_000,
    startMs: 3_000,
    forceStopMs: 500,
    maxRecordedCalls: 1_000,
    accessKeys: [
      { accessKeyId: 'test-ak', accessKeySecret: 'test-secret' },
      // the placeholder key of deploy/examples/credentials-secret.yaml, as the demo accepts it
      { accessKeyId: 'LTAI5tPLACEHOLDERKEYID', accessKeySecret: 'PLACEHOLDERACCESSKEYSECRET0000' },
    ],
  });
  const procs: ControllerProcess[] = [];
  try {
    await overlay.apply(cluster);
    const custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);

    // 1. idle: no resources at all
    log(`idle: ${args['idle-seconds']} s`);
    let c = await run(cluster, emu, 'idle');
    procs.push(c);
    let startup = procSample(c.pid);
    let r = await sample(c, Number(args['idle-seconds']));
    results.push({ name: 'idle, 0 resources', startup, ...r, notes: 'after /readyz 200 and leading' });
    await c.stop();

    // 2. the demo workload: deploy/examples (6 resources, one with a credentials Secret)
    log(`demo workload: until Ready + ${args['demo-seconds']} s`);
    for (const id of [1, 2, 3, 5, 6]) emu.addInstance({ instanceId: `i-demo00000${id}`, regionId: 'cn-hangzhou' });
    emu.addInstance({ instanceId: 'i-demo000004', regionId: 'cn-hangzhou', status: 'Stopped' });
    const ex = await cluster.kubectl(['apply', '-k', join(REPO_ROOT, 'deploy/examples')]);
    if (ex.code !== 0) throw new Error(ex.stderr);
    c = await run(cluster, emu, 'demo');
    procs.push(c);
    startup = procSample(c.pid);
    r = await sample(c, Number(args['demo-seconds']), () => allReady(custom, 'default', 6));
    results.push({ name: 'demo workload (deploy/examples, 6)', startup, ...r, notes: 'examples applied before start' });
    await c.stop();

    // 3. N resources created at once while the controller runs
    if (!args['skip-bulk']) {
      const n = Number(args.resources);
      const ns = 'measure-bulk';
      await cluster.kubectl(['create', 'namespace', ns]);
      for (let i = 0; i < n; i++) emu.addInstance({ instanceId: `i-bulk${String(i).padStart(6, '0')}`, regionId: 'cn-hangzhou' });
      c = await run(cluster, emu, 'bulk');
      procs.push(c);
      startup = procSample(c.pid);
      log(`bulk: creating ${n} resources`);
      const t0 = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < n) {
            const i = next++;
            await custom.createNamespacedCustomObject({
              group: GROUP, version: VERSION, namespace: ns, plural: PLURAL,
              body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: `bulk-${i}` }, spec: { instanceId: `i-bulk${String(i).padStart(6, '0')}`, regionId: 'cn-hangzhou', desiredState: 'Stopped' } },
            });
          }
        }),
      );
      log(`bulk: created in ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for Ready`);
      r = await sample(c, Number(args['settle-seconds']), () => allReady(custom, ns, n));
      results.push({ name: `${n} resources created at once`, startup, ...r, notes: `created by 20 clients in parallel after start; then ${args['settle-seconds']} s settled` });
      await c.stop();
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await emu.close();
    await cluster.stop();
    await overlay.remove();
  }

  const nodeVersion = execFileSync(NODE_BIN, ['--version'], { encoding: 'utf8' }).trim();
  process.stdout.write(
    [
      `Controller: node ${nodeVersion} dist/main.js --leader-elect (defaults: --poll-interval 5s, --resync-period 10m, --max-concurrent-reconciles 10); sampled every 1 s.`,
      '',
      '| scenario | RSS at ready (MiB) | RSS range (MiB) | peak RSS VmHWM (MiB) | CPU to ready (s) | avg CPU (millicores) | peak CPU, 1 s (millicores) | sampled (s) | Ready after (s) | notes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...results.map((s) => `| ${summarise(s)} |`),
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`measure: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
