import { type CustomObjectsApi, type KubeConfig, type KubernetesListObject, makeInformer } from '@kubernetes/client-node';
import type { Informer, ObjectCache } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/types.ts';
import type { EcsInstancePower } from '../api/types.ts';
import type { Logger } from '../log.ts';

/** Called with the object as last seen; `deleted` when it is gone. */
export type ChangeHandler = (key: string, obj: EcsInstancePower, deleted: boolean) => void;

export interface ResourceCacheOptions {
  namespace?: string;
  labelSelector?: string;
  /** Restart delay after a broken list/watch, doubled up to 30 s. */
  restartBaseMs?: number;
}

export const keyOf = (obj: { metadata: { namespace?: string; name?: string } }): string =>
  `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;

const instanceKey = (regionId: string, instanceId: string): string => `${regionId}/${instanceId}`;

/**
 * The informer cache of EcsInstancePower objects: list+watch (resuming after 410 Gone with a
 * fresh list), restarted with backoff when the API server goes away, and an index of which
 * resources name which instance. Change handlers see spec changes, creation and deletion, not
 * status-only updates (the controller's own writes), like GenerationChangedPredicate.
 */
export class ResourceCache {
  private informer: (Informer<EcsInstancePower> & ObjectCache<EcsInstancePower>) | undefined;
  private readonly generations = new Map<string, number | undefined>();
  private readonly byInstance = new Map<string, Set<string>>();
  private readonly instanceOf = new Map<string, string>();
  private readonly handlers: ChangeHandler[] = [];
  private synced = false;
  private healthy = false;
  private stopped = false;
  private restartDelay: number;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private connectEpoch = 0;
  private firstList!: Promise<void>;
  private resolveFirstList!: () => void;

  constructor(
    private readonly kc: KubeConfig,
    private readonly api: CustomObjectsApi,
    private readonly log: Logger,
    private readonly options: ResourceCacheOptions = {},
  ) {
    this.restartDelay = options.restartBaseMs ?? 1000;
  }

  onChange(handler: ChangeHandler): void {
    this.handlers.push(handler);
  }

  /** Starts list+watch; resolves after the first list is in the cache. */
  async start(): Promise<void> {
    const { namespace, labelSelector } = this.options;
    const path = namespace
      ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`
      : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    this.firstList = new Promise((resolve) => (this.resolveFirstList = resolve));
    const list = async (): Promise<KubernetesListObject<EcsInstancePower>> => {
      const common = { group: GROUP, version: VERSION, plural: PLURAL, ...(labelSelector ? { labelSelector } : {}) };
      const res = namespace
        ? await this.api.listNamespacedCustomObject({ ...common, namespace })
        : await this.api.listClusterCustomObject(common);
      this.synced = true;
      this.healthy = true;
      this.restartDelay = this.options.restartBaseMs ?? 1000;
      this.resolveFirstList();
      return res as KubernetesListObject<EcsInstancePower>;
    };
    const informer = makeInformer<EcsInstancePower>(this.kc, path, list, labelSelector);
    this.informer = informer;
    informer.on('add', (obj) => this.upsert(obj, true));
    informer.on('update', (obj) => this.upsert(obj, false));
    informer.on('delete', (obj) => this.remove(obj));
    informer.on('connect', () => this.onConnect());
    informer.on('error', (err) => this.onError(err));
    // ListWatch.start() resolves even when the list failed (it reports through 'error'); like
    // controller-runtime's WaitForCacheSync, wait for a list that succeeded. onError restarts.
    await informer.start();
    await this.firstList;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.informer?.stop();
  }

  /** /readyz: the first list is done and the watch is not broken. */
  isReady(): boolean {
    return this.synced && this.healthy;
  }

  get(key: string): EcsInstancePower | undefined {
    const i = key.indexOf('/');
    return this.informer?.get(key.slice(i + 1), key.slice(0, i));
  }

  list(): readonly EcsInstancePower[] {
    return this.informer?.list() ?? [];
  }

  /** Keys of all resources naming this instance. */
  claimants(regionId: string, instanceId: string): string[] {
    return [...(this.byInstance.get(instanceKey(regionId, instanceId)) ?? [])];
  }

  private upsert(obj: EcsInstancePower, added: boolean): void {
    slim(obj);
    this.healthy = true;
    this.restartDelay = this.options.restartBaseMs ?? 1000;
    const key = keyOf(obj);
    const gen = obj.metadata.generation;
    const seen = this.generations.has(key);
    const changed = !seen || this.generations.get(key) !== gen || added;
    this.generations.set(key, gen);
    this.index(key, obj);
    if (changed || obj.metadata.deletionTimestamp) for (const h of this.handlers) h(key, obj, false);
  }

  private remove(obj: EcsInstancePower): void {
    const key = keyOf(obj);
    this.generations.delete(key);
    this.unindex(key);
    for (const h of this.handlers) h(key, obj, true);
  }

  private index(key: string, obj: EcsInstancePower): void {
    const ik = obj.spec ? instanceKey(obj.spec.regionId, obj.spec.instanceId) : undefined;
    if (this.instanceOf.get(key) === ik) return;
    this.unindex(key);
    if (!ik) return;
    this.instanceOf.set(key, ik);
    let set = this.byInstance.get(ik);
    if (!set) this.byInstance.set(ik, (set = new Set()));
    set.add(key);
  }

  private unindex(key: string): void {
    const ik = this.instanceOf.get(key);
    if (!ik) return;
    this.instanceOf.delete(key);
    const set = this.byInstance.get(ik);
    set?.delete(key);
    if (set?.size === 0) this.byInstance.delete(ik);
  }

  /**
   * 'connect' fires before each list/watch attempt, not after it worked: count the watch as
   * healthy again only if no error follows within a second, so /readyz does not flap while the
   * API server is away.
   */
  private onConnect(): void {
    if (!this.synced) return;
    const epoch = ++this.connectEpoch;
    const t = setTimeout(() => {
      if (epoch !== this.connectEpoch) return;
      this.healthy = true;
      // A watch that resumed and held: the next outage starts from the shortest delay again.
      this.restartDelay = this.options.restartBaseMs ?? 1000;
    }, 1000);
    t.unref();
  }

  private onError(err: unknown): void {
    this.connectEpoch++;
    this.healthy = false;
    if (this.stopped) return;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, 30_000);
    this.log.error('watch of EcsInstancePower broken; restarting', {
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped || !this.informer) return;
      this.informer.start().catch((e: unknown) => this.onError(e));
    }, delay);
  }
}

/**
 * The informer keeps the very object it hands to handlers; dropping what the controller never
 * reads (managedFields grow with every status write; kubectl's last-applied copy of the spec)
 * keeps the cache small with tens of thousands of resources.
 */
function slim(obj: EcsInstancePower): void {
  delete obj.metadata.managedFields;
  const annotations = obj.metadata.annotations;
  if (annotations && 'kubectl.kubernetes.io/last-applied-configuration' in annotations) {
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
}
