/**
 * Benchmark: the real test API server, the ECS emulator with a per-action quota, N resources
 * created before the controller starts, then the controller (a child process, so that its own
 * memory and CPU are measured) until all are Ready. The same workload runs batched and with
 * --max-batch-size 1 in one invocation; a markdown table with the ratios is printed.
 *
 *   npm run bench -- --resources 1000
 *   npm run bench -- --resources 10000 --modes batched
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../test/support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../test/support/ecs-emulator/index.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../src/api/types.ts';

const { values: args } = parseArgs({
  options: {
    resources: { type: 'string', default: '1000' },
    quota: { type: 'string', default: '20' },
    'stop-ms': { type: 'string', default: '5000' },
    'latency-ms': { type: 'string', default: '20' },
    workers: { type: 'string', default: '200' },
    'poll-interval': { type: 'string', default: '2s' },
    modes: { type: 'string', default: 'batched,single' },
    'steady-seconds': { type: 'string', default: '12' },
    timeout: { type: 'string', default: '900' },
    // The Deployment's NODE_OPTIONS (deploy/deployment.yaml), so that the figures are the shipped ones.
    'node-options': { type: 'string', default: '--max-old-space-size=192 --max-semi-space-size=8' },
  },
});
const N = Number(args.resources);
const QUOTA = Number(args.quota);
const STOP_MS = Number(args['stop-ms']);
const modes = args.modes.split(',') as Array<'batched' | 'single'>;
const STEADY_S = Number(args['steady-seconds']);
const STEADY_RESYNC_S = Math.max(5, Math.floor(STEADY_S * 0.8));
const CLK_TCK = 100;

interface Result {
  mode: string;
  createSeconds: number;
  createRate: number;
  readySeconds: number;
  calls: Record<string, number>;
  throttled: number;
  statusWrites: number;
  peakRssMb: number;
  heapUsedMb: number;
  cpuSeconds: number;
  steady?: { seconds: number; resync: number; describes: number; writes: number; statusWrites: number };
}

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

async function createResources(cluster: TestCluster, ns: string): Promise<number> {
  const api = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
  const t0 = performance.now();
  const PAR = 64;
  let next = 0;
  await Promise.all(
    Array.from({ length: PAR }, async () => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        await api.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: ns,
          body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: `r${i}` }, spec: { instanceId: `i-bench${i}`, regionId: 'cn-hangzhou', desiredState: 'Stopped' } },
        });
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

function procStats(pid: number): { rssMb: number; hwmMb: number; cpu: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpu };
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function freePort(): Promise<number> {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise((resolve) => {
        const s = createServer();
        s.listen(0, '127.0.0.1', () => {
          const port = (s.address() as { port: number }).port;
          s.close(() => resolve(port));
        });
      }),
  );
}

function countCalls(emu: EcsEmulator, since = 0): { calls: Record<string, number>; throttled: number } {
  const calls: Record<string, number> = {};
  let throttled = 0;
  for (const c of emu.calls) {
    if (c.time < since) continue;
    calls[c.action] = (calls[c.action] ?? 0) + 1;
    if (c.code.includes('Throttling')) throttled++;
  }
  return { calls, throttled };
}

async function runMode(cluster: TestCluster, mode: 'batched' | 'single'): Promise<Result> {
  const ns = `bench-${mode}-${Date.now() % 100000}`;
  await cluster.kubectl(['create', 'namespace', ns]);
  const actions = ['DescribeInstances', 'DescribeInstanceStatus', 'StopInstance', 'StopInstances', 'StartInstance', 'StartInstances'];
  const emu = await startEcsEmulator({
    stopMs: STOP_MS,
    forceStopMs: Math.min(STOP_MS, 1000),
    latencyMs: Number(args['latency-ms']),
    quotas: Object.fromEntries(actions.map((a) => [a, { perSecond: QUOTA, burst: QUOTA }])),
  });
  for (let i = 0; i < N; i++) emu.addInstance({ instanceId: `i-bench${i}`, regionId: 'cn-hangzhou' });
  log(`${mode}: creating ${N} resources`);
  const createSeconds = await createResources(cluster, ns);
  log(`${mode}: created in ${createSeconds.toFixed(1)} s (${(N / createSeconds).toFixed(0)} writes/s)`);

  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      'dist/main.js',
      '--kubeconfig', cluster.kubeconfigPath,
      '--namespace', ns,
      '--ecs-endpoint', emu.url,
      '--max-concurrent-reconciles', args.workers,
      '--ecs-qps', String(QUOTA),
      '--ecs-burst', String(QUOTA),
      '--max-batch-size', mode === 'batched' ? '100' : '1',
      '--poll-interval', args['poll-interval'],
      '--resync-period', `${STEADY_RESYNC_S}s`,
      '--kube-api-qps', '2000',
      '--kube-api-burst', '2000',
      '--metrics-bind-address', `127.0.0.1:${port}`,
      '--health-probe-bind-address', '0',
      '--log-level', 'error',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'test-ak',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret',
        ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
        NODE_OPTIONS: args['node-options'],
      },
    },
  );
  const pid = child.pid!;
  const t0 = performance.now();
  let text = '';
  const deadline = Date.now() + Number(args.timeout) * 1000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    try {
      text = await scrape(port);
    } catch {
      continue;
    }
    const ready = sum(text, 'ecspower_resources', { ready: 'True' });
    if (ready >= N) break;
    if (Date.now() > deadline) throw new Error(`${mode}: only ${ready}/${N} Ready before the timeout`);
  }
  const readySeconds = (performance.now() - t0) / 1000;
  const atReady = procStats(pid);
  const { calls, throttled } = countCalls(emu);
  const statusWrites = sum(text, 'ecspower_status_writes_total');
  const heapUsedMb = sum(text, 'nodejs_heap_size_used_bytes') / 1024 / 1024;
  log(`${mode}: all Ready in ${readySeconds.toFixed(1)} s`);

  let steady: Result['steady'];
  // Per-instance steady state is N describe calls per resync by construction; measure the batched one.
  if (STEADY_S > 0 && mode === 'batched') {
    const since = emu.calls.length ? emu.calls[emu.calls.length - 1]!.time + 1 : 0;
    const before = sum(await scrape(port), 'ecspower_status_writes_total');
    await new Promise((r) => setTimeout(r, STEADY_S * 1000));
    const after = sum(await scrape(port), 'ecspower_status_writes_total');
    const s = countCalls(emu, since).calls;
    steady = {
      seconds: STEADY_S,
      resync: STEADY_RESYNC_S,
      describes: (s['DescribeInstances'] ?? 0) + (s['DescribeInstanceStatus'] ?? 0),
      writes: (s['StopInstance'] ?? 0) + (s['StopInstances'] ?? 0) + (s['StartInstance'] ?? 0) + (s['StartInstances'] ?? 0),
      statusWrites: after - before,
    };
  }
  const end = procStats(pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await emu.close();
  void cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
  return {
    mode,
    createSeconds,
    createRate: N / createSeconds,
    readySeconds,
    calls,
    throttled,
    statusWrites,
    peakRssMb: Math.max(end.hwmMb, atReady.hwmMb),
    heapUsedMb,
    cpuSeconds: end.cpu,
    ...(steady ? { steady } : {}),
  };
}

function table(results: Result[]): string {
  const writesOf = (r: Result): number => (r.calls['StopInstance'] ?? 0) + (r.calls['StopInstances'] ?? 0) + (r.calls['StartInstance'] ?? 0) + (r.calls['StartInstances'] ?? 0);
  const rows: Array<[string, (r: Result) => number, number]> = [
    ['time until all Ready (s)', (r) => r.readySeconds, 1],
    ['ECS write calls', writesOf, 0],
    ['ECS write calls per resource', (r) => writesOf(r) / N, 4],
    ['StopInstance calls', (r) => r.calls['StopInstance'] ?? 0, 0],
    ['StopInstances calls', (r) => r.calls['StopInstances'] ?? 0, 0],
    ['DescribeInstances calls', (r) => r.calls['DescribeInstances'] ?? 0, 0],
    ['throttled answers', (r) => r.throttled, 0],
    ['status writes', (r) => r.statusWrites, 0],
    ['status writes per resource', (r) => r.statusWrites / N, 2],
    ['controller peak RSS (MB)', (r) => r.peakRssMb, 0],
    ['controller V8 heap used when all Ready (MB)', (r) => r.heapUsedMb, 0],
    ['controller CPU (s)', (r) => r.cpuSeconds, 1],
  ];
  const head = `| metric | ${results.map((r) => r.mode).join(' | ')}${results.length === 2 ? ' | ratio (single / batched) |' : ' |'}`;
  const sep = `|---|${results.map(() => '---:').join('|')}|${results.length === 2 ? '---:|' : ''}`;
  const lines = rows.map(([name, f, d]) => {
    const vals = results.map((r) => f(r).toFixed(d));
    const ratio = results.length === 2 && f(results[0]!) > 0 ? ` ${(f(results[1]!) / f(results[0]!)).toFixed(1)}× |` : results.length === 2 ? ' – |' : '';
    return `| ${name} | ${vals.join(' | ')} |${ratio}`;
  });
  return [head, sep, ...lines].join('\n');
}

async function main(): Promise<void> {
  log(`N=${N}, quota ${QUOTA} calls/s per action, stop ${STOP_MS} ms, latency ${args['latency-ms']} ms, workers ${args.workers}`);
  const cluster = await startTestCluster();
  try {
    const results: Result[] = [];
    for (const m of modes) results.push(await runMode(cluster, m));
    const batched = results.find((r) => r.mode === 'batched');
    const createRate = Math.min(...results.map((r) => r.createRate));
    const quotaFloor = Math.ceil(N / 100) / QUOTA + STOP_MS / 1000;
    const writeFloor = N / createRate;
    const limit = Math.max(quotaFloor, writeFloor);
    console.log(`\n### ecs-power benchmark: ${N} resources\n`);
    console.log(`Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``);
    if (args['node-options']) console.log(`Controller NODE_OPTIONS: \`${args['node-options']}\``);
    console.log(`Emulator: quota ${QUOTA} calls/s per action, latency ${args['latency-ms']} ms, graceful stop ${STOP_MS} ms; controller workers ${args.workers}, poll ${args['poll-interval']}.\n`);
    console.log(table(results));
    console.log(`\nPhysical limit: max(quota floor ${quotaFloor.toFixed(1)} s = ${Math.ceil(N / 100)} batched calls at ${QUOTA}/s + stop time, write floor ${writeFloor.toFixed(1)} s = ${N} status writes at the API server's measured ${createRate.toFixed(0)} writes/s) = ${limit.toFixed(1)} s.`);
    if (batched) console.log(`Batched time / limit: ${(batched.readySeconds / limit).toFixed(2)} (target ≤ 2).`);
    for (const r of results) {
      if (!r.steady) continue;
      const perHour = (n: number): number => (n / r.steady!.seconds) * 3600;
      const cycles = r.steady.seconds / r.steady.resync;
      const describesPerCycle = r.steady.describes / cycles;
      console.log(
        `Steady state (${r.mode}, all converged, measured ${r.steady.seconds} s at --resync-period ${r.steady.resync}s): ` +
          `${r.steady.describes} describe calls, ${r.steady.writes} ECS write calls, ${r.steady.statusWrites} status writes; ` +
          `at the default 10m resync that is ≈ ${(describesPerCycle * 6).toFixed(0)} ECS calls/hour, ${perHour(r.steady.writes).toFixed(0)} write calls/hour and ${perHour(r.steady.statusWrites).toFixed(0)} status writes/hour.`,
      );
    }
  } finally {
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
