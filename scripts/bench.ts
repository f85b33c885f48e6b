/**
 * Benchmark: the real test API server, the ECS emulator with a per-action and per-region quota,
 * N resources over several regions created before the controller starts, then the controller (a
 * child process, so that its own memory and CPU are measured) until all are Ready. The same
 * workload runs batched and with --max-batch-size 1 in one invocation; a markdown table with the
 * ratios and every controller flag that ran is printed.
 *
 * The controller runs with its flag defaults plus `--poll-interval 500ms --resync-period 5s`
 * (`--schedule`: the flag defaults alone) unless told otherwise: `--deployment` runs the Deployment's args and NODE_OPTIONS instead, and
 * `--controller-args="..."` replaces the added flags (the `=` form: the value starts with a dash).
 *
 *   npm run bench -- --resources 1000
 *   npm run bench -- --resources 2000
 *   npm run bench -- --resources 10000 --modes batched --steady-seconds 0
 *   npm run bench -- --resources 1000 --deployment
 *   npm run bench -- --schedule --resources 10000  (one schedule, one transition; ECS calls and status writes counted from it)
 *   npm run bench -- --fleet --resources 5000     (one EcsInstancePowerSet; scripts/bench-fleet.ts)
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { startTestCluster, type TestCluster } from '../test/support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../test/support/ecs-emulator/index.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../src/api/types.ts';
import { freePort, procStats, scrape, spawnController, sum } from './bench-support.ts';
import { runFleet } from './bench-fleet.ts';

const { values: args } = parseArgs({
  options: {
    resources: { type: 'string', default: '1000' },
    regions: { type: 'string', default: 'cn-hangzhou,cn-shanghai' },
    quota: { type: 'string', default: '20' },
    'stop-ms': { type: 'string', default: '3000' },
    'latency-ms': { type: 'string', default: '30' },
    modes: { type: 'string', default: 'batched,single' },
    'steady-seconds': { type: 'string', default: '12' },
    timeout: { type: 'string', default: '900' },
    deployment: { type: 'boolean', default: false },
    'controller-args': { type: 'string' },
    'node-options': { type: 'string' },
    // One schedule for every resource, one transition: time from the transition instant until all are Stopped.
    schedule: { type: 'boolean', default: false },
    // One EcsInstancePowerSet matching --resources tagged instances over --regions (scripts/bench-fleet.ts).
    fleet: { type: 'boolean', default: false },
    // --schedule: the transition instant, this many seconds after the schedule is created (before
    // the resources are); default N/100 + 40 s, time to create N resources and converge them Running.
    'transition-in': { type: 'string' },
  },
});
const N = Number(args.resources);
const REGIONS = args.regions.split(',');
const QUOTA = Number(args.quota);
const STOP_MS = Number(args['stop-ms']);
const LATENCY_MS = Number(args['latency-ms']);
const modes = (args.schedule ? ['batched'] : args.modes.split(',')) as Array<'batched' | 'single'>;
const SCHEDULE = 'bench-calendar';
const STEADY_S = Number(args['steady-seconds']);
/** The emulator's default: an accepted stop shows a moment later, as on ECS. */
const ACCEPT_LAG_MS = 1000;

/** The benchmark's usual additions to the flag defaults; --schedule runs the bare defaults (a transition is not found by polling). */
const USUAL_ARGS = '--poll-interval 500ms --resync-period 5s';

/** The Deployment's controller args and NODE_OPTIONS, as shipped. */
function deploymentSettings(): { args: string[]; nodeOptions: string | undefined } {
  const doc = parseYaml(readFileSync('deploy/deployment.yaml', 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ args?: string[]; env?: Array<{ name: string; value?: string }> }> } } };
  };
  const container = doc.spec.template.spec.containers[0]!;
  // Leader election and the listen addresses are the cluster's business, not the workload's.
  const workload = (container.args ?? []).filter((a) => !/^--(leader-elect|metrics-bind-address|health-probe-bind-address)\b/.test(a));
  return { args: workload, nodeOptions: container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value };
}

const settings = args.deployment
  ? deploymentSettings()
  : { args: (args['controller-args'] ?? (args.schedule ? '' : USUAL_ARGS)).split(/\s+/).filter(Boolean), nodeOptions: args['node-options'] };
const NODE_OPTIONS = args['node-options'] ?? settings.nodeOptions;

