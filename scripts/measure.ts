// Memory and CPU of the controller process, to size the Deployment's requests and limits.
//
//   npm run measure                       # idle 60 s, demo workload 60 s, 1,000 resources at once
//   npm run measure -- --idle-seconds 20 --skip-demo --skip-bulk     # idle RSS only
//   npm run measure -- --resources 10000 --skip-demo
//   npm run measure -- --node-options shipped     # or none, both (default), or literal flags
//   npm run measure -- --main /elsewhere/dist/main.js   # another build, to compare
//
// The controller runs as in the Deployment (`node dist/main.js --leader-elect
// --leader-election-namespace=ecs-power-system`, default poll/resync/workers), as a child process
// with the ServiceAccount identity bound by deploy/'s roles, against the local API server and the
// ECS emulator (which runs in this process, so its work is not counted). Every scenario runs once
// without NODE_OPTIONS and once with the NODE_OPTIONS of deploy/deployment.yaml, unless told
// otherwise. Sampled once a second from /proc/PID/status (VmRSS, RssAnon, VmHWM) and
// /proc/PID/stat (utime + stime); the V8 heap is read from the controller's /metrics at the end.
// Prints a markdown table.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type EcsInstancePower } from '../src/api/types.ts';
import { CONTROLLER_NAMESPACE, CONTROLLER_USER, startTestCluster, type TestCluster } from '../test/support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../test/support/ecs-emulator/index.ts';
import { shippedNodeOptions } from '../test/support/manifests.ts';
import { heapFromMetrics, procSample, startControllerProcess, NODE_BIN, REPO_ROOT, type ControllerProcess, type ProcSample } from '../test/support/process.ts';
import { DeployOverlay } from '../test/e2e/support.ts';

const { values: args } = parseArgs({
  options: {
    'idle-seconds': { type: 'string', default: '60' },
    'demo-seconds': { type: 'string', default: '60' },
    resources: { type: 'string', default: '1000' },
    'skip-demo': { type: 'boolean', default: false },
    'skip-bulk': { type: 'boolean', default: false },
    'settle-seconds': { type: 'string', default: '20' },
    'node-options': { type: 'string', default: 'both' },
    main: { type: 'string' },
  },
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`measure: ${s}\n`);

/** The NODE_OPTIONS each scenario runs under: '' is none. */
function nodeOptionVariants(choice: string): string[] {
  const shipped = shippedNodeOptions();
  if (choice === 'both') return ['', shipped];
  if (choice === 'shipped') return [shipped];
  if (choice === 'none') return [''];
  return [choice];
}

interface Series {
  name: string;
  nodeOptions: string;
  startup: ProcSample;
  samples: Array<ProcSample & { t: number }>;
  heap: { usedMiB: number; totalMiB: number };
  convergedAfterS?: number;
  notes: string;
}

async function run(cluster: TestCluster, emu: EcsEmulator, name: string, nodeOptions: string): Promise<ControllerProcess> {
  const c = await startControllerProcess({
    name,
    args: [
      '--kubeconfig', cluster.kubeconfigFor(CONTROLLER_USER),
      '--leader-elect',
      `--leader-election-namespace=${CONTROLLER_NAMESPACE}`,
      '--leader-election-id', `measure-${name}`,
      '--ecs-endpoint', emu.url,
    ],
    env: nodeOptions ? { NODE_OPTIONS: nodeOptions } : {},
    ...(args.main ? { command: [NODE_BIN, args.main], probePorts: true } : {}),
  });
  await c.waitForHttp(`${c.healthUrl}/readyz`, 200, 60_000);
  await c.waitForLog(/"msg":"became leader"/, 60_000);
  return c;
}

async function sample(c: ControllerProcess, seconds: number, done?: () => Promise<boolean>, checkEveryMs = 1_000): Promise<Pick<Series, 'samples' | 'heap' | 'convergedAfterS'>> {
  const samples: Series['samples'] = [];
  const t0 = Date.now();
  let convergedAfterS: number | undefined;
  let lastCheck = -Infinity;
  for (;;) {
    samples.push({ t: (Date.now() - t0) / 1000, ...procSample(c.pid) });
    // A list of thousands of resources is slow on a loaded machine: look less often then, and a failed look is "not yet".
    if (done && convergedAfterS === undefined && Date.now() - lastCheck >= checkEveryMs) {
      lastCheck = Date.now();
      const converged = await done().catch((err: unknown) => {
        log(`checking convergence failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); trying again`);
        return false;
      });
      if (converged) convergedAfterS = (Date.now() - t0) / 1000;
    }
    const elapsed = (Date.now() - t0) / 1000;
    if (done ? convergedAfterS !== undefined && elapsed >= convergedAfterS + seconds : elapsed >= seconds) break;
    if (elapsed > 900) throw new Error(`${c.name}: no convergence within 900 s`);
    await sleep(1_000 - ((Date.now() - t0) % 1_000));
  }
  const heap = await heapFromMetrics(c);
  return { samples, heap, ...(convergedAfterS !== undefined ? { convergedAfterS } : {}) };
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
    s.nodeOptions ? `\`${s.nodeOptions}\`` : 'none',
    `${mib(s.startup.rssKiB)}`,
    `${mib(Math.min(...rss))}–${mib(Math.max(...rss))}`,
    `${mib(last.rssKiB)} (${mib(last.rssAnonKiB)})`,
    `${mib(last.hwmKiB)}`,
    `${s.heap.usedMiB.toFixed(0)} / ${s.heap.totalMiB.toFixed(0)}`,
    `${s.startup.cpuSeconds.toFixed(2)}`,
    `${avgMillicores.toFixed(1)}`,
    `${peak.toFixed(0)}`,
    `${span.toFixed(0)}`,
    s.convergedAfterS !== undefined ? `${s.convergedAfterS.toFixed(1)}` : '–',
    s.notes,
  ].join(' | ');
}

