/**
 * `npm run bench -- --fleet --resources N`: one EcsInstancePowerSet matching N tagged instances
 * spread over the regions (plus 5% untagged ones), created before the controller starts. Measures
 * the discovery calls per region of one refresh (from the controller's own log line, checked
 * against the emulator's record), the time until every member is Ready and the set says
 * AllReady, against the physical limit, and the controller's peak RSS.
 */
import { createInterface } from 'node:readline';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { TestCluster } from '../test/support/cluster.ts';
import { startEcsEmulator } from '../test/support/ecs-emulator/index.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../src/api/types.ts';
import { SET_KIND, SET_PLURAL, type EcsInstancePowerSet } from '../src/api/powerset-types.ts';
import { freePort, procStats, scrape, spawnController, sum } from './bench-support.ts';

export interface FleetOptions {
  n: number;
  regions: string[];
  quota: number;
  stopMs: number;
  latencyMs: number;
  acceptLagMs: number;
  flags: string[];
  nodeOptions: string | undefined;
  timeoutSeconds: number;
}

type Calls = Record<string, { describeInstances: number; listTagResources: number }>;

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
const TAGS = { fleet: 'bench', env: 'dev' };

/** Runs the fleet mode and returns its markdown report. */
export async function runFleet(cluster: TestCluster, o: FleetOptions): Promise<string> {
  const ns = `bench-fleet-${Date.now() % 100000}`;
  await cluster.kubectl(['create', 'namespace', ns]);
  const writeRate = await measureWrites(cluster, Math.min(o.n, 2000));
  log(`the API server takes ${writeRate.toFixed(0)} EcsInstancePower writes/s`);
  const actions = ['DescribeInstances', 'ListTagResources', 'StopInstance', 'StopInstances', 'StartInstance', 'StartInstances'];
  const emu = await startEcsEmulator({
    stopMs: o.stopMs,
    forceStopMs: Math.min(o.stopMs, 1000),
    latencyMs: o.latencyMs,
    acceptLagMs: o.acceptLagMs,
    quotas: Object.fromEntries(actions.map((a) => [a, { perSecond: o.quota, burst: o.quota }])),
    maxRecordedCalls: 1_000_000,
  });
  const perRegion = new Map<string, number>();
  for (let i = 0; i < o.n; i++) {
    const regionId = o.regions[i % o.regions.length]!;
    perRegion.set(regionId, (perRegion.get(regionId) ?? 0) + 1);
    emu.addInstance({ instanceId: `i-fleet${i}`, regionId, tags: { ...TAGS, index: String(i) } });
  }
  for (let i = 0; i < Math.ceil(o.n / 20); i++) emu.addInstance({ instanceId: `i-other${i}`, regionId: o.regions[i % o.regions.length]!, tags: { env: 'dev' } });

  const api = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: SET_PLURAL,
    namespace: ns,
    body: { apiVersion: API_VERSION, kind: SET_KIND, metadata: { name: 'fleet' }, spec: { regionIds: o.regions, tags: TAGS, template: { spec: { desiredState: 'Stopped' } } } },
  });

  const port = await freePort();
  const child = spawnController(
    ['--kubeconfig', cluster.kubeconfigPath, '--namespace', ns, '--ecs-endpoint', emu.url, '--metrics-bind-address', `127.0.0.1:${port}`, '--health-probe-bind-address', '0', '--log-level', 'info', ...o.flags],
    'pipe',
    o.nodeOptions,
  );
  const discoveries: Calls[] = [];
  // The log (JSON lines on stderr): the discovery lines are kept, errors shown, the rest dropped.
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.includes('"instances discovered"')) discoveries.push((JSON.parse(line) as { calls: Calls }).calls);
    else if (!line.startsWith('{') || line.includes('"level":"error"')) process.stderr.write(`${line}\n`);
  });
  const pid = child.pid!;
  const t0 = performance.now();
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  let text = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    text = await scrape(port).catch(() => '');
    const set = (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: SET_PLURAL, namespace: ns, name: 'fleet' })) as EcsInstancePowerSet;
    const ready = set.status?.conditions?.find((c) => c.type === 'Ready');
    if (sum(text, 'ecspower_resources', { ready: 'True' }) >= o.n && ready?.status === 'True' && ready.reason === 'AllReady') break;
    if (Date.now() > deadline) throw new Error(`fleet: ${sum(text, 'ecspower_resources', { ready: 'True' })}/${o.n} members Ready before the timeout`);
  }
  const readySeconds = (performance.now() - t0) / 1000;
  const stats = procStats(pid);
  const heapMb = sum(text, 'nodejs_heap_size_used_bytes') / 1024 / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const first = discoveries[0] ?? {};
  const tagged = (region: string) => emu.calls.filter((c) => c.action === 'DescribeInstances' && c.params.RegionId === region && c.params['Tag.1.Key'] !== undefined).length;
  const writes = emu.calls.filter((c) => /^(Stop|Start)Instances?$/.test(c.action)).length;
  await emu.close();
  void cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);

  // The floor: discovery's pages one after another (each at least one call's latency, and the
  // quota), then the larger of the stops (batches per region at the quota, plus the stop) and
  // the API server writing each member and its status once.
  const pages = Math.max(...o.regions.map((r) => (first[r]?.describeInstances ?? 0) + (first[r]?.listTagResources ?? 0)));
  const discoveryFloor = (pages * o.latencyMs) / 1000;
  const largest = Math.max(...perRegion.values());
  const stopFloor = Math.ceil(largest / 100) / o.quota + (o.acceptLagMs + o.stopMs) / 1000;
  const writeFloor = (2 * o.n) / writeRate;
  const limit = discoveryFloor + Math.max(stopFloor, writeFloor);
  const rows = o.regions.map((r) => {
    const c = first[r] ?? { describeInstances: 0, listTagResources: 0 };
    const n = perRegion.get(r) ?? 0;
    return `| ${r} | ${n} | ${c.describeInstances} | ${Math.ceil(n / 100)} | ${c.listTagResources} | ${tagged(r)} |`;
  });
  return [
    `### ecs-power benchmark: one EcsInstancePowerSet matching ${o.n} instances over ${o.regions.length} regions\n`,
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``,
    `Controller flags: ${o.flags.length ? `\`${o.flags.join(' ')}\`` : '(defaults)'}; NODE_OPTIONS: ${o.nodeOptions ? `\`${o.nodeOptions}\`` : '(none)'}.`,
    `Emulator: quota ${o.quota} calls/s per action and region, ${o.latencyMs} ms per call, accepted stops show after ${o.acceptLagMs} ms, graceful stop ${o.stopMs} ms; ${Math.ceil(o.n / 20)} untagged instances besides.\n`,
    '| region | matching instances | DescribeInstances in the first discovery | ceil(n/100) | ListTagResources pages | of them tag-filtered DescribeInstances |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Discoveries logged: ${discoveries.length}. Time until all ${o.n} members Ready and the set AllReady: ${readySeconds.toFixed(1)} s.`,
    `Physical limit: discovery ${discoveryFloor.toFixed(1)} s (${pages} pages one after another at ${o.latencyMs} ms) + max(stops ${stopFloor.toFixed(1)} s, ` +
      `writes ${writeFloor.toFixed(1)} s = ${2 * o.n} member and status writes at the API server's measured ${writeRate.toFixed(0)} writes/s) = ${limit.toFixed(1)} s; ` +
      `time / limit: ${(readySeconds / limit).toFixed(2)}.`,
    `ECS write calls: ${writes}. Controller peak RSS ${stats.hwmMb.toFixed(0)} MB, V8 heap used when all Ready ${heapMb.toFixed(0)} MB, CPU ${stats.cpu.toFixed(1)} s.`,
  ].join('\n');
}

/** Writes/s the API server takes: `count` EcsInstancePowers created 64 at a time in a namespace nobody watches. */
async function measureWrites(cluster: TestCluster, count: number): Promise<number> {
  const ns = `bench-writes-${Date.now() % 100000}`;
  await cluster.kubectl(['create', 'namespace', ns]);
  const api = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const body = { apiVersion: API_VERSION, kind: KIND, metadata: { name: `w${i}` }, spec: { instanceId: `i-w${i}`, regionId: 'cn-hangzhou', desiredState: 'Stopped' } };
        await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, body });
      }
    }),
  );
  const rate = count / ((performance.now() - t0) / 1000);
  void cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
  return rate;
}
