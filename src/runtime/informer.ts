import { type CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject, makeInformer } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/types.ts';
import type { Informer as ClientInformer, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { kubeStatusCode } from '../kube/errors.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, obj: T) => void;

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs: the kind watched. */
  kind: string;
  /** Collection path, e.g. /apis/ecspower.io/v1alpha1/namespaces/ns/ecspowerschedules. */
  path: string;
  /** The list call (through a client with a request timeout). */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** Restart delay after a broken list/watch, doubled up to 30 s. */
  restartBaseMs?: number;
}

/** What the manager does with every informer, whatever its kind. */
export interface CacheLifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
}

export const keyOf = (obj: { metadata?: { namespace?: string; name?: string } }): string =>
  `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

/**
 * client-go's shared informer for one kind: list+watch into a cache (resuming after 410 Gone with
 * a fresh list), restarted with backoff when the API server goes away, with health for /readyz.
 * Objects are slimmed before anyone sees them: managedFields and kubectl's last-applied copy grow
 * with every write and nothing here reads them.
 */
export class Informer<T extends KubernetesObject> implements CacheLifecycle {
  private informer: (ClientInformer<T> & ObjectCache<T>) | undefined;
  private readonly handlers: Array<InformerHandler<T>> = [];
  private synced = false;
  private healthy = false;
  private stopped = false;
  private restartDelay: number;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private healthTimer: ReturnType<typeof setTimeout> | undefined;
  private connectEpoch = 0;
  private resolveFirstList: (() => void) | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly log: Logger,
    private readonly options: InformerOptions<T>,
  ) {
    this.restartDelay = options.restartBaseMs ?? 1000;
  }

  /** Handlers see every add, update and delete, in order. Register before start(). */
  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts list+watch; resolves after the first list that succeeded is in the cache. */
  async start(): Promise<void> {
    const firstList = new Promise<void>((resolve) => (this.resolveFirstList = resolve));
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await this.options.list();
      this.synced = true;
      this.healthy = true;
      this.restartDelay = this.options.restartBaseMs ?? 1000;
      this.resolveFirstList?.();
      return result;
    };
    const informer = makeInformer<T>(this.kubeConfig, this.options.path, list, this.options.labelSelector);
    this.informer = informer;
    informer.on('add', (obj) => this.deliver('add', obj));
    informer.on('update', (obj) => this.deliver('update', obj));
    informer.on('delete', (obj) => this.deliver('delete', obj));
    informer.on('connect', () => this.onConnect());
    informer.on('error', (err) => this.onError(err));
    // ListWatch.start() resolves even when the list failed (it reports through 'error'); like
    // controller-runtime's WaitForCacheSync, wait for a list that succeeded. onError restarts.
    await informer.start();
    await firstList;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.resolveFirstList?.();
    await this.informer?.stop();
  }

  /** The first list is done and the watch is not broken. */
  isReady(): boolean {
    return this.synced && this.healthy;
  }

  get(key: string): T | undefined {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    return this.informer?.get(key.slice(slash + 1), namespace === '' ? undefined : namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer?.list(namespace) ?? [];
  }

  private deliver(event: InformerEvent, obj: T): void {
    slim(obj);
    if (event !== 'delete') {
      this.healthy = true;
      this.restartDelay = this.options.restartBaseMs ?? 1000;
    }
    for (const handler of this.handlers) handler(event, obj);
  }

  /**
   * 'connect' fires before each list/watch attempt, not after it worked: count the watch as
   * healthy again only if no error follows within a second, so /readyz does not flap while the
   * API server is away.
   */
  private onConnect(): void {
    if (!this.synced) return;
    const epoch = ++this.connectEpoch;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = setTimeout(() => {
      if (epoch !== this.connectEpoch) return;
      this.healthy = true;
      // A watch that resumed and held: the next outage starts from the shortest delay again.
      this.restartDelay = this.options.restartBaseMs ?? 1000;
    }, 1000);
    this.healthTimer.unref();
  }

  private onError(err: unknown): void {
    this.connectEpoch++;
    this.healthy = false;
    if (this.stopped) return;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, 30_000);
    this.log.error(`watch of ${this.options.kind} broken; restarting`, {
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

function slim(obj: KubernetesObject): void {
  const metadata = obj.metadata;
  if (!metadata) return;
  delete metadata.managedFields;
  const annotations = metadata.annotations;
  if (annotations && 'kubectl.kubernetes.io/last-applied-configuration' in annotations) {
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
}

export interface CustomResourceInformerOptions {
  kind: string;
  plural: string;
  /** Watch one namespace only (`--namespace`). */
  namespace?: string;
  labelSelector?: string;
}

/** An Informer of one ecspower.io/v1alpha1 kind, listing through the timed API client. */
export function customResourceInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  api: CustomObjectsApi,
  log: Logger,
  options: CustomResourceInformerOptions,
): Informer<T> {
  const { plural, namespace, labelSelector } = options;
  return new Informer<T>(kubeConfig, log, {
    kind: options.kind,
    path: namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`,
    ...(labelSelector ? { labelSelector } : {}),
    list: () =>
      listInPages<T>(async (page) => {
        const request = { group: GROUP, version: VERSION, plural, ...(labelSelector ? { labelSelector } : {}), ...page };
        const list = namespace ? await api.listNamespacedCustomObject({ ...request, namespace }) : await api.listClusterCustomObject(request);
        return list as KubernetesListObject<T>;
      }),
  });
}

/** client-go's reflector pages its initial list by 500. */
export const LIST_PAGE_SIZE = 500;

/**
 * A list in pages of `LIST_PAGE_SIZE` joined into one, as client-go's pager does: each page is
 * one request under the client's timeout, so 10,000 objects on a busy API server are not one
 * request that times out and starts over. All pages come from the first page's snapshot (its
 * resourceVersion); when that snapshot has been compacted away mid-list (410 Gone on a continue
 * token), the list is taken again in one request, as client-go falls back to.
 */
export async function listInPages<T extends KubernetesObject>(
  listPage: (page: { limit?: number; _continue?: string }) => Promise<KubernetesListObject<T>>,
): Promise<KubernetesListObject<T>> {
  const first = await listPage({ limit: LIST_PAGE_SIZE });
  const items = [...first.items];
  let token = continueToken(first);
  while (token) {
    let page: KubernetesListObject<T>;
    try {
      page = await listPage({ limit: LIST_PAGE_SIZE, _continue: token });
    } catch (err) {
      if (kubeStatusCode(err) === 410) return listPage({});
      throw err;
    }
    items.push(...page.items);
    token = continueToken(page);
  }
  const { _continue: _done, continue: _raw, remainingItemCount: _remaining, ...metadata } = (first.metadata ?? {}) as ListMetadata;
  return { ...first, metadata, items };
}

type ListMetadata = NonNullable<KubernetesListObject<KubernetesObject>['metadata']> & { continue?: string };

// Custom object lists arrive as plain JSON (`continue`); typed lists are deserialized (`_continue`).
function continueToken(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const metadata = list.metadata as ListMetadata | undefined;
  return metadata?._continue || metadata?.continue || undefined;
}
