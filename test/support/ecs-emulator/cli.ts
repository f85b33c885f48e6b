/**
 * Starts the ECS emulator from the command line, for the demo and the benchmark.
 *
 *   node --import tsx test/support/ecs-emulator/cli.ts --port 9000 --instances 50 --region cn-hangzhou \
 *     --stop-ms 5000 --quota StopInstance=10 --quota DescribeInstanceStatus=20:40
 *
 * Prints one JSON line on stdout once listening:
 *   {"endpoint":"127.0.0.1:9000","url":"http://127.0.0.1:9000","region":"cn-hangzhou","instances":["i-emu000001",...],"accessKeyId":"test-ak"}
 * Instances are named i-emu000001, i-emu000002, …; the admin API lives under /_emulator/ (see server.ts).
 * Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEcsEmulator } from './index.ts';
import type { Quota } from './index.ts';

function fail(msg: string): never {
  process.stderr.write(`ecs-emulator: ${msg}\n`);
  process.exit(2);
}

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${name}: not a non-negative number: ${v}`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      instances: { type: 'string', default: '0' },
      region: { type: 'string', default: 'cn-hangzhou' },
      status: { type: 'string', default: 'Running' },
      'stop-ms': { type: 'string' },
      'force-stop-ms': { type: 'string' },
      'start-ms': { type: 'string' },
      'latency-ms': { type: 'string' },
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
  process.stdout.write(
    'usage: cli.ts [--port N] [--host ADDR] [--instances N] [--region R] [--status Running|Stopped]\n' +
      '              [--stop-ms MS] [--force-stop-ms MS] [--start-ms MS] [--latency-ms MS]\n' +
      '              [--quota ACTION=QPS[:BURST]]... [--access-key-id ID] [--access-key-secret S]\n',
  );
  process.exit(0);
}

const quotas: Record<string, Quota> = {};
for (const q of values.quota) {
  const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(q);
  if (!m || !m[1] || !m[2]) fail(`--quota: expected ACTION=QPS[:BURST], got ${q}`);
  quotas[m[1]] = m[3] ? { perSecond: Number(m[2]), burst: Number(m[3]) } : { perSecond: Number(m[2]) };
}
const status = values.status;
if (status !== 'Running' && status !== 'Stopped') fail(`--status: Running or Stopped, got ${status}`);

const emu = await startEcsEmulator({
  port: num('port', values.port, 0),
  host: values.host,
  stopMs: num('stop-ms', values['stop-ms'], 2000),
  forceStopMs: num('force-stop-ms', values['force-stop-ms'], 300),
  startMs: num('start-ms', values['start-ms'], 1000),
  latencyMs: num('latency-ms', values['latency-ms'], 0),
  quotas,
  accessKeys: [{ accessKeyId: values['access-key-id'], accessKeySecret: values['access-key-secret'] }],
  maxRecordedCalls: num('max-recorded-calls', values['max-recorded-calls'], 100000),
});

const count = num('instances', values.instances, 0);
const ids: string[] = [];
for (let i = 1; i <= count; i++) {
  const id = `i-emu${String(i).padStart(6, '0')}`;
  emu.addInstance({ instanceId: id, regionId: values.region, status });
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
