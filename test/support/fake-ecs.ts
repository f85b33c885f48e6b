// An in-memory EcsApi for unit tests: an instance table that follows ECS's rules for stop and
// start (IncorrectInstanceStatus, DryRunOperation, NotFound), scripted failures, per-instance
// failures inside batch calls, and a log of every call with its ids and options.
import { EcsCallError } from '../../src/ecs/errors.ts';
import type {
  ActionResult,
  BatchItemResult,
  BatchResult,
  DescribedInstance,
  EcsAction,
  EcsApi,
  InstancePage,
  InstancePageQuery,
  StartOptions,
  StopOptions,
  TagResourcePage,
} from '../../src/ecs/gateway.ts';

export interface FakeInstance {
  instanceId: string;
  status: string;
  lockReasons: string[];
  tags: Record<string, string>;
}

/** ECS documents at most 1,000 instances for a tag-filtered DescribeInstances. */
export const FAKE_TAG_FILTER_LIMIT = 1000;
/** Rows per ListTagResources page (ECS does not let the caller choose). */
export const FAKE_TAG_ROWS_PER_PAGE = 50;

export interface FakeCall {
  action: EcsAction;
  ids: string[];
  options?: StopOptions | StartOptions;
  /** RequestId answered (also on failures the fake raised itself). */
  requestId: string;
}

/** An ECS error as the resilient layer hands it up (already an EcsCallError). */
export function ecsError(code: string, message = `${code} from the fake`, extra: { requestId?: string; httpStatus?: number; retryAfterMs?: number } = {}): EcsCallError {
  return new EcsCallError({ code, message, ...extra });
}

export class FakeEcsApi implements EcsApi {
  readonly instances = new Map<string, FakeInstance>();
  readonly calls: FakeCall[] = [];
  /**
   * When true, stop leaves the instance Stopping and start leaves it Starting until settle();
   * when false (the default) they land in Stopped / Running at once.
   */
  gradual = false;
  private readonly scripted = new Map<EcsAction, unknown[]>();
  private readonly batchFailures = new Map<string, { code: string; message: string }>();
  private readonly omitted = new Set<string>();
  private seq = 0;

  constructor(readonly regionId = 'cn-hangzhou', private readonly requestIdPrefix = `req-${regionId}`) {}

  addInstance(instanceId: string, status = 'Running', lockReasons: string[] = [], tags: Record<string, string> = {}): this {
    this.instances.set(instanceId, { instanceId, status, lockReasons, tags: { ...tags } });
    return this;
  }

  status(instanceId: string): string | undefined {
    return this.instances.get(instanceId)?.status;
  }

  /** The next call of `action` throws `error` (queued: several calls fail in order). */
  failNext(action: EcsAction, error: unknown, times = 1): this {
    const list = this.scripted.get(action) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.scripted.set(action, list);
    return this;
  }

  /** In StopInstances / StartInstances answers, this instance gets its own error entry. */
  failInBatch(instanceId: string, code: string, message = `${code} for ${instanceId}`): this {
    this.batchFailures.set(instanceId, { code, message });
    return this;
  }

  /** In StopInstances / StartInstances answers, this instance has no entry at all. */
  omitFromBatch(instanceId: string): this {
    this.omitted.add(instanceId);
    return this;
  }

  /** Instances in transition reach their resting state. */
  settle(): void {
    for (const i of this.instances.values()) {
      if (i.status === 'Stopping') i.status = 'Stopped';
      else if (i.status === 'Starting' || i.status === 'Pending') i.status = 'Running';
    }
  }

  callsOf(action: EcsAction): FakeCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  async describeInstances(instanceIds: string[]): Promise<{ requestId: string; instances: DescribedInstance[] }> {
    const requestId = this.record('DescribeInstances', instanceIds);
    await Promise.resolve();
    this.scriptedFailure('DescribeInstances');
    const instances = instanceIds
      .map((id) => this.instances.get(id))
      .filter((i): i is FakeInstance => i !== undefined)
      .map((i) => ({ instanceId: i.instanceId, status: i.status, lockReasons: [...i.lockReasons] }));
    return { requestId, instances };
  }

  /** Pages of 100 over the instances in insertion order; a tag query sees at most 1,000 of them. */
  async describeInstancesPage(query: InstancePageQuery): Promise<InstancePage> {
    const requestId = this.record('DescribeInstances', query.instanceIds ?? []);
    await Promise.resolve();
    this.scriptedFailure('DescribeInstances');
    let all = [...this.instances.values()].filter(
      (i) => (!query.instanceIds || query.instanceIds.includes(i.instanceId)) && (!query.tags || carries(i, query.tags)),
    );
    if (query.tags) all = all.slice(0, FAKE_TAG_FILTER_LIMIT);
    const from = query.nextToken ? Number(query.nextToken) : 0;
    const page = all.slice(from, from + 100);
    return {
      requestId,
      instances: page.map((i) => ({ instanceId: i.instanceId, status: i.status, lockReasons: [...i.lockReasons], tags: { ...i.tags } })),
      ...(from + 100 < all.length ? { nextToken: String(from + 100) } : {}),
    };
  }