const DEMO_INSTANCES = [1, 2, 3, 4, 5, 6].map((id) => `i-demo00000${id}`);

async function main(): Promise<void> {
  const variants = nodeOptionVariants(args['node-options']);
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
  const kubectl = async (argv: string[]): Promise<void> => {
    const r = await cluster.kubectl(argv);
    if (r.code !== 0) throw new Error(`kubectl ${argv.join(' ')}: ${r.stderr}`);
  };
  try {
    await overlay.apply(cluster);
    const custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);

    // 1. idle: no resources at all
    for (const [v, nodeOptions] of variants.entries()) {
      log(`idle (NODE_OPTIONS=${nodeOptions || 'none'}): ${args['idle-seconds']} s`);
      const c = await run(cluster, emu, `idle-${v}`, nodeOptions);
      procs.push(c);
      const startup = procSample(c.pid);
      const r = await sample(c, Number(args['idle-seconds']));
      results.push({ name: 'idle, 0 resources', nodeOptions, startup, ...r, notes: 'after /readyz 200 and leading' });
      await c.stop();
    }

    // 2. the demo workload: deploy/examples (6 resources, one with a credentials Secret), created afresh for each run
    if (!args['skip-demo']) {
      for (const id of DEMO_INSTANCES) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
      for (const [v, nodeOptions] of variants.entries()) {
        log(`demo workload (NODE_OPTIONS=${nodeOptions || 'none'}): until Ready + ${args['demo-seconds']} s`);
        for (const id of DEMO_INSTANCES) emu.setStatus(id, id === 'i-demo000004' ? 'Stopped' : 'Running');
        await kubectl(['apply', '-k', join(REPO_ROOT, 'deploy/examples')]);
        const c = await run(cluster, emu, `demo-${v}`, nodeOptions);
        procs.push(c);
        const startup = procSample(c.pid);
        const r = await sample(c, Number(args['demo-seconds']), () => allReady(custom, 'default', 6));
        results.push({ name: 'demo workload (deploy/examples, 6)', nodeOptions, startup, ...r, notes: 'examples applied before start' });
        await c.stop();
        await kubectl(['delete', '-k', join(REPO_ROOT, 'deploy/examples')]);
      }
    }

    // 3. N resources created at once while the controller runs; a namespace and instances of their own per run
    if (!args['skip-bulk']) {
      const n = Number(args.resources);
      for (const [v, nodeOptions] of variants.entries()) {
        const ns = `measure-bulk-${v}`;
        const instanceId = (i: number) => `i-bulk${v}${String(i).padStart(6, '0')}`;
        await kubectl(['create', 'namespace', ns]);
        for (let i = 0; i < n; i++) emu.addInstance({ instanceId: instanceId(i), regionId: 'cn-hangzhou' });
        const c = await run(cluster, emu, `bulk-${v}`, nodeOptions);
        procs.push(c);
        const startup = procSample(c.pid);
        log(`bulk (NODE_OPTIONS=${nodeOptions || 'none'}): creating ${n} resources`);
        const t0 = Date.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next < n) {
              const i = next++;
              await custom.createNamespacedCustomObject({
                group: GROUP, version: VERSION, namespace: ns, plural: PLURAL,
                body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: `bulk-${i}` }, spec: { instanceId: instanceId(i), regionId: 'cn-hangzhou', desiredState: 'Stopped' } },
              });
            }
          }),
        );
        log(`bulk: created in ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for Ready`);
        const r = await sample(c, Number(args['settle-seconds']), () => allReady(custom, ns, n), n > 1_000 ? 10_000 : 1_000);
        results.push({ name: `${n} resources created at once`, nodeOptions, startup, ...r, notes: `created by 20 clients in parallel after start; then ${args['settle-seconds']} s settled` });
        await c.stop();
        // the next run's controller watches all namespaces: it must not find these
        await custom.deleteCollectionNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL });
      }
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
      `Controller: node ${nodeVersion} ${args.main ?? 'dist/main.js'} --leader-elect --leader-election-namespace=${CONTROLLER_NAMESPACE} --ecs-endpoint EMULATOR, every other flag at its default; NODE_OPTIONS as in the table (deploy/deployment.yaml ships \`${shippedNodeOptions()}\`); sampled every 1 s.`,
      '',
      '| scenario | NODE_OPTIONS | RSS at ready (MiB) | RSS range (MiB) | RSS at end (anonymous part) (MiB) | peak RSS VmHWM (MiB) | V8 heap used / total at end (MiB) | CPU to ready (s) | avg CPU (millicores) | peak CPU, 1 s (millicores) | sampled (s) | Ready after (s) | notes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
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
