// A real etcd + kube-apiserver (Kubernetes 1.20) on this machine, the way controller-runtime's
// envtest does it: no kubelet, no scheduler, but real admission, CRD schema validation, status
// subresource, resourceVersion conflicts, watches, RBAC and Leases.
// See /work/shared/spec/TEST-CLUSTER.md for where the binaries come from.
//
// Binaries are found through test/support/provision-cluster.sh (run once per process), which
// honours KUBEBUILDER_ASSETS (a folder holding kube-apiserver, etcd and kubectl) and otherwise
// builds/caches kube-apiserver under ~/.cache/ecs-power/assets. A cold build takes minutes, so
// `.ci/run` provisions before `npm test`; run `test/support/provision-cluster.sh` once by hand
// on a new machine.
//
// Processes die with the test process: stop() kills them by pid; a process.on('exit') hook
// SIGKILLs whatever is still running; and where util-linux's setpriv exists, every child is
// started with a parent-death signal (SIGKILL), so even a SIGKILLed test run leaves no orphans.
//
// Set ECS_POWER_KEEP_CLUSTER_DIR=1 to keep the temp dir (certs, tokens, logs) after stop(). Temp
// dirs of test processes that died without cleaning up are removed by the next startTestCluster().

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { randomToken, serviceAccountKeyPair, tokenFileLine } from './certs.ts';
import { freePorts } from './ports.ts';

export interface TestUser {
  name: string;
  groups?: string[];
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  /** https://127.0.0.1:PORT */
  server: string;
  /** etcd's client URL, http://127.0.0.1:PORT (plain HTTP; its v3 gRPC gateway answers under /v3/). */
  readonly etcdUrl: string;
  /** Admin (system:masters) kubeconfig file: token auth, insecure-skip-tls-verify. */
  kubeconfigPath: string;
  /** A fresh KubeConfig for admin (default) or a pre-registered token user. */
  kubeConfig(user?: string): KubeConfig;
  /** Kubeconfig file path for a pre-registered token user. */
  kubeconfigFor(user: string): string;
  /** The bearer token of a pre-registered token user (for raw HTTP requests). */
  tokenFor(user: string): string;
  /** Runs kubectl against this cluster as admin (default) or a pre-registered user. Never rejects on a non-zero exit. */
  kubectl(args: string[], opts?: { user?: string; input?: string }): Promise<KubectlResult>;
  /** Stops kube-apiserver (SIGTERM, then SIGKILL) and starts it again on the same port; etcd keeps running. */
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver (no-op if running) and waits for /readyz. */
  startApiServer(): Promise<void>;
  /**
   * Starts kube-controller-manager with only its garbage collector (no-op if running) and waits
   * until the collector has synced its monitors, so that owner references cascade for real.
   * The shared cluster does not run it unless a test asks; stop it with stopGarbageCollector().
   */
  startGarbageCollector(): Promise<void>;
  /** Stops the garbage collector (SIGTERM, then SIGKILL, by pid). */
  stopGarbageCollector(): Promise<void>;
  /** Temp dir with certs, tokens, etcd data, logs (etcd.log, kube-apiserver.log, kube-controller-manager.log). */
  dir: string;
  /** Kills both processes by pid and removes the temp dir. */
  stop(): Promise<void>;
}

export interface StartTestClusterOptions {
  /** Extra token users, besides the always-present ADMIN_USER and CONTROLLER_USER. */
  users?: TestUser[];
  /** Apply crds/*.yaml and wait until every CRD is Established. Default true. */
  installCrds?: boolean;
}

/** The admin token user (group system:masters). */
export const ADMIN_USER = 'admin';
/** The controller's ServiceAccount identity, as a token user (bind the shipped RBAC to the ServiceAccount). */
export const CONTROLLER_NAMESPACE = 'ecs-power-system';
export const CONTROLLER_SERVICE_ACCOUNT = 'ecs-power-controller';
export const CONTROLLER_USER = `system:serviceaccount:${CONTROLLER_NAMESPACE}:${CONTROLLER_SERVICE_ACCOUNT}`;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROVISION_SCRIPT = join(REPO_ROOT, 'test/support/provision-cluster.sh');
const CRDS_DIR = join(REPO_ROOT, 'crds');

const ETCD_READY_TIMEOUT_MS = 30_000;
const GC_READY_TIMEOUT_MS = 60_000;
const APISERVER_READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Binaries

export interface ClusterAssets {
  dir: string;
  etcd: string;
  kubeApiServer: string;
  /** Runs the garbage collector for tests that delete owners (provision-cluster.sh builds it). */
  kubeControllerManager: string;
  kubectl: string;
}

