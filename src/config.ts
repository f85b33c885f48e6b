import { DEFAULT_MAX_OVERRIDE_DURATION_MS } from './api/schedule-types.ts';
import type { LogFormat, LogLevel } from './log.ts';
import { certDirProblem } from './runtime/serving-cert.ts';
import { parseDuration } from './util/duration.ts';
import { parseAddress } from './util/address.ts';

export interface Config {
  /** `--kubeconfig`; unset: client-node's default loading ($KUBECONFIG, which may list several files, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  namespace?: string;
  selector?: string;
  metricsBindAddress: string;
  metricsSecure: boolean;
  metricsCertDir?: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionId: string;
  /** Always set after parseFlags: the flag, else $POD_NAMESPACE, else the pod's own namespace file, else ecs-power-system. */
  leaderElectionNamespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  maxConcurrentReconciles: number;
  ecsEndpoint?: string;
  pollIntervalMs: number;
  resyncPeriodMs: number;
  terminalRecheckMs: number;
  maxBatchSize: number;
  batchWindowMs: number;
  ecsQps: number;
  ecsBurst: number;
  ecsTimeoutMs: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  kubeApiTimeoutMs: number;
  /** Namespaces whose resources may use the controller's own credentials; undefined = all. */
  defaultCredentialsNamespaces?: string[];
  /** `--max-override-duration`: an EcsPowerOverride whose until lies further after its creation is InvalidSpec. */
  maxOverrideDurationMs: number;
  eventQps: number;
  eventBurst: number;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** A bad flag: main prints the message on one line and exits with status 2. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

type Kind = 'string' | 'bool' | 'duration' | 'int' | 'number' | 'address' | 'list';

interface FlagDef {
  kind: Kind;
  set: (c: Config, v: string | number | boolean) => void;
  min?: number;
  max?: number;
  oneOf?: readonly string[];
  help: string;
}

const str = (f: (c: Config, v: string) => void) => (c: Config, v: string | number | boolean) => f(c, String(v));
const num = (f: (c: Config, v: number) => void) => (c: Config, v: string | number | boolean) => f(c, Number(v));

export const FLAGS: Record<string, FlagDef> = {
  kubeconfig: { kind: 'string', set: str((c, v) => (c.kubeconfig = v)), help: 'kubeconfig file (default $KUBECONFIG, then in-cluster)' },
  namespace: { kind: 'string', set: str((c, v) => (c.namespace = v)), help: 'watch one namespace only (default all)' },
  selector: { kind: 'string', set: str((c, v) => (c.selector = v)), help: 'label selector of the resources to manage' },
  'metrics-bind-address': { kind: 'address', set: str((c, v) => (c.metricsBindAddress = v)), help: 'metrics endpoint address; 0 disables' },
  'metrics-secure': { kind: 'bool', set: (c, v) => (c.metricsSecure = v === true), help: 'serve /metrics over HTTPS to callers allowed to get /metrics (TokenReview, SubjectAccessReview)' },
  'metrics-cert-dir': { kind: 'string', set: str((c, v) => (c.metricsCertDir = v)), help: 'directory with tls.crt and tls.key for --metrics-secure (default: self-signed at start)' },
  'health-probe-bind-address': { kind: 'address', set: str((c, v) => (c.healthProbeBindAddress = v)), help: '/healthz and /readyz address; 0 disables' },
  'leader-elect': { kind: 'bool', set: (c, v) => (c.leaderElect = v === true), help: 'use a coordination.k8s.io/v1 Lease' },
  'leader-election-id': { kind: 'string', set: str((c, v) => (c.leaderElectionId = v)), help: 'name of the Lease' },
  'leader-election-namespace': { kind: 'string', set: str((c, v) => (c.leaderElectionNamespace = v)), help: 'namespace of the Lease' },
  'leader-election-lease-duration': { kind: 'duration', min: 1000, set: num((c, v) => (c.leaseDurationMs = v)), help: 'how long a lease lasts without renewal' },
  'leader-election-renew-deadline': { kind: 'duration', min: 500, set: num((c, v) => (c.renewDeadlineMs = v)), help: 'how long the leader tries to renew before giving up' },
  'leader-election-retry-period': { kind: 'duration', min: 100, set: num((c, v) => (c.retryPeriodMs = v)), help: 'interval between lease attempts' },
  'max-concurrent-reconciles': { kind: 'int', min: 1, max: 10_000, set: num((c, v) => (c.maxConcurrentReconciles = v)), help: 'workers' },
  'ecs-endpoint': { kind: 'string', set: str((c, v) => (c.ecsEndpoint = v)), help: 'ECS endpoint for every region (default regional public endpoint)' },
  'poll-interval': { kind: 'duration', min: 100, set: num((c, v) => (c.pollIntervalMs = v)), help: 'how often an instance in transition is observed' },
  'resync-period': { kind: 'duration', min: 1000, set: num((c, v) => (c.resyncPeriodMs = v)), help: 'how often in-sync resources are checked for drift' },
  'terminal-recheck-period': { kind: 'duration', min: 1000, set: num((c, v) => (c.terminalRecheckMs = v)), help: 'how often a terminal error is re-checked' },
  'max-batch-size': { kind: 'int', min: 1, max: 100, set: num((c, v) => (c.maxBatchSize = v)), help: 'instances per batched ECS call; 1 turns batching off' },
  'batch-window': { kind: 'duration', min: 0, max: 10_000, set: num((c, v) => (c.batchWindowMs = v)), help: 'the most a call waits for others to share it' },
  'ecs-qps': { kind: 'number', min: 0.01, set: num((c, v) => (c.ecsQps = v)), help: 'ECS calls per second per action, region and credentials' },
  'ecs-burst': { kind: 'int', min: 1, set: num((c, v) => (c.ecsBurst = v)), help: 'ECS call burst per action, region and credentials' },
  'ecs-timeout': { kind: 'duration', min: 100, set: num((c, v) => (c.ecsTimeoutMs = v)), help: 'ECS connect and read timeout' },
  'kube-api-qps': { kind: 'number', min: 0.01, set: num((c, v) => (c.kubeApiQps = v)), help: 'Kubernetes API writes per second' },
  'kube-api-burst': { kind: 'int', min: 1, set: num((c, v) => (c.kubeApiBurst = v)), help: 'Kubernetes API write burst' },
  'kube-api-timeout': { kind: 'duration', min: 1000, set: num((c, v) => (c.kubeApiTimeoutMs = v)), help: 'client-side timeout of every Kubernetes API request except watches' },
  'default-credentials-namespaces': {
    kind: 'list',
    set: (c, v) => (c.defaultCredentialsNamespaces = String(v).split(',')),
    help: "namespaces whose resources may use the controller's own credentials (comma list; default all); elsewhere a resource must name credentialsSecretRef",
  },
  'max-override-duration': {
    kind: 'duration',
    min: 1000,
    set: num((c, v) => (c.maxOverrideDurationMs = v)),
    help: 'the longest an EcsPowerOverride may last after its creation; one whose until lies further is Stalled (InvalidSpec) and has no effect',
  },
  'event-qps': { kind: 'number', min: 0.01, set: num((c, v) => (c.eventQps = v)), help: 'Event writes per second; events over budget are dropped' },
  'event-burst': { kind: 'int', min: 1, set: num((c, v) => (c.eventBurst = v)), help: 'Event write burst' },
  'shutdown-timeout': { kind: 'duration', min: 0, set: num((c, v) => (c.shutdownTimeoutMs = v)), help: 'how long SIGTERM waits for reconciles in flight' },
  'log-level': { kind: 'string', oneOf: ['debug', 'info', 'warn', 'error'], set: str((c, v) => (c.logLevel = v as LogLevel)), help: 'debug, info, warn or error' },
  'log-format': { kind: 'string', oneOf: ['json', 'text'], set: str((c, v) => (c.logFormat = v as LogFormat)), help: 'json or text' },
};

/** The namespace a pod runs in, as Kubernetes mounts it for its ServiceAccount. */
export const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
export const FALLBACK_NAMESPACE = 'ecs-power-system';

/** Every default of every flag, in one place. */
export function defaults(): Config {
  return {
    metricsBindAddress: ':8080',
    metricsSecure: false,
    healthProbeBindAddress: ':8081',
    leaderElect: false,
    leaderElectionId: 'ecs-power-controller',
    leaderElectionNamespace: FALLBACK_NAMESPACE,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    maxConcurrentReconciles: 10,
    pollIntervalMs: 5_000,
    resyncPeriodMs: 10 * 60_000,
    terminalRecheckMs: 5 * 60_000,
    maxBatchSize: 100,
    batchWindowMs: 200,
    ecsQps: 10,
    ecsBurst: 10,
    ecsTimeoutMs: 10_000,
    kubeApiQps: 500,
    kubeApiBurst: 1000,
    kubeApiTimeoutMs: 30_000,
    maxOverrideDurationMs: DEFAULT_MAX_OVERRIDE_DURATION_MS,
    eventQps: 10,
    eventBurst: 100,
    shutdownTimeoutMs: 25_000,
    logLevel: 'info',
    logFormat: 'json',
  };
}

export interface Environment {
  env: NodeJS.ProcessEnv;
  /** The pod's namespace file, when running in a pod. */
  podNamespace?: () => string | undefined;
}

/** Parses controller-runtime style flags: `--name=value`, `--name value`, bare `--bool`. */
export function parseFlags(argv: readonly string[], environment: Environment = { env: process.env }): Config {
  const config = defaults();
  let leaseNamespaceGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = m[1]!;
    const def = FLAGS[name];
    if (!def) throw new FlagError(`unknown flag --${name}`);
    let raw = m[2];
    if (raw === undefined) {
      if (def.kind === 'bool') {
        def.set(config, true);
        continue;
      }
      raw = argv[++i];
      if (raw === undefined) throw new FlagError(`flag --${name} needs a value`);
    }
    def.set(config, convert(name, def, raw));
    if (name === 'leader-election-namespace') leaseNamespaceGiven = true;
  }
  if (!leaseNamespaceGiven) {
    config.leaderElectionNamespace = environment.env['POD_NAMESPACE'] || environment.podNamespace?.() || FALLBACK_NAMESPACE;
  }
  if (config.metricsCertDir !== undefined) {
    if (!config.metricsSecure) throw new FlagError('--metrics-cert-dir needs --metrics-secure');
    const problem = certDirProblem(config.metricsCertDir);
    if (problem) throw new FlagError(`invalid value ${JSON.stringify(config.metricsCertDir)} for flag --metrics-cert-dir: ${problem}`);
  }
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    throw new FlagError('--leader-election-renew-deadline must be shorter than --leader-election-lease-duration');
  }
  return config;
}

