/**
 * Starts the ECS emulator from the command line, for the demo and the benchmark.
 *
 *   node --import tsx test/support/ecs-emulator/cli.ts --port 9000 --instances 50 --region cn-hangzhou \
 *     --stop-ms 5000 --quota StopInstance=10 --quota DescribeInstances=100/min --tag env=dev
 *
 * Prints one JSON line on stdout once listening:
 *   {"endpoint":"127.0.0.1:9000","url":"http://127.0.0.1:9000","region":"cn-hangzhou","instances":["i-emu000001",...],"accessKeyId":"test-ak"}
 * Instances are named i-emu000001, i-emu000002, …; the admin API lives under /_emulator/ (see admin.ts).
 * Stops on SIGINT/SIGTERM. A bad flag exits 2.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ACCEPT_LAG_MS, DEFAULT_TAG_FILTER_LIMIT, startEcsEmulator } from './index.ts';
import type { Quota, ThrottlingCode } from './index.ts';

function fail(msg: string): never {
  process.stderr.write(`ecs-emulator: ${msg}\n`);
  process.exit(2);
}

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = v === 'Infinity' ? Infinity : Number(v);
  if (Number.isNaN(n) || n < 0) fail(`--${name}: not a non-negative number: ${v}`);
  return n;
}

const USAGE =
  'usage: cli.ts [--port N] [--host ADDR] [--instances N] [--region R] [--status Running|Stopped]\n' +
  '              [--instance-type T] [--tag KEY=VALUE]... [--hibernation-configured]\n' +
  '              [--stop-ms MS] [--force-stop-ms MS] [--start-ms MS] [--accept-lag-ms MS] [--describe-lag-ms MS]\n' +
  '              [--latency-ms MS] [--tag-filter-limit N|Infinity]\n' +
  '              [--quota ACTION=QPS[:BURST]]... [--quota ACTION=N/min[:CODE]]...\n' +
  '              [--access-key-id ID] [--access-key-secret S] [--max-recorded-calls N]\n' +
  '  --quota ACTION=QPS[:BURST]   token bucket, throttled calls carry x-acs-retry-after\n' +
  '  --quota ACTION=N/min[:CODE]  N calls per calendar minute, then CODE (Throttling.User, Throttling\n' +
  '                               or Throttling.Api; default Throttling.User) without x-acs-retry-after\n';

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      instances: { type: 'string', default: '0' },
      region: { type: 'string', default: 'cn-hangzhou' },
      status: { type: 'string', default: 'Running' },
      'instance-type': { type: 'string' },
      tag: { type: 'string', multiple: true, default: [] },
      'hibernation-configured': { type: 'boolean', default: false },
      'stop-ms': { type: 'string' },
      'force-stop-ms': { type: 'string' },
      'start-ms': { type: 'string' },
      'accept-lag-ms': { type: 'string' },
      'describe-lag-ms': { type: 'string' },
      'latency-ms': { type: 'string' },
      'tag-filter-limit': { type: 'string' },
      quota: { type: 'string', multiple: true, default: [] },
      'access-key-id': { type: 'string', default: 'test-ak' },
      'access-key-secret': { type: 'string', default: 'test-secret' },
      'max-recorded-calls': { type: 'string', default: '100000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const THROTTLING_CODES: readonly string[] = ['Throttling.User', 'Throttling', 'Throttling.Api'];

function parseQuota(q: string): [string, Quota] {
  const win = /^([A-Za-z]+)=(\d+)\/min(?::([A-Za-z.]+))?$/.exec(q);
  if (win?.[1] && win[2]) {
    const code = win[3];
    if (code !== undefined && !THROTTLING_CODES.includes(code)) fail(`--quota: CODE must be one of ${THROTTLING_CODES.join(', ')}, got ${code}`);
    return [win[1], { perMinute: Number(win[2]), ...(code ? { code: code as ThrottlingCode } : {}) }];
  }
  const bucket = /^([A-Za-z]+)=(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(q);
  if (!bucket?.[1] || !bucket[2]) fail(`--quota: expected ACTION=QPS[:BURST] or ACTION=N/min[:CODE], got ${q}`);
  return [bucket[1], bucket[3] ? { perSecond: Number(bucket[2]), burst: Number(bucket[3]) } : { perSecond: Number(bucket[2]) }];
}

const quotas: Record<string, Quota> = {};
for (const q of values.quota) {
  const [action, quota] = parseQuota(q);
  quotas[action] = quota;
}
const tags: Record<string, string> = {};
for (const t of values.tag) {
  const eq = t.indexOf('=');
  if (eq <= 0) fail(`--tag: expected KEY=VALUE, got ${t}`);
  tags[t.slice(0, eq)] = t.slice(eq + 1);
}
const status = values.status;
if (status !== 'Running' && status !== 'Stopped') fail(`--status: Running or Stopped, got ${status}`);

let emu;
try {
  emu = await startEcsEmulator({
    port: num('port', values.port, 0),
    host: values.host,
    stopMs: num('stop-ms', values['stop-ms'], 2000),
    forceStopMs: num('force-stop-ms', values['force-stop-ms'], 300),
    startMs: num('start-ms', values['start-ms'], 1000),
    acceptLagMs: num('accept-lag-ms', values['accept-lag-ms'], DEFAULT_ACCEPT_LAG_MS),
    describeLagMs: num('describe-lag-ms', values['describe-lag-ms'], 0),
    latencyMs: num('latency-ms', values['latency-ms'], 0),
    tagFilterLimit: num('tag-filter-limit', values['tag-filter-limit'], DEFAULT_TAG_FILTER_LIMIT),
    quotas,
    accessKeys: [{ accessKeyId: values['access-key-id'], accessKeySecret: values['access-key-secret'] }],
    maxRecordedCalls: num('max-recorded-calls', values['max-recorded-calls'], 100000),
  });
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}

const count = num('instances', values.instances, 0);
const ids: string[] = [];
for (let i = 1; i <= count; i++) {
  const id = `i-emu${String(i).padStart(6, '0')}`;
  emu.addInstance({
    instanceId: id,
    regionId: values.region,
    status,
    tags,
    hibernationConfigured: values['hibernation-configured'],
    ...(values['instance-type'] ? { instanceType: values['instance-type'] } : {}),
  });
  ids.push(id);
}

process.stdout.write(
  `${JSON.stringify({ endpoint: emu.endpoint, url: emu.url, region: values.region, instances: ids, accessKeyId: values['access-key-id'] })}\n`,
);

const stop = (): void => {
  void emu.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
