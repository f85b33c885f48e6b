// The controller as a real child process (`node dist/main.js FLAGS`), the way the container runs
// it: for tests that need signals, exit codes, two processes competing for a Lease, or /proc
// measurements.
//
//   const c = await startControllerProcess({ args: ['--kubeconfig', path, '--leader-elect'], name: 'a' });
//   await c.waitForLog(/"msg":"became leader"/);
//   await c.waitForHttp(`${c.healthUrl}/readyz`, 200);
//   c.kill('SIGTERM'); const { code } = await c.exited;
//   await c.stop(); // SIGTERM, SIGKILL after a grace period; always safe to call (use it in after())
//
// Every process started here is also SIGKILLed when the test process exits (exit hook, and
// setpriv's parent-death signal where util-linux has it), so a failed or killed run leaves none.
// Metrics and health ports are picked free unless given. dist/ is rebuilt (tsc) once per test
// process if it is missing or older than src/ (`npm test` builds it anyway in `pretest`).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN_JS = join(REPO_ROOT, 'dist/main.js');

/** Node 24 from the `node` devDependency if present (system Node may be too old), else this process's. */
export const NODE_BIN = ((): string => {
  const local = join(REPO_ROOT, 'node_modules/.bin/node');
  return existsSync(local) ? local : process.execPath;
})();

/** The emulator's default key pair, and no ECS metadata lookups (the credential chain's last resort). */
export const TEST_ECS_CREDENTIALS_ENV: Readonly<Record<string, string>> = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'test-ak',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret',
  ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
};

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const DEFAULT_WAIT_MS = 20_000;
const DEFAULT_STOP_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Build

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

let built = false;