interface Result {
  mode: string;
  /** --schedule: CPU seconds the controller used while idle between transitions, and over how long. */
  idle?: { seconds: number; cpuSeconds: number };
  flags: string[];
  createSeconds: number;
  createRate: number;
  readySeconds: number;
  calls: Record<string, number>;
  throttled: number;
  statusWrites: number;
  peakRssMb: number;
  heapUsedMb: number;
  cpuSeconds: number;
  steady?: { seconds: number; describes: number; writes: number; statusWrites: number };
}

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
const regionOf = (i: number): string => REGIONS[i % REGIONS.length]!;

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
          body: {
            apiVersion: API_VERSION,
            kind: KIND,
            metadata: { name: `r${i}` },
            spec: { instanceId: `i-bench${i}`, regionId: regionOf(i), ...(args.schedule ? { scheduleRef: { name: SCHEDULE } } : { desiredState: 'Stopped' }) },
          },
        });
      }
    }),
  );
  return (performance.now() - t0) / 1000;
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
  const actions = ['DescribeInstances', 'StopInstance', 'StopInstances', 'StartInstance', 'StartInstances'];
  const emu = await startEcsEmulator({
    stopMs: STOP_MS,
    forceStopMs: Math.min(STOP_MS, 1000),
    latencyMs: LATENCY_MS,
    acceptLagMs: ACCEPT_LAG_MS,
    quotas: Object.fromEntries(actions.map((a) => [a, { perSecond: QUOTA, burst: QUOTA }])),
    maxRecordedCalls: 1_000_000,
  });
  for (let i = 0; i < N; i++) emu.addInstance({ instanceId: `i-bench${i}`, regionId: regionOf(i) });
  const api = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
  const scheduleSpec = (transition?: number) => ({
    timeZone: 'UTC',
    running: [{ from: '00:00', to: '00:00' }],
    ...(transition ? { exceptions: [{ from: new Date(transition).toISOString(), to: new Date(transition + 3_600_000).toISOString(), desiredState: 'Stopped' }] } : {}),
  });
  // The transition is in the schedule from the start: editing the schedule later would rewrite
  // every resource's status.nextTransitionTime just before the transition and measure that too.
  const transition = Math.ceil((Date.now() + Number(args['transition-in'] ?? Math.ceil(N / 100) + 40) * 1000) / 1000) * 1000;
  if (args.schedule) {
    await api.createNamespacedCustomObject({
      group: GROUP, version: VERSION, plural: 'ecspowerschedules', namespace: ns,
      body: { apiVersion: API_VERSION, kind: 'EcsPowerSchedule', metadata: { name: SCHEDULE }, spec: scheduleSpec(transition) },
    });
    log(`${mode}: schedule transition at ${new Date(transition).toISOString()}`);
  }
  log(`${mode}: creating ${N} resources`);
  const createSeconds = await createResources(cluster, ns);
  log(`${mode}: created in ${createSeconds.toFixed(1)} s (${(N / createSeconds).toFixed(0)} writes/s)`);

  const port = await freePort();
  const flags = [
    ...settings.args,
    ...(mode === 'single' ? ['--max-batch-size', '1'] : []),
  ];
  const child: ChildProcess = spawnController(
    [
      '--kubeconfig', cluster.kubeconfigPath,
      '--namespace', ns,
      '--ecs-endpoint', emu.url,
      '--metrics-bind-address', `127.0.0.1:${port}`,
      '--health-probe-bind-address', '0',
      '--log-level', 'error',
      ...flags,
    ],
    'inherit',
    NODE_OPTIONS,
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
  let readySeconds = (performance.now() - t0) / 1000;
  let idle: Result['idle'];
  let writesBeforeTransition = 0;
  let callsSince = 0;
  if (args.schedule) {
    // All Running on the calendar; nothing to do until the transition: the controller should idle.
    const idleUntil = transition - 2_000;
    if (Date.now() > idleUntil) throw new Error(`${mode}: all Running only ${((Date.now() - transition) / 1000).toFixed(1)} s after the transition; pass a larger --transition-in`);
    const cpuBefore = procStats(pid).cpu;
    const idleFrom = Date.now();
    await new Promise((r) => setTimeout(r, idleUntil - Date.now()));
    idle = { seconds: (Date.now() - idleFrom) / 1000, cpuSeconds: procStats(pid).cpu - cpuBefore };
    writesBeforeTransition = sum(await scrape(port), 'ecspower_status_writes_total');
    callsSince = transition;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      text = await scrape(port);
      if (Date.now() > transition && sum(text, 'ecspower_resources', { ready: 'True', desired_state: 'Stopped' }) >= N) break;
      if (Date.now() > deadline) throw new Error(`${mode}: not all Stopped before the timeout`);
    }
    readySeconds = (Date.now() - transition) / 1000;
  }
  const atReady = procStats(pid);
  const { calls, throttled } = countCalls(emu, callsSince);
  const statusWrites = sum(text, 'ecspower_status_writes_total') - writesBeforeTransition;
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
      describes: s['DescribeInstances'] ?? 0,
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
    flags,
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
    ...(idle ? { idle } : {}),
  };
}

const writesOf = (r: Result): number => (r.calls['StopInstance'] ?? 0) + (r.calls['StopInstances'] ?? 0) + (r.calls['StartInstance'] ?? 0) + (r.calls['StartInstances'] ?? 0);

