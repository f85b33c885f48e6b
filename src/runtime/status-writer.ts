import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/types.ts';
import type { EcsInstancePower, EcsInstancePowerStatus } from '../api/types.ts';
import type { TokenBucket } from '../util/token-bucket.ts';
import { isConflict } from '../kube/errors.ts';
import type { Fence } from './fence.ts';

export interface StatusWriter {
  /** Writes status; rejects with a 409 ApiException if the object changed since it was read. */
  write(obj: EcsInstancePower, status: EcsInstancePowerStatus): Promise<void>;
}

/**
 * A JSON merge patch on the status subresource carrying the resourceVersion it was computed
 * from (controller-runtime's MergeFromWithOptimisticLock): a stale cache never overwrites a
 * newer status, it gets a conflict and the key is retried.
 */
export class PatchStatusWriter implements StatusWriter {
  private readonly options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  constructor(private readonly api: CustomObjectsApi) {}

  async write(obj: EcsInstancePower, status: EcsInstancePowerStatus): Promise<void> {
    await this.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: obj.metadata.namespace ?? 'default',
        name: obj.metadata.name ?? '',
        body: { metadata: { resourceVersion: obj.metadata.resourceVersion }, status },
      },
      this.options,
    );
  }
}

/**
 * Paces writes by `--kube-api-qps` / `--kube-api-burst`, lets them out only while this process
 * leads, and reports each result.
 */
export function pacedStatusWriter(
  inner: StatusWriter,
  bucket: TokenBucket,
  fence: Fence,
  onResult: (result: 'ok' | 'conflict' | 'error') => void,
): StatusWriter {
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