  /** One row per (instance, filter tag), 50 rows a page. */
  async listTagResources(tags: Record<string, string>, nextToken?: string): Promise<TagResourcePage> {
    const requestId = this.record('ListTagResources', []);
    await Promise.resolve();
    this.scriptedFailure('ListTagResources');
    const rows = [...this.instances.values()].filter((i) => carries(i, tags)).flatMap((i) => Object.keys(tags).map(() => i.instanceId));
    const from = nextToken ? Number(nextToken) : 0;
    return {
      requestId,
      instanceIds: rows.slice(from, from + FAKE_TAG_ROWS_PER_PAGE),
      ...(from + FAKE_TAG_ROWS_PER_PAGE < rows.length ? { nextToken: String(from + FAKE_TAG_ROWS_PER_PAGE) } : {}),
    };
  }

  async stopInstance(instanceId: string, options: StopOptions): Promise<ActionResult> {
    const requestId = this.record('StopInstance', [instanceId], options);
    await Promise.resolve();
    this.scriptedFailure('StopInstance');
    const r = this.apply(instanceId, 'stop', options.dryRun);
    if (r) throw ecsError(r.code, r.message, { requestId });
    return { requestId };
  }

  async startInstance(instanceId: string, options: StartOptions): Promise<ActionResult> {
    const requestId = this.record('StartInstance', [instanceId], options);
    await Promise.resolve();
    this.scriptedFailure('StartInstance');
    const r = this.apply(instanceId, 'start', options.dryRun);
    if (r) throw ecsError(r.code, r.message, { requestId });
    return { requestId };
  }

  async stopInstances(instanceIds: string[], options: StopOptions): Promise<BatchResult> {
    const requestId = this.record('StopInstances', instanceIds, options);
    await Promise.resolve();
    this.scriptedFailure('StopInstances');
    return { requestId, results: this.batch(instanceIds, 'stop', options.dryRun) };
  }

  async startInstances(instanceIds: string[], options: StartOptions): Promise<BatchResult> {
    const requestId = this.record('StartInstances', instanceIds, options);
    await Promise.resolve();
    this.scriptedFailure('StartInstances');
    return { requestId, results: this.batch(instanceIds, 'start', options.dryRun) };
  }

  private record(action: EcsAction, ids: string[], options?: StopOptions | StartOptions): string {
    const requestId = `${this.requestIdPrefix}-${++this.seq}`;
    this.calls.push({ action, ids: [...ids], ...(options ? { options: { ...options } } : {}), requestId });
    return requestId;
  }

  private scriptedFailure(action: EcsAction): void {
    const list = this.scripted.get(action);
    if (list && list.length > 0) throw list.shift();
  }

  private batch(ids: string[], kind: 'stop' | 'start', dryRun: boolean): BatchItemResult[] {
    const out: BatchItemResult[] = [];
    for (const id of ids) {
      if (this.omitted.has(id)) continue;
      const scripted = this.batchFailures.get(id);
      if (scripted) {
        out.push({ instanceId: id, code: scripted.code, message: scripted.message, ...this.current(id) });
        continue;
      }
      const r = this.apply(id, kind, dryRun);
      out.push(r ? { instanceId: id, ...r, ...this.current(id) } : { instanceId: id, code: '200', message: 'success', ...this.current(id) });
    }
    return out;
  }

  private current(id: string): { currentStatus?: string } {
    const s = this.instances.get(id)?.status;
    return s ? { currentStatus: s } : {};
  }

  /** ECS's rules for one instance; returns the error, or undefined when the call is accepted. */
  private apply(id: string, kind: 'stop' | 'start', dryRun: boolean): { code: string; message: string } | undefined {
    const i = this.instances.get(id);
    if (!i) return { code: 'InvalidInstanceId.NotFound', message: `The specified InstanceId ${id} does not exist.` };
    if (i.lockReasons.includes('security')) return { code: 'InstanceLockedForSecurity', message: 'The instance is locked for security reasons.' };
    const from = kind === 'stop' ? 'Running' : 'Stopped';
    if (i.status !== from) return { code: 'IncorrectInstanceStatus', message: `The current status of the resource does not support this operation (${i.status}).` };
    if (dryRun) return { code: 'DryRunOperation', message: 'Request validation has been passed with DryRun flag set.' };
    if (kind === 'stop') i.status = this.gradual ? 'Stopping' : 'Stopped';
    else i.status = this.gradual ? 'Starting' : 'Running';
    return undefined;
  }
}

function carries(i: FakeInstance, tags: Record<string, string>): boolean {
  return Object.entries(tags).every(([k, v]) => Object.hasOwn(i.tags, k) && i.tags[k] === v);
}