let assetsPromise: Promise<ClusterAssets> | undefined;

/** Runs provision-cluster.sh once per process and memoises the folder it prints. */
export function clusterAssets(): Promise<ClusterAssets> {
  assetsPromise ??= runProvision();
  return assetsPromise;
}

function runProvision(): Promise<ClusterAssets> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [PROVISION_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      process.stderr.write(d); // visible progress when it has to build
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${PROVISION_SCRIPT} failed (exit ${code}):\n${tail(stderr, 40)}`));
        return;
      }
      const dir = stdout.trim().split('\n').at(-1)?.trim() ?? '';
      const assets: ClusterAssets = {
        dir,
        etcd: join(dir, 'etcd'),
        kubeApiServer: join(dir, 'kube-apiserver'),
        kubeControllerManager: join(dir, 'kube-controller-manager'),
        kubectl: join(dir, 'kubectl'),
      };
      for (const bin of [assets.etcd, assets.kubeApiServer, assets.kubeControllerManager, assets.kubectl]) {
        if (!isExecutableFile(bin)) {
          reject(new Error(`${PROVISION_SCRIPT} printed ${JSON.stringify(dir)}, which has no executable ${bin}`));
          return;
        }
      }
      resolvePromise(assets);
    });
  });
}

function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

// ---------------------------------------------------------------------------------------------
// Child processes: tracked so that they die with the test process.

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of liveDirs) {
      try {
        if (process.env.ECS_POWER_KEEP_CLUSTER_DIR) rmSync(join(dir, 'owner.pid'), { force: true });
        else rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // best effort
      }
    }
  });
}

function spawnLogged(bin: string, args: string[], logPath: string): ChildProcess {
  installExitHook();
  const fd = openSync(logPath, 'a');
  try {
    const [cmd, ...cmdArgs] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', bin, ...args] : [bin, ...args];
    const child = spawn(cmd as string, cmdArgs, { stdio: ['ignore', fd, fd] });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    child.on('error', () => liveChildren.delete(child)); // reported by waitUntil via exited()
    return child;
  } finally {
    closeSync(fd);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

async function stopProcess(child: ChildProcess | undefined, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!child || exited(child)) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!exited(child)) child.kill('SIGKILL');
  }, graceMs);
  try {
    await done;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP probes

function probe(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const u = new URL(url);
    const options = {
      method: 'GET',
      timeout: 3_000,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      rejectUnauthorized: false,
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines - 1).join('\n');
}

function logTail(path: string, lines = 40): string {
  try {
    return tail(readFileSync(path, 'utf8'), lines);
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  child: ChildProcess,
  logPath: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (exited(child)) {
      throw new Error(
        `${what}: process exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready; ` +
          `tail of ${logPath}:\n${logTail(logPath)}`,
      );
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not ready after ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}; ` +
          `tail of ${logPath}:\n${logTail(logPath)}`,
      );
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The cluster

interface RegisteredUser {
  name: string;
  groups: string[];
  token: string;
  kubeconfigPath: string;
}

function kubeconfigYaml(server: string, user: RegisteredUser): string {
  // JSON is YAML; kubectl and client-node read it either way.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'ecs-power-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: user.name, user: { token: user.token } }],
      contexts: [{ name: 'ecs-power-test', context: { cluster: 'ecs-power-test', user: user.name } }],
      'current-context': 'ecs-power-test',
    },
    null,
    2,
  );
}