/** Runs `tsc -p tsconfig.build.json` once per process when dist/main.js is missing or older than src/. */
export function ensureBuilt(): void {
  if (built) return;
  const stale = !existsSync(MAIN_JS) || statSync(MAIN_JS).mtimeMs < newestMtime(join(REPO_ROOT, 'src'));
  if (stale) {
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(NODE_BIN, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building dist/ failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  built = true;
}

// ---------------------------------------------------------------------------------------------
// Processes

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ControllerProcessOptions {
  /** Controller flags. `--metrics-bind-address` / `--health-probe-bind-address` are added unless present. */
  args: string[];
  /** Added to a minimal environment (PATH, HOME) plus TEST_ECS_CREDENTIALS_ENV unless `defaultCredentials: false`. */
  env?: Record<string, string>;
  /** Default true: start from TEST_ECS_CREDENTIALS_ENV. */
  defaultCredentials?: boolean;
  /** Label in error messages. */
  name?: string;
  /** Echo the process's output to this process's stderr, prefixed with the name (debugging). */
  echo?: boolean;
  /** The program and its leading arguments; default `[NODE_BIN, MAIN_JS]` (after ensureBuilt). */
  command?: string[];
  /** Add free `--metrics-bind-address` / `--health-probe-bind-address` flags; default true unless `command` is given. */
  probePorts?: boolean;
}

export interface ControllerProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT` of /metrics, or undefined when the args disabled it or chose their own. */
  readonly metricsUrl: string | undefined;
  /** `http://127.0.0.1:PORT` of /healthz and /readyz, likewise. */
  readonly healthUrl: string | undefined;
  /** Every output line so far, stdout and stderr interleaved as they arrived. */
  readonly lines: string[];
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  /** JSON log lines parsed (lines that are not JSON are skipped). */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first line (seen already or later) matching; rejects on timeout or exit. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Polls `url` until it answers `status`; rejects on timeout or exit (with the output's tail). */
  waitForHttp(url: string, status: number, timeoutMs?: number): Promise<void>;
  /** GET `url`: status and body, or status 0 when nothing answers. */
  get(url: string): Promise<{ status: number; body: string }>;
  /** The /metrics text (requires metricsUrl). */
  metrics(): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  readonly exited: Promise<Exit>;
  isRunning(): boolean;
  /** SIGTERM, SIGKILL after `graceMs`; resolves with how it ended. No-op if it already has. */
  stop(graceMs?: number): Promise<Exit>;
  /** The last `n` output lines, for assertion messages. */
  tail(n?: number): string;
}

const hasFlag = (args: string[], flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** Starts `node dist/main.js ARGS` with free metrics/health ports; see ControllerProcessOptions. */
export async function startControllerProcess(opts: ControllerProcessOptions): Promise<ControllerProcess> {
  const name = opts.name ?? 'controller';
  if (!opts.command) ensureBuilt();
  const args = [...opts.args];
  let metricsUrl: string | undefined;
  let healthUrl: string | undefined;
  const probePorts = opts.probePorts ?? !opts.command;
  const wantMetrics = probePorts && !hasFlag(args, '--metrics-bind-address');
  const wantHealth = probePorts && !hasFlag(args, '--health-probe-bind-address');
  const ports = await freePorts(Number(wantMetrics) + Number(wantHealth));
  if (wantMetrics) {
    const p = ports.shift()!;
    args.push('--metrics-bind-address', `127.0.0.1:${p}`);
    metricsUrl = `http://127.0.0.1:${p}`;
  }
  if (wantHealth) {
    const p = ports.shift()!;
    args.push('--health-probe-bind-address', `127.0.0.1:${p}`);
    healthUrl = `http://127.0.0.1:${p}`;
  }

  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    ...(opts.defaultCredentials === false ? {} : TEST_ECS_CREDENTIALS_ENV),
    ...opts.env,
  };
  const [program, ...programArgs] = opts.command ?? [NODE_BIN, MAIN_JS];
  const argv = [...programArgs, ...args];
  const [cmd, ...cmdArgs] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', program!, ...argv] : [program!, ...argv];

  installExitHook();
  const child = spawn(cmd!, cmdArgs, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    const err = await new Promise<Error>((r) => child.once('error', r));
    throw new Error(`${name}: could not start ${program}: ${err.message}`);
  }
  live.add(child);

  const lines: string[] = [];
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const attach = (stream: NodeJS.ReadableStream, sink: string[]): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) push(line, sink);
    });
    stream.on('end', () => {
      if (partial) push(partial, sink);
      partial = '';
    });
  };
  const push = (line: string, sink: string[]): void => {
    lines.push(line);
    sink.push(line);
    if (opts.echo) process.stderr.write(`[${name}] ${line}\n`);
    for (const l of listeners) l(line);
  };
  attach(child.stdout!, stdoutLines);
  attach(child.stderr!, stderrLines);

  let exitInfo: Exit | undefined;
  const exited = new Promise<Exit>((resolvePromise) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exitInfo = { code, signal };
      // let the pipes drain so that the last lines are in `lines`
      setImmediate(() => resolvePromise({ code, signal }));
    });
  });

  const tail = (n = 30): string => lines.slice(-n).join('\n');
  const isRunning = (): boolean => exitInfo === undefined;
  const exitedError = (what: string): Error =>
    new Error(`${name} (pid ${child.pid}) exited (code ${exitInfo?.code}, signal ${exitInfo?.signal}) while waiting for ${what}; last output:\n${tail()}`);

  const proc: ControllerProcess = {
    name,
    pid: child.pid,
    child,
    metricsUrl,
    healthUrl,
    lines,
    stdoutLines,
    stderrLines,
    logs: () =>
      lines.flatMap((l) => {
        try {
          const v = JSON.parse(l) as unknown;
          return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    waitForLog(re, timeoutMs = DEFAULT_WAIT_MS) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolvePromise, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(onLine);
        };
        const onLine = (line: string): void => {
          if (!re.test(line)) return;
          done();
          resolvePromise(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no log line matching ${re} within ${timeoutMs} ms; last output:\n${tail()}`));
        }, timeoutMs);
        listeners.add(onLine);
        void exited.then(() => {
          if (!listeners.has(onLine)) return;
          done();
          reject(exitedError(`a log line matching ${re}`));
        });
      });
    },
    async waitForHttp(url, status, timeoutMs = DEFAULT_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      for (;;) {
        if (!isRunning()) throw exitedError(`${url} to answer ${status}`);
        last = (await httpGet(url)).status;
        if (last === status) return;
        if (Date.now() > deadline) {
          throw new Error(`${name}: ${url} answered ${last || 'nothing'}, not ${status}, for ${timeoutMs} ms; last output:\n${tail()}`);
        }
        await sleep(100);
      }
    },
    get: (url) => httpGet(url),
    async metrics() {
      if (!metricsUrl) throw new Error(`${name}: metrics endpoint not known`);
      const r = await httpGet(`${metricsUrl}/metrics`);
      if (r.status !== 200) throw new Error(`${name}: GET /metrics answered ${r.status || 'nothing'}`);
      return r.body;
    },
    kill(signal = 'SIGTERM') {
      if (isRunning()) child.kill(signal);
    },
    exited,
    isRunning,
    async stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      if (!isRunning()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (isRunning()) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail,
  };
  return proc;
}

/** V8 heap of a controller process, MiB, from its /metrics (prom-client's default metrics). */
export async function heapFromMetrics(c: Pick<ControllerProcess, 'metrics'>): Promise<{ usedMiB: number; totalMiB: number }> {
  const text = await c.metrics();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  return { usedMiB: value('nodejs_heap_size_used_bytes'), totalMiB: value('nodejs_heap_size_total_bytes') };
}

/** Resident memory and CPU time of a running process, from /proc (Linux). */
export interface ProcSample {
  /** Resident set size now, KiB. */
  rssKiB: number;
  /** Peak resident set size, KiB. */
  hwmKiB: number;
  /** The anonymous part of rssKiB (heap, stacks, malloc): rssKiB less the mapped node binary and libraries. */
  rssAnonKiB: number;
  /** User + system CPU time, seconds. */
  cpuSeconds: number;
}

export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based)
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  const hz = 100; // USER_HZ on Linux
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), rssAnonKiB: kib('RssAnon'), cpuSeconds: ticks / hz };
}