function convert(name: string, def: FlagDef, raw: string): string | number | boolean {
  const bad = (why: string): never => {
    throw new FlagError(`invalid value ${JSON.stringify(raw)} for flag --${name}: ${why}`);
  };
  const range = (v: number): number => {
    if (def.min !== undefined && v < def.min) bad(`must be at least ${def.min}`);
    if (def.max !== undefined && v > def.max) bad(`must be at most ${def.max}`);
    return v;
  };
  switch (def.kind) {
    case 'bool':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return bad('must be true or false');
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) return bad('not a duration (e.g. 500ms, 5s, 10m)');
      return range(ms);
    }
    case 'int': {
      if (!/^\d+$/.test(raw)) return bad('not a whole number');
      return range(Number(raw));
    }
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) return bad('not a number');
      return range(v);
    }
    case 'address':
      if (raw === '0') return raw;
      if (parseAddress(raw) === undefined) return bad('not an address (e.g. :8080, 127.0.0.1:8080, or 0 to disable)');
      return raw;
    case 'list': {
      const items = raw.split(',').map((x) => x.trim());
      const invalid = items.find((x) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(x) || x.length > 63);
      if (invalid !== undefined) return bad(`${JSON.stringify(invalid)} is not a namespace name`);
      return items.join(',');
    }
    case 'string':
      if (def.oneOf && !def.oneOf.includes(raw)) return bad(`must be one of ${def.oneOf.join(', ')}`);
      return raw;
  }
}