class LocalTestCluster implements TestCluster {
  readonly server: string;
  readonly etcdUrl: string;
  readonly kubeconfigPath: string;
  private etcdProc: ChildProcess | undefined;
  private apiServerProc: ChildProcess | undefined;
  private gcProc: ChildProcess | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly assets: ClusterAssets,
    private readonly ports: { etcdClient: number; etcdPeer: number; apiServer: number },
    private readonly users: Map<string, RegisteredUser>,
  ) {
    this.server = `https://127.0.0.1:${ports.apiServer}`;
    this.etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    this.kubeconfigPath = this.user(ADMIN_USER).kubeconfigPath;
  }

  private user(name: string): RegisteredUser {
    const u = this.users.get(name);
    if (!u) {
      throw new Error(`unknown test user ${JSON.stringify(name)}; pre-registered: ${[...this.users.keys()].join(', ')}`);
    }
    return u;
  }

  get etcdLog(): string {
    return join(this.dir, 'etcd.log');
  }

  get apiServerLog(): string {
    return join(this.dir, 'kube-apiserver.log');
  }

  get controllerManagerLog(): string {
    return join(this.dir, 'kube-controller-manager.log');
  }

  kubeconfigFor(user: string): string {
    return this.user(user).kubeconfigPath;
  }

  tokenFor(user: string): string {
    return this.user(user).token;
  }

  kubeConfig(user: string = ADMIN_USER): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigFor(user));
    return kc;
  }

  kubectl(args: string[], opts: { user?: string; input?: string } = {}): Promise<KubectlResult> {
    const kubeconfig = this.kubeconfigFor(opts.user ?? ADMIN_USER);
    return new Promise((resolvePromise, reject) => {
      const child = spawn(
        this.assets.kubectl,
        ['--kubeconfig', kubeconfig, '--cache-dir', join(this.dir, 'kubectl-cache'), ...args],
        { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: kubeconfig } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
      if (opts.input !== undefined) child.stdin!.end(opts.input);
    });
  }

  async startEtcd(): Promise<void> {
    const { etcdClient, etcdPeer } = this.ports;
    const client = `http://127.0.0.1:${etcdClient}`;
    const peer = `http://127.0.0.1:${etcdPeer}`;
    this.etcdProc = spawnLogged(
      this.assets.etcd,
      [
        '--name', 'default',
        '--data-dir', join(this.dir, 'etcd-data'),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `default=${peer}`,
      ],
      this.etcdLog,
    );
    const proc = this.etcdProc;
    await waitUntil(
      'etcd',
      async () => (await probe(`${client}/health`)).status === 200,
      proc,
      this.etcdLog,
      ETCD_READY_TIMEOUT_MS,
    );
  }

  async startApiServer(): Promise<void> {
    if (this.stopped) throw new Error('test cluster was stopped');
    if (this.apiServerProc && !exited(this.apiServerProc)) return;
    const d = this.dir;
    this.apiServerProc = spawnLogged(
      this.assets.kubeApiServer,
      [
        '--etcd-servers', `http://127.0.0.1:${this.ports.etcdClient}`,
        '--bind-address', '127.0.0.1',
        '--secure-port', String(this.ports.apiServer),
        '--insecure-port', '0',
        '--cert-dir', join(d, 'certs'),
        '--token-auth-file', join(d, 'tokens.csv'),
        '--authorization-mode', 'RBAC',
        '--service-account-issuer', 'https://kubernetes.default.svc',
        '--service-account-key-file', join(d, 'sa.pub'),
        '--service-account-signing-key-file', join(d, 'sa.key'),
        '--service-cluster-ip-range', '10.0.0.0/24',
        '--disable-admission-plugins', 'ServiceAccount',
      ],
      this.apiServerLog,
    );
    const proc = this.apiServerProc;
    const token = this.tokenFor(ADMIN_USER);
    await waitUntil(
      `kube-apiserver on ${this.server}`,
      async () =>
        (await probe(`${this.server}/readyz`, token)).status === 200 &&
        // the bootstrap controller creates the default namespace shortly after start
        (await probe(`${this.server}/api/v1/namespaces/default`, token)).status === 200,
      proc,
      this.apiServerLog,
      APISERVER_READY_TIMEOUT_MS,
    );
  }

  /**
   * kube-controller-manager 1.20 with the garbage collector alone: the admin kubeconfig, no leader
   * election, no service account credentials (no token controller runs), HTTPS only on a free
   * loopback port (its /healthz needs no authentication), and a higher API rate than the default
   * 20 qps so that a few hundred dependents go within a second or two. Ready once the collector
   * logs that its resource monitors have synced.
   */
  async startGarbageCollector(): Promise<void> {
    if (this.stopped) throw new Error('test cluster was stopped');
    if (this.gcProc && !exited(this.gcProc)) return;
    const [port] = (await freePorts(1)) as [number];
    const log = this.controllerManagerLog;
    const startedAt = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    this.gcProc = spawnLogged(
      this.assets.kubeControllerManager,
      [
        '--kubeconfig', this.kubeconfigPath,
        '--controllers', 'garbagecollector',
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        '--bind-address', '127.0.0.1',
        '--secure-port', String(port),
        '--port', '0',
        '--cert-dir', join(this.dir, 'kcm-certs'),
        '--kube-api-qps', '200',
        '--kube-api-burst', '400',
      ],
      log,
    );
    const proc = this.gcProc;
    await waitUntil(
      'kube-controller-manager (garbage collector)',
      async () => readFileSync(log, 'utf8').slice(startedAt).includes('all resource monitors have synced'),
      proc,
      log,
      GC_READY_TIMEOUT_MS,
    );
  }

  async stopGarbageCollector(): Promise<void> {
    const proc = this.gcProc;
    this.gcProc = undefined;
    await stopProcess(proc);
  }

  async stopApiServer(): Promise<void> {
    const proc = this.apiServerProc;
    this.apiServerProc = undefined;
    await stopProcess(proc);
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  async installCrds(): Promise<void> {
    let files: string[];
    try {
      files = (await readdir(CRDS_DIR))
        .filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(CRDS_DIR, f));
    } catch {
      return; // no crds/ folder yet
    }
    if (files.length === 0) return;
    const applied = await this.kubectl(['apply', ...files.flatMap((f) => ['-f', f])]);
    if (applied.code !== 0) {
      throw new Error(`kubectl apply of ${CRDS_DIR} failed (exit ${applied.code}):\n${applied.stdout}${applied.stderr}`);
    }
    const waited = await this.kubectl(['wait', '--for', 'condition=established', 'crd', '--all', '--timeout', '60s']);
    if (waited.code !== 0) {
      throw new Error(`CRDs did not become Established (exit ${waited.code}):\n${waited.stdout}${waited.stderr}`);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.stopGarbageCollector();
      await this.stopApiServer();
    } finally {
      await stopProcess(this.etcdProc);
      this.etcdProc = undefined;
      if (process.env.ECS_POWER_KEEP_CLUSTER_DIR) {
        await rm(join(this.dir, 'owner.pid'), { force: true }); // so that later runs do not sweep it
        process.stderr.write(`test cluster dir kept: ${this.dir}\n`);
      } else {
        await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
      }
      liveDirs.delete(this.dir);
    }
  }
}

