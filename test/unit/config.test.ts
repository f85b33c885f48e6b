// Command-line flags: API.md's table, the syntaxes controller-runtime users type, and exit 2.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlagError, parseFlags } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function flagError(argv: string[], env: NodeJS.ProcessEnv = {}): FlagError {
  try {
    parseFlags(argv, { env });
  } catch (err) {
    assert.ok(err instanceof FlagError, `expected a FlagError, got ${String(err)}`);
    return err;
  }
  assert.fail(`parseFlags(${JSON.stringify(argv)}) accepted`);
}

describe('parseFlags()', () => {
  describe('defaults (API.md "Command line")', () => {
    const c = parseFlags([], { env: {} });
    const table: Array<[keyof Config, unknown]> = [
      ['kubeconfig', undefined],
      ['namespace', undefined],
      ['selector', undefined],
      ['metricsBindAddress', ':8080'],
      ['healthProbeBindAddress', ':8081'],
      ['leaderElect', false],
      ['leaderElectionId', 'ecs-power-controller'],
      ['leaderElectionNamespace', 'ecs-power-system'],
      ['kubeApiTimeoutMs', 30_000],
      ['defaultCredentialsNamespaces', undefined],
      ['maxConcurrentReconciles', 10],
      ['ecsEndpoint', undefined],
      ['pollIntervalMs', 5000],
      ['resyncPeriodMs', 600_000],
      ['logLevel', 'info'],
      ['logFormat', 'json'],
      ['maxOverrideDurationMs', 168 * 3600_000],
    ];
    for (const [key, want] of table) {
      it(`${key} = ${JSON.stringify(want)}`, () => assert.equal(c[key], want));
    }
    it('$KUBECONFIG is left to the kubeconfig loader (it may list several files)', () => {
      assert.equal(parseFlags([], { env: { KUBECONFIG: '/a/config:/b/config' } }).kubeconfig, undefined);
      assert.equal(parseFlags(['--kubeconfig', '/other'], { env: { KUBECONFIG: '/a/config' } }).kubeconfig, '/other');
    });
  });

  describe('every flag, in both --flag=value and --flag value', () => {
    const table: Array<{ flag: string; value: string; key: keyof Config; want: unknown }> = [
      { flag: 'kubeconfig', value: '/etc/kube.yaml', key: 'kubeconfig', want: '/etc/kube.yaml' },
      { flag: 'namespace', value: 'team-a', key: 'namespace', want: 'team-a' },
      { flag: 'selector', value: 'shard=1,tier!=db', key: 'selector', want: 'shard=1,tier!=db' },
      { flag: 'metrics-bind-address', value: '127.0.0.1:9090', key: 'metricsBindAddress', want: '127.0.0.1:9090' },
      { flag: 'metrics-bind-address', value: '0', key: 'metricsBindAddress', want: '0' },
      { flag: 'health-probe-bind-address', value: '[::1]:8082', key: 'healthProbeBindAddress', want: '[::1]:8082' },
      { flag: 'leader-elect', value: 'true', key: 'leaderElect', want: true },
      { flag: 'leader-election-id', value: 'my-lease', key: 'leaderElectionId', want: 'my-lease' },
      { flag: 'leader-election-namespace', value: 'ops', key: 'leaderElectionNamespace', want: 'ops' },
      { flag: 'max-concurrent-reconciles', value: '25', key: 'maxConcurrentReconciles', want: 25 },
      { flag: 'ecs-endpoint', value: 'http://127.0.0.1:9000', key: 'ecsEndpoint', want: 'http://127.0.0.1:9000' },
      { flag: 'ecs-endpoint', value: 'https://ecs-vpc.cn-hangzhou.aliyuncs.com', key: 'ecsEndpoint', want: 'https://ecs-vpc.cn-hangzhou.aliyuncs.com' },
      { flag: 'poll-interval', value: '500ms', key: 'pollIntervalMs', want: 500 },
      { flag: 'poll-interval', value: '2s', key: 'pollIntervalMs', want: 2000 },
      { flag: 'resync-period', value: '1h30m', key: 'resyncPeriodMs', want: 5_400_000 },
      { flag: 'resync-period', value: '10m', key: 'resyncPeriodMs', want: 600_000 },
      { flag: 'resync-period', value: '1.5h', key: 'resyncPeriodMs', want: 5_400_000 },
      { flag: 'log-level', value: 'debug', key: 'logLevel', want: 'debug' },
      { flag: 'log-level', value: 'error', key: 'logLevel', want: 'error' },
      { flag: 'log-level', value: 'warn', key: 'logLevel', want: 'warn' },
      { flag: 'kube-api-timeout', value: '45s', key: 'kubeApiTimeoutMs', want: 45_000 },
      { flag: 'default-credentials-namespaces', value: 'ops', key: 'defaultCredentialsNamespaces', want: ['ops'] },
      { flag: 'default-credentials-namespaces', value: 'ops,platform', key: 'defaultCredentialsNamespaces', want: ['ops', 'platform'] },
      { flag: 'log-format', value: 'text', key: 'logFormat', want: 'text' },
      { flag: 'max-override-duration', value: '12h', key: 'maxOverrideDurationMs', want: 12 * 3600_000 },
      { flag: 'max-override-duration', value: '720h', key: 'maxOverrideDurationMs', want: 720 * 3600_000 },
      { flag: 'max-batch-size', value: '1', key: 'maxBatchSize', want: 1 },
      { flag: 'batch-window', value: '0', key: 'batchWindowMs', want: 0 },
      { flag: 'ecs-qps', value: '2.5', key: 'ecsQps', want: 2.5 },
      { flag: 'ecs-burst', value: '20', key: 'ecsBurst', want: 20 },
      { flag: 'ecs-timeout', value: '3s', key: 'ecsTimeoutMs', want: 3000 },
      { flag: 'terminal-recheck-period', value: '15m', key: 'terminalRecheckMs', want: 900_000 },
      { flag: 'shutdown-timeout', value: '0', key: 'shutdownTimeoutMs', want: 0 },
    ];
    for (const r of table) {
      it(`--${r.flag} ${r.value}`, () => {
        assert.deepEqual(parseFlags([`--${r.flag}=${r.value}`], { env: {} })[r.key], r.want, '--flag=value');
        // A boolean takes no separate value (`--leader-elect true` is a bare flag and a stray argument), as in pflag.
        if (typeof r.want !== 'boolean') assert.deepEqual(parseFlags([`--${r.flag}`, r.value], { env: {} })[r.key], r.want, '--flag value');
      });
    }
  });

  describe('booleans', () => {
    const table: Array<{ argv: string[]; want: boolean }> = [
      { argv: ['--leader-elect'], want: true },
      { argv: ['--leader-elect=true'], want: true },
      { argv: ['--leader-elect=false'], want: false },
      { argv: ['--leader-elect', '--leader-elect=false'], want: false },
      { argv: ['--leader-elect=false', '--leader-elect'], want: true },
    ];
    for (const r of table) {
      it(`${r.argv.join(' ')} -> ${r.want}`, () => assert.equal(parseFlags(r.argv, { env: {} }).leaderElect, r.want));
    }
    it('a bare boolean does not swallow the next flag', () => {
      const c = parseFlags(['--leader-elect', '--namespace', 'ns1'], { env: {} });
      assert.equal(c.leaderElect, true);
      assert.equal(c.namespace, 'ns1');
    });
    it('the Lease namespace: the flag, else $POD_NAMESPACE, else the pod\'s namespace file, else ecs-power-system', () => {
      const podNamespace = (): string => 'from-file';
      assert.equal(parseFlags(['--leader-elect', '--leader-election-namespace=ops'], { env: { POD_NAMESPACE: 'x' }, podNamespace }).leaderElectionNamespace, 'ops');
      assert.equal(parseFlags(['--leader-elect'], { env: { POD_NAMESPACE: 'team-ops' }, podNamespace }).leaderElectionNamespace, 'team-ops');
      assert.equal(parseFlags(['--leader-elect'], { env: {}, podNamespace }).leaderElectionNamespace, 'from-file');
      assert.equal(parseFlags(['--leader-elect'], { env: {}, podNamespace: () => undefined }).leaderElectionNamespace, 'ecs-power-system');
    });
  });

  it('several flags together, later ones winning', () => {
    const c = parseFlags(['--namespace=a', '--poll-interval', '1s', '--leader-elect', '--namespace', 'b', '--max-concurrent-reconciles=3'], { env: {} });
    assert.equal(c.namespace, 'b');
    assert.equal(c.pollIntervalMs, 1000);
    assert.equal(c.leaderElect, true);
    assert.equal(c.maxConcurrentReconciles, 3);
  });

  describe('bad input -> FlagError naming the flag', () => {
    const table: Array<{ argv: string[]; names: string }> = [
      { argv: ['--nope'], names: '--nope' },
      { argv: ['--nope=1'], names: '--nope' },
      { argv: ['--poll-interval=fast'], names: '--poll-interval' },
      { argv: ['--poll-interval=5'], names: '--poll-interval' },
      { argv: ['--poll-interval='], names: '--poll-interval' },
      { argv: ['--poll-interval=-5s'], names: '--poll-interval' },
      { argv: ['--poll-interval=1ms'], names: '--poll-interval' },
      { argv: ['--resync-period=10 m'], names: '--resync-period' },
      { argv: ['--resync-period=10min'], names: '--resync-period' },
      { argv: ['--max-concurrent-reconciles=0'], names: '--max-concurrent-reconciles' },
      { argv: ['--max-concurrent-reconciles=ten'], names: '--max-concurrent-reconciles' },
      { argv: ['--max-concurrent-reconciles=2.5'], names: '--max-concurrent-reconciles' },
      { argv: ['--max-concurrent-reconciles=-1'], names: '--max-concurrent-reconciles' },
      { argv: ['--max-batch-size=101'], names: '--max-batch-size' },
      { argv: ['--ecs-qps=0'], names: '--ecs-qps' },
      { argv: ['--ecs-qps=lots'], names: '--ecs-qps' },
      { argv: ['--leader-elect=yes'], names: '--leader-elect' },
      { argv: ['--metrics-bind-address=8080'], names: '--metrics-bind-address' },
      { argv: ['--metrics-bind-address=:99999'], names: '--metrics-bind-address' },
      { argv: ['--health-probe-bind-address=localhost'], names: '--health-probe-bind-address' },
      { argv: ['--log-level=verbose'], names: '--log-level' },
      { argv: ['--log-format=yaml'], names: '--log-format' },
      { argv: ['--default-credentials-namespaces=ops,,x'], names: '--default-credentials-namespaces' },
      { argv: ['--default-credentials-namespaces=Team_A'], names: '--default-credentials-namespaces' },
      { argv: ['--kube-api-timeout=100ms'], names: '--kube-api-timeout' },
      { argv: ['--max-override-duration=7d'], names: '--max-override-duration' },
      { argv: ['--max-override-duration=0'], names: '--max-override-duration' },
      { argv: ['--namespace'], names: '--namespace' },
      { argv: ['--poll-interval'], names: '--poll-interval' },
      { argv: ['--leader-election-renew-deadline=20s'], names: '--leader-election-renew-deadline' },
    ];
    for (const r of table) {
      it(`${r.argv.join(' ')}`, () => {
        const e = flagError(r.argv);
        assert.ok(e.message.includes(r.names), `"${e.message}" does not name ${r.names}`);
        assert.doesNotMatch(e.message, /\n/, 'one line');
      });
    }
    it('a stray positional argument is refused', () => {
      assert.match(flagError(['stray']).message, /stray/);
      assert.match(flagError(['--leader-elect', 'false']).message, /false/);
    });
  });
});

