import { type CustomObjectsApi, type V1ObjectMeta, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/types.ts';
import type { TokenBucket } from '../util/token-bucket.ts';
import { isConflict } from '../kube/errors.ts';
import type { Fence } from './fence.ts';

/** An object of one of our kinds, with the status the controller computes for it. */
export interface WithStatus<S extends object> {
  metadata: V1ObjectMeta;
  status?: S;
}

export interface StatusWriter<S extends object> {
  /** Writes status; rejects with a 409 ApiException if the object changed since it was read. */
  write(obj: WithStatus<S>, status: S): Promise<void>;
}

/**
 * A JSON merge patch on the status subresource carrying the resourceVersion it was computed
 * from (controller-runtime's MergeFromWithOptimisticLock): a stale cache never overwrites a
 * newer status, it gets a conflict and the key is retried. A field the new status no longer has
 * is sent as null, which is how a merge patch removes it.
 */
export class PatchStatusWriter<S extends object> implements StatusWriter<S> {
  private readonly options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly plural: string,
  ) {}

  async write(obj: WithStatus<S>, status: S): Promise<void> {
    const removed = Object.keys(obj.status ?? {}).filter((key) => !(key in status));
    const body = { ...status, ...Object.fromEntries(removed.map((key) => [key, null])) };
    await this.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: this.plural,
        namespace: obj.metadata.namespace ?? 'default',
        name: obj.metadata.name ?? '',
        body: { metadata: { resourceVersion: obj.metadata.resourceVersion }, status: body },
      },
      this.options,
    );
  }
}

/**
 * Paces writes by `--kube-api-qps` / `--kube-api-burst`, lets them out only while this process
 * leads, and reports each result.
 */
export function pacedStatusWriter<S extends object>(
  inner: StatusWriter<S>,
  bucket: TokenBucket,
  fence: Fence,
  onResult: (result: 'ok' | 'conflict' | 'error') => void,
): StatusWriter<S> {
  return {
    write: async (obj, status) => {
      await bucket.take();
      fence.assertLeading('status write');
      try {
        await inner.write(obj, status);
        onResult('ok');
      } catch (err) {
        onResult(isConflict(err) ? 'conflict' : 'error');
        throw err;
      }
    },
  };
}