const DIR_PREFIX = 'ecs-power-cluster-';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp dirs left by test processes that were SIGKILLed (no exit hook ran), and kills any
 * etcd/kube-apiserver still running from them (identified by the dir path in their arguments;
 * only needed where setpriv's parent-death signal is unavailable).
 */
async function sweepStaleClusters(): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(tmpdir())).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8').trim());
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) continue;
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith(dir + '/'))) {
          process.kill(Number(pid), 'SIGKILL');
        }
      } catch {
        // gone or not ours
      }
    }
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Starts etcd and kube-apiserver on free ports in a fresh temp dir and waits until the API server
 * is ready (and, by default, the project's CRDs are Established). Token users are fixed here.
 */
export async function startTestCluster(opts: StartTestClusterOptions = {}): Promise<TestCluster> {
  const assets = await clusterAssets();

  const wanted: TestUser[] = [
    { name: ADMIN_USER, groups: ['system:masters'] },
    {
      name: CONTROLLER_USER,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${CONTROLLER_NAMESPACE}`, 'system:authenticated'],
    },
    ...(opts.users ?? []),
  ];

  await sweepStaleClusters();
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  installExitHook();
  liveDirs.add(dir);
  let cluster: LocalTestCluster | undefined;
  try {
    await writeFile(join(dir, 'owner.pid'), `${process.pid}\n`);
    const users = new Map<string, RegisteredUser>();
    const tokenLines: string[] = [];
    let i = 0;
    for (const u of wanted) {
      if (users.has(u.name)) throw new Error(`test user ${JSON.stringify(u.name)} registered twice`);
      const safe = u.name.replace(/[^A-Za-z0-9._-]/g, '_');
      const reg: RegisteredUser = {
        name: u.name,
        groups: u.groups ?? [],
        token: randomToken(),
        kubeconfigPath: join(dir, `kubeconfig-${i}-${safe}.yaml`),
      };
      users.set(u.name, reg);
      tokenLines.push(tokenFileLine(reg.token, reg.name, `uid-${i}`, reg.groups));
      i++;
    }

    const [etcdClient, etcdPeer, apiServer] = (await freePorts(3)) as [number, number, number];
    const { publicKeyPem, privateKeyPem } = serviceAccountKeyPair();
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'tokens.csv'), tokenLines.join('\n') + '\n', { mode: 0o600 });
    await writeFile(join(dir, 'sa.pub'), publicKeyPem);
    await writeFile(join(dir, 'sa.key'), privateKeyPem, { mode: 0o600 });

    cluster = new LocalTestCluster(dir, assets, { etcdClient, etcdPeer, apiServer }, users);
    for (const u of users.values()) {
      await writeFile(u.kubeconfigPath, kubeconfigYaml(cluster.server, u), { mode: 0o600 });
    }

    await cluster.startEtcd();
    await cluster.startApiServer();
    if (opts.installCrds ?? true) await cluster.installCrds();
    return cluster;
  } catch (e) {
    if (cluster) {
      await cluster.stop().catch(() => undefined);
    } else {
      await rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    }
    throw e;
  }
}