describe('node dist/main.js with a bad flag', function () {
  this.timeout(60_000);
  const main = join(ROOT, 'dist', 'main.js');
  before(function () {
    if (existsSync(main)) return;
    this.timeout(120_000);
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}` } });
    assert.equal(b.status, 0, `npm run build failed: ${b.stderr}`);
  });

  const table: Array<{ argv: string[]; names: string }> = [
    { argv: ['--nope'], names: '--nope' },
    { argv: ['--poll-interval=soon'], names: '--poll-interval' },
  ];
  // Both processes run at once (each takes about a second to load the Kubernetes client).
  const runs = new Map<string, Promise<{ status: number | null; stdout: string; stderr: string }>>();
  before(() => {
    for (const r of table) runs.set(r.argv.join(' '), run(r.argv));
  });
  function run(argv: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [main, ...argv], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', KUBECONFIG: '/nonexistent', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  for (const r of table) {
    it(`${r.argv.join(' ')}: exit status 2, exactly one line on stderr naming ${r.names}, nothing on stdout`, async () => {
      const p = await runs.get(r.argv.join(' '))!;
      assert.equal(p.status, 2, `status ${p.status}, stderr ${p.stderr}`);
      const lines = p.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, p.stderr);
      assert.ok(p.stderr.endsWith('\n'));
      assert.ok(lines[0]!.includes(r.names), lines[0]);
      assert.equal(p.stdout, '');
    });
  }
});
