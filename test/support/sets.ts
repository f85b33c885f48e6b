// EcsInstancePowerSets and their members on a test cluster, for integration and e2e tests.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, PLURAL, VERSION, type Condition, type EcsInstancePower } from '../../src/api/types.ts';
import { Resources } from './operator-harness.ts';
import { SET_KIND, SET_LABEL, SET_PLURAL, type EcsInstancePowerSet, type EcsInstancePowerSetSpec } from '../../src/api/powerset-types.ts';

export class SetResources {
  private readonly custom: CustomObjectsApi;
  /** The namespace's EcsInstancePowers and Events. */
  private readonly resources: Resources;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.resources = new Resources(kc, namespace);
  }

  private readonly at = (plural: string) => ({ group: GROUP, version: VERSION, namespace: this.namespace, plural });

  async create(name: string, spec: EcsInstancePowerSetSpec, labels?: Record<string, string>): Promise<EcsInstancePowerSet> {
    const body = { apiVersion: API_VERSION, kind: SET_KIND, metadata: { name, namespace: this.namespace, ...(labels ? { labels } : {}) }, spec };
    return (await this.custom.createNamespacedCustomObject({ ...this.at(SET_PLURAL), body })) as EcsInstancePowerSet;
  }

  async get(name: string): Promise<EcsInstancePowerSet> {
    return (await this.custom.getNamespacedCustomObject({ ...this.at(SET_PLURAL), name })) as EcsInstancePowerSet;
  }

  /** A JSON merge patch of the set (null removes a field). */
  async patch(name: string, body: object): Promise<EcsInstancePowerSet> {
    return (await this.custom.patchNamespacedCustomObject({ ...this.at(SET_PLURAL), name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as EcsInstancePowerSet;
  }

  async delete(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ ...this.at(SET_PLURAL), name, body: { propagationPolicy: 'Background' } });
  }

  /** The set's members: EcsInstancePowers labelled with its name. */
  async members(setName: string): Promise<EcsInstancePower[]> {
    const list = (await this.custom.listNamespacedCustomObject({ ...this.at(PLURAL), labelSelector: `${SET_LABEL}=${setName}` })) as { items: EcsInstancePower[] };
    return list.items;
  }

  events(name: string, kind = SET_KIND): ReturnType<Resources['events']> {
    return this.resources.events(name, kind);
  }

  /** Polls until `predicate` holds for the set; fails with the last status seen. */
  async waitFor(name: string, predicate: (s: EcsInstancePowerSet) => boolean, timeoutMs: number, what: string): Promise<EcsInstancePowerSet> {
    const deadline = Date.now() + timeoutMs;
    let last: EcsInstancePowerSet | undefined;
    for (;;) {
      try {
        last = await this.get(name);
        if (predicate(last)) return last;
      } catch {
        // not there yet
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on set ${this.namespace}/${name}; last status: ${JSON.stringify(last?.status)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Ready=True with this reason for the current generation. */
  waitForReady(name: string, reason: string, timeoutMs: number, extra: (s: EcsInstancePowerSet) => boolean = () => true): Promise<EcsInstancePowerSet> {
    return this.waitFor(
      name,
      (s) => setCondition(s, 'Ready')?.status === 'True' && setCondition(s, 'Ready')?.reason === reason && s.status?.observedGeneration === s.metadata.generation && extra(s),
      timeoutMs,
      `Ready=True (${reason})`,
    );
  }
}

export function setCondition(s: EcsInstancePowerSet | undefined, type: Condition['type']): Condition | undefined {
  return s?.status?.conditions?.find((c) => c.type === type);
}
