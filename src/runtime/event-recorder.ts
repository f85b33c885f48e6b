import { randomBytes } from 'node:crypto';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { EcsInstancePower } from '../api/types.ts';
import { boundMessage } from '../api/conditions.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { TokenBucket } from '../util/token-bucket.ts';

export interface EventRecorder {
  emit(obj: EcsInstancePower, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  lastWrittenAt: number;
  lastCount: number;
  pending: boolean;
}

export interface AggregatingRecorderOptions {
  component: string;
  /** An identical event within this window updates the existing one (count, lastTimestamp). */
  aggregateWindowMs?: number;
  /** At most one API write per series per this interval; counts in between are carried. */
  minWriteIntervalMs?: number;
  maxSeries?: number;
  /** API writes for events per second (and burst): events never crowd out status writes. */
  qps?: number;
  burst?: number;
  /** Called for each event dropped over budget. */
  onDropped?: () => void;
  clock?: Clock;
}

/**
 * client-go's EventCorrelator in small: identical events (object, type, reason, message) are
 * folded into one Event whose count grows, and retried failures do not flood the API server.
 * Events are best effort: a failed write is logged and dropped.
 */
export class AggregatingEventRecorder implements EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly clock: Clock;
  private readonly window: number;
  private readonly minInterval: number;
  private readonly maxSeries: number;
  private readonly patchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  private readonly budget: TokenBucket;

  constructor(
    private readonly api: CoreV1Api,
    private readonly log: Logger,
    private readonly options: AggregatingRecorderOptions,
  ) {
    this.clock = options.clock ?? realClock;
    this.window = options.aggregateWindowMs ?? 10 * 60_000;
    this.minInterval = options.minWriteIntervalMs ?? 30_000;
    this.maxSeries = options.maxSeries ?? 4096;
    this.budget = new TokenBucket(options.qps ?? 10, options.burst ?? 100, this.clock);
  }

  /**
   * Events are best effort (client-go drops them too when its queue is full): when ten thousand
   * resources change at once, their Events must not take the API server's write capacity from
   * the status writes that GitOps tools wait on.
   */
  private takeToken(): boolean {
    if (this.budget.tryTake()) return true;
    this.options.onDropped?.();
    return false;
  }

  emit(obj: EcsInstancePower, type: 'Normal' | 'Warning', reason: string, rawMessage: string): void {
    const message = boundMessage(rawMessage);
    const uid = obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`;
    const key = `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = this.clock.now();
    const s = this.series.get(key);
    if (s && now - s.firstAt < this.window) {
      s.count++;
      if (!s.pending && now - s.lastWrittenAt >= this.minInterval && this.takeToken()) void this.update(s);
      return;
    }
    if (!this.takeToken()) return;
    this.evictIfFull();
    const fresh: Series = {
      name: `${obj.metadata.name ?? 'unknown'}.${randomBytes(8).toString('hex')}`,
      namespace: obj.metadata.namespace ?? 'default',
      count: 1,
      firstAt: now,
      lastWrittenAt: now,
      lastCount: 1,
      pending: true,
    };
    this.series.set(key, fresh);
    void this.create(obj, fresh, type, reason, message);
  }

  private async create(obj: EcsInstancePower, s: Series, type: string, reason: string, message: string): Promise<void> {
    const at = new Date(s.firstAt);
    const body: CoreV1Event = {
      metadata: { name: s.name, namespace: s.namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: process.env['POD_NAME'] ?? process.env['HOSTNAME'] ?? 'ecs-power',
    };
    try {
      await this.api.createNamespacedEvent({ namespace: s.namespace, body });
    } catch (err) {
      this.log.debug('event not recorded', { reason, error: err instanceof Error ? err.message : String(err) });
    } finally {
      s.pending = false;
    }
  }

  private async update(s: Series): Promise<void> {
    s.pending = true;
    const now = this.clock.now();
    const count = s.count;
    try {
      await this.api.patchNamespacedEvent(
        { name: s.name, namespace: s.namespace, body: { count, lastTimestamp: new Date(now).toISOString() } },
        this.patchOptions,
      );
      s.lastWrittenAt = now;
      s.lastCount = count;
    } catch (err) {
      this.log.debug('event not updated', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      s.pending = false;
    }
  }

  private evictIfFull(): void {
    if (this.series.size < this.maxSeries) return;
    const oldest = this.series.keys().next();
    if (!oldest.done) this.series.delete(oldest.value);
  }
}
