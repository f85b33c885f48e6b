import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../api/types.ts';
import { isConflict, isNotFound } from '../../kube/errors.ts';
import type { Fence } from '../../runtime/fence.ts';
import type { TokenBucket } from '../../util/token-bucket.ts';
import type { DesiredMember } from './plan.ts';

/** The field manager of the controller's server-side applies (kubectl shows it in managedFields). */
export const FIELD_MANAGER = 'ecs-power-controller';

/** What the set reconciler writes: members, created or updated by apply, and deleted. */
export interface MemberWriter {
  apply(member: DesiredMember): Promise<void>;
  /** Deletes the member if it is still the object of that uid; gone already is fine. */
  delete(namespace: string, name: string, uid: string | undefined): Promise<void>;
}

/**
 * Members through the Kubernetes API. Create and update are one server-side apply with the
 * controller's field manager (needs `create` and `patch`): the fields the set applied before and
 * no longer applies (a label or a spec field removed from the template) are removed, fields that
 * others set (a label added by hand) are kept. Deletes carry the uid as a precondition, so a member
 * recreated meanwhile is not deleted. Every write is paced by the controller's API budget and
 * passes the leadership fence.
 */
export class KubeMemberWriter implements MemberWriter {
  private readonly applyOptions = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly budget: TokenBucket,
    private readonly fence: Fence,
  ) {}

  async apply(member: DesiredMember): Promise<void> {
    await this.budget.take();
    this.fence.assertLeading('member apply');
    await this.api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: member.metadata.namespace,
        name: member.metadata.name,
        body: member,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      this.applyOptions,
    );
  }

  async delete(namespace: string, name: string, uid: string | undefined): Promise<void> {
    await this.budget.take();
    this.fence.assertLeading('member delete');
    try {
      await this.api.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace,
        name,
        body: { ...(uid ? { preconditions: { uid } } : {}), propagationPolicy: 'Background' },
      });
    } catch (err) {
      // Gone already, or another object of that name now (the uid precondition failed).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