function table(results: Result[]): string {
  const rows: Array<[string, (r: Result) => number, number]> = [
    [args.schedule ? 'time from the transition until all Stopped (s)' : 'time until all Ready (s)', (r) => r.readySeconds, 1],
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
  const pair = results.length === 2;
  const head = `| metric | ${results.map((r) => r.mode).join(' | ')}${pair ? ' | ratio (single / batched) |' : ' |'}`;
  const sep = `|---|${results.map(() => '---:').join('|')}|${pair ? '---:|' : ''}`;
  const lines = rows.map(([name, f, d]) => {
    const vals = results.map((r) => f(r).toFixed(d));
    const ratio = pair && f(results[0]!) > 0 ? ` ${(f(results[1]!) / f(results[0]!)).toFixed(1)}× |` : pair ? ' – |' : '';
    return `| ${name} | ${vals.join(' | ')} |${ratio}`;
  });
  const flagRow = `| controller flags | ${results.map((r) => (r.flags.length ? `\`${r.flags.join(' ')}\`` : '(defaults)')).join(' | ')} |${pair ? ' |' : ''}`;
  return [head, sep, flagRow, ...lines].join('\n');
}

async function main(): Promise<void> {
  log(`N=${N} over ${REGIONS.join(', ')}; quota ${QUOTA} calls/s per action and region; stop ${STOP_MS} ms; latency ${LATENCY_MS} ms`);
  const cluster = await startTestCluster();
  try {
    if (args.fleet) {
      const report = await runFleet(cluster, {
        n: N,
        regions: REGIONS,
        quota: QUOTA,
        stopMs: STOP_MS,
        latencyMs: LATENCY_MS,
        acceptLagMs: ACCEPT_LAG_MS,
        flags: settings.args,
        nodeOptions: NODE_OPTIONS,
        timeoutSeconds: Number(args.timeout),
      });
      console.log(`\n${report}`);
      return;
    }
    const results: Result[] = [];
    for (const m of modes) results.push(await runMode(cluster, m));
    const batched = results.find((r) => r.mode === 'batched');
    const single = results.find((r) => r.mode === 'single');
    const createRate = Math.min(...results.map((r) => r.createRate));
    const callsPerRegion = Math.ceil(N / REGIONS.length / 100);
    const ecsFloor = callsPerRegion / QUOTA + (ACCEPT_LAG_MS + STOP_MS) / 1000;
    const writeFloor = N / createRate;
    const limit = Math.max(ecsFloor, writeFloor);
    console.log(`\n### ecs-power benchmark: ${N} resources over ${REGIONS.length} regions${args.schedule ? ', one schedule transition' : ''}\n`);
    console.log(`Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``);
    console.log(`Controller NODE_OPTIONS: ${NODE_OPTIONS ? `\`${NODE_OPTIONS}\`` : '(none)'}; every other flag at its default.`);
    console.log(
      `Emulator: quota ${QUOTA} calls/s per action and region, ${LATENCY_MS} ms per call, accepted stops show after ${ACCEPT_LAG_MS} ms, graceful stop ${STOP_MS} ms.\n`,
    );
    console.log(table(results));
    console.log(
      `\nPhysical limit: max(ECS floor ${ecsFloor.toFixed(1)} s = ${callsPerRegion} batched calls per region at ${QUOTA}/s + ${(ACCEPT_LAG_MS + STOP_MS) / 1000} s to stop, ` +
        `write floor ${writeFloor.toFixed(1)} s = ${N} status writes at the API server's measured ${createRate.toFixed(0)} writes/s) = ${limit.toFixed(1)} s.`,
    );
    if (batched) console.log(`Batched time / limit: ${(batched.readySeconds / limit).toFixed(2)}.`);
    if (batched && single) {
      console.log(
        `Per-instance / batched: ${(single.readySeconds / batched.readySeconds).toFixed(1)}× the time, ${(writesOf(single) / Math.max(1, writesOf(batched))).toFixed(0)}× the write calls.`,
      );
    }
    for (const r of results) {
      if (r.idle) {
        console.log(`Between transitions (${r.idle.seconds.toFixed(1)} s, all converged, nothing due): ${r.idle.cpuSeconds.toFixed(2)} CPU-seconds (${((r.idle.cpuSeconds / r.idle.seconds) * 1000).toFixed(0)} millicores).`);
      }
      if (!r.steady) continue;
      const perHour = (n: number): number => (n / r.steady!.seconds) * 3600;
      console.log(
        `Steady state (${r.mode}, all converged, ${r.steady.seconds} s): ${r.steady.describes} describe calls, ${r.steady.writes} ECS write calls, ` +
          `${r.steady.statusWrites} status writes (≈ ${perHour(r.steady.writes).toFixed(0)} write calls/hour, ${perHour(r.steady.statusWrites).toFixed(0)} status writes/hour).`,
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
