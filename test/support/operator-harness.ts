import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { defaults, type Config } from '../../src/config.ts';
import { Operator } from '../../src/operator.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { GROUP, PLURAL, VERSION, API_VERSION, KIND } from '../../src/api/types.ts';
import type { Condition, EcsInstancePower, EcsInstancePowerSpec } from '../../src/api/types.ts';
import type { TestCluster } from './cluster.ts';
import type { EcsEmulator } from './ecs-emulator/index.ts';

/** The controller's own credential chain reads these; the emulator's default key pair. */
export function useDefaultTestCredentials(): void {
  process.env['ALIBABA_CLOUD_ACCESS_KEY_ID'] = 'test-ak';
  process.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = 'test-secret';
  process.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED'] = 'true';
}

export interface RunningOperator {
  operator: Operator;
  logs: string[];
  stop(): Promise<void>;
  metricsText(): Promise<string>;
}

/** Runs the real operator in this process against a test cluster and the ECS emulator. */
export async function startOperator(
  cluster: TestCluster,
  emulator: EcsEmulator,
  overrides: Partial<Config> & { kubeConfig?: KubeConfig } = {},
): Promise<RunningOperator> {
  useDefaultTestCredentials();
  const { kubeConfig, ...rest } = overrides;
  const config: Config = {
    ...defaults(),
    kubeconfig: cluster.kubeconfigPath,
    ecsEndpoint: emulator.url,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    pollIntervalMs: 200,
    resyncPeriodMs: 60_000,
    terminalRecheckMs: 60_000,
    batchWindowMs: 20,
    ecsTimeoutMs: 2_000,
    ecsQps: 200,
    ecsBurst: 200,
    kubeApiQps: 500,
    kubeApiBurst: 500,
    shutdownTimeoutMs: 5_000,
    logLevel: 'debug',
    ...rest,
  };
  const logs: string[] = [];
  const log: Logger = createLogger({ level: config.logLevel, format: 'json' }, (line) => {
    logs.push(line);
    if (logs.length > 20_000) logs.splice(0, 10_000);
  });
  const operator = new Operator({ config, kubeConfig: kubeConfig ?? cluster.kubeConfig(), log });
  await operator.start();
  return {
    operator,
    logs,
    stop: async () => {
      await operator.stop();
    },
    metricsText: async () => {
      const res = await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`);
      return res.text();
    },
  };
}

const PLURAL_OF = { EcsPowerSchedule: 'ecspowerschedules', EcsPowerOverride: 'ecspoweroverrides' } as const;

export class Resources {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async create(name: string, spec: Partial<EcsInstancePowerSpec> & { instanceId: string }, labels?: Record<string, string>): Promise<EcsInstancePower> {
    const body = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name, namespace: this.namespace, ...(labels ? { labels } : {}) },
      spec: { regionId: 'cn-hangzhou', ...(spec.scheduleRef ? {} : { desiredState: 'Stopped' }), ...spec },
    };
    return (await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, body })) as EcsInstancePower;
  }

  async get(name: string): Promise<EcsInstancePower> {
    return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name })) as EcsInstancePower;
  }

  async patchSpec(name: string, spec: Partial<EcsInstancePowerSpec>): Promise<EcsInstancePower> {
    const { PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name, body: { spec } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as EcsInstancePower;
  }

  /** Creates an EcsPowerSchedule or EcsPowerOverride in this namespace. */
  async createOf(kind: 'EcsPowerSchedule' | 'EcsPowerOverride', name: string, spec: object, labels?: Record<string, string>): Promise<unknown> {
    const plural = PLURAL_OF[kind];
    const body = { apiVersion: API_VERSION, kind, metadata: { name, namespace: this.namespace, ...(labels ? { labels } : {}) }, spec };
    return this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, body });
  }

  async getOf<T>(kind: 'EcsPowerSchedule' | 'EcsPowerOverride', name: string): Promise<T> {
    const plural = PLURAL_OF[kind];
    return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, name })) as T;
  }

  async deleteOf(kind: 'EcsPowerSchedule' | 'EcsPowerOverride', name: string): Promise<void> {
    const plural = PLURAL_OF[kind];
    await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, name });
  }

  async delete(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name });
  }

  /** Events about the object `name` (of `kind`, when given). */
  async events(name: string, kind?: string): Promise<Array<{ type?: string; reason?: string; message?: string; count?: number }>> {
    const fieldSelector = `involvedObject.name=${name}${kind ? `,involvedObject.kind=${kind}` : ''}`;
    const list = await this.core.listNamespacedEvent({ namespace: this.namespace, fieldSelector });
    return list.items;
  }

  /** Polls until `predicate` holds for the resource; fails with the last status seen. */
  async waitFor(name: string, predicate: (o: EcsInstancePower) => boolean, timeoutMs = 20_000, what = 'condition'): Promise<EcsInstancePower> {
    const deadline = Date.now() + timeoutMs;
    let last: EcsInstancePower | undefined;
    for (;;) {
      try {
        last = await this.get(name);
        if (predicate(last)) return last;
      } catch {
        // not created yet or API server restarting
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what} on ${this.namespace}/${name}; last status: ${JSON.stringify(last?.status)}`);
      }
      await sleep(100);
    }
  }

  waitForReady(name: string, reason?: string, timeoutMs?: number): Promise<EcsInstancePower> {
    return this.waitFor(
      name,
      (o) => {
        const r = cond(o, 'Ready');
        return r?.status === 'True' && (!reason || r.reason === reason) && o.status?.observedGeneration === o.metadata.generation;
      },
      timeoutMs,
      `Ready=True${reason ? ` (${reason})` : ''}`,
    );
  }

  waitForReason(name: string, type: Condition['type'], status: Condition['status'], reason: string, timeoutMs?: number): Promise<EcsInstancePower> {
    return this.waitFor(
      name,
      (o) => {
        const c = cond(o, type);
        return c?.status === status && c.reason === reason && o.status?.observedGeneration === o.metadata.generation;
      },
      timeoutMs,
      `${type}=${status} (${reason})`,
    );
  }
}

export function cond(o: EcsInstancePower | undefined, type: Condition['type']): Condition | undefined {
  return o?.status?.conditions?.find((c) => c.type === type);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads one sample of a metric from Prometheus text, matching all given labels. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (!ok) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    sum = (sum ?? 0) + v;
  }
  return sum;
}
