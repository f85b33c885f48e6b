import { isInstanceStatus } from '../api/types.ts';
import { Batcher } from './batcher.ts';
import { EcsCallError } from './errors.ts';
import type { ActionResult, BatchResult, EcsApi, EcsGateway, EcsTarget, Observation, StartOptions, StopOptions } from './gateway.ts';
import { signingKey } from './target.ts';

export interface BatchingOptions {
  /** 1 to 100; 1 turns batching off (one call per instance). */
  maxBatchSize: number;
  /** The most a request waits for others to share its call. */
  batchWindowMs: number;
}

/**
 * The EcsGateway the reconciler uses. Observations of one region and credentials become one
 * DescribeInstances per up to 100 ids; stops (starts) with the same options become one
 * StopInstances (StartInstances) with BatchOptimization=SuccessFirst, each instance answered
 * from its own entry. Options only the single call has (confirmStop, hibernate) and lone
 * requests use StopInstance / StartInstance. Dry runs are single calls too: ECS answers a batched
 * dry run as a whole (DryRunOperation or the first instance's error), which would give every
 * member of the batch one instance's verdict.
 */
export class BatchingGateway implements EcsGateway {
  private readonly observations: Batcher<Observation>;
  private readonly actions: Batcher<ActionResult>;

  constructor(
    private readonly apiFor: (target: EcsTarget) => EcsApi,
    private readonly options: BatchingOptions,
  ) {
    const describeSize = Math.max(1, Math.min(100, options.maxBatchSize));
    this.observations = new Batcher({ maxBatchSize: describeSize, windowMs: options.batchWindowMs });
    this.actions = new Batcher({ maxBatchSize: Math.max(1, Math.min(100, options.maxBatchSize)), windowMs: options.batchWindowMs });
  }

  observe(target: EcsTarget, instanceId: string): Promise<Observation> {
    const api = this.apiFor(target);
    return this.observations.request(signingKey(target), instanceId, async (ids) => {
      const { requestId, instances } = await api.describeInstances(ids);
      const byId = new Map(instances.map((i) => [i.instanceId, i]));
      const out = new Map<string, Observation>();
      for (const id of ids) {
        const i = byId.get(id);
        out.set(
          id,
          i && isInstanceStatus(i.status)
            ? {
                instanceId: id,
                found: true,
                status: i.status,
                lockReasons: i.lockReasons,
                requestId,
                ...(i.stoppedMode ? { stoppedMode: i.stoppedMode } : {}),
                ...(i.vcpus !== undefined ? { vcpus: i.vcpus } : {}),
              }
            : { instanceId: id, found: false, lockReasons: [], requestId },
        );
      }
      return out;
    });
  }

  stop(target: EcsTarget, instanceId: string, o: StopOptions): Promise<ActionResult> {
    const api = this.apiFor(target);
    if (o.confirmStop || o.hibernate || o.dryRun || this.options.maxBatchSize <= 1) return api.stopInstance(instanceId, o);
    const key = `${signingKey(target)}|stop|${o.stoppedMode ?? ''}|${o.forceStop}`;
    return this.actions.request(key, instanceId, (ids) =>
      ids.length === 1 ? single(ids[0]!, api.stopInstance(ids[0]!, o)) : perInstance(ids, api.stopInstances(ids, o)),
    );
  }

  start(target: EcsTarget, instanceId: string, o: StartOptions): Promise<ActionResult> {
    const api = this.apiFor(target);
    if (o.dryRun || this.options.maxBatchSize <= 1) return api.startInstance(instanceId, o);
    const key = `${signingKey(target)}|start`;
    return this.actions.request(key, instanceId, (ids) =>
      ids.length === 1 ? single(ids[0]!, api.startInstance(ids[0]!, o)) : perInstance(ids, api.startInstances(ids, o)),
    );
  }
}

async function single(id: string, call: Promise<ActionResult>): Promise<Map<string, ActionResult | Error>> {
  try {
    return new Map([[id, await call]]);
  } catch (err) {
    return new Map([[id, err instanceof Error ? err : new Error(String(err))]]);
  }
}

async function perInstance(ids: string[], call: Promise<BatchResult>): Promise<Map<string, ActionResult | Error>> {
  const { requestId, results } = await call;
  const out = new Map<string, ActionResult | Error>();
  for (const r of results) {
    out.set(
      r.instanceId,
      r.code === '200' ? { requestId, ...(isInstanceStatus(r.currentStatus) ? { currentStatus: r.currentStatus } : {}) } : new EcsCallError({ code: r.code, message: r.message, requestId }),
    );
  }
  for (const id of ids) {
    if (!out.has(id)) out.set(id, new EcsCallError({ code: 'EcsError', message: `the batch answer has no entry for ${id}`, requestId }));
  }
  return out;
}
