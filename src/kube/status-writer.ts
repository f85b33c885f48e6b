import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/types.ts';
import type { EcsInstancePower, EcsInstancePowerStatus } from '../api/types.ts';

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
