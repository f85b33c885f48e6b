import { randomBytes } from 'node:crypto';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { boundMessage } from '../api/conditions.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../util/clock.ts';
import { realClock, type Cancel } from '../util/clock.ts';
import { TokenBucket } from '../util/token-bucket.ts';
import { describeKubeError, isNotFound } from '../kube/errors.ts';

export interface EventRecorder {
  emit(obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

interface Series {
  name: string;
  namespace: string;
  type: string;
  reason: string;
  involvedObject: CoreV1Event['involvedObject'];
  /** The newest message: a repeat updates it on the existing Event. */
  message: string;
  count: number;
  firstAt: number;
  lastWrittenAt: number;
  lastCount: number;
  pending: boolean;
  /** A write of the newest count and message, due when the minimum interval has passed. */
  flush: Cancel | undefined;
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
 * client-go's EventCorrelator in small, aggregated per (object, type, reason) as API.md says: a
 * repeat updates the count and the message of the existing Event instead of creating another, so
 * a retried error (whose message carries a new RequestId every time) is one Event, not one per
 * retry. Events are best effort: a failed write is logged at warn and dropped.
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
    this.window = options.aggregateWindowMs ?? 30 * 60_000;
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

  emit(obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, rawMessage: string): void {
    const message = boundMessage(rawMessage);
    const metadata = obj.metadata ?? {};
    const uid = metadata.uid ?? `${metadata.namespace}/${metadata.name}`;
    const key = `${uid}\u0000${type}\u0000${reason}`;
    const now = this.clock.now();
    const s = this.series.get(key);
    if (s && now - s.firstAt < this.window) {
      s.count++;
      s.message = message;
      if (!s.pending && now - s.lastWrittenAt >= this.minInterval && this.takeToken()) void this.update(s);
      // Otherwise the repeat is written later, even if nothing else happens: a last repeat is not lost.
      else s.flush ??= this.clock.setTimer(() => this.flushSeries(s), Math.max(1, s.lastWrittenAt + this.minInterval - now));
      return;
    }
    if (!this.takeToken()) return;
    this.evictIfFull();
    const fresh: Series = {
      name: eventName(metadata.name),
      namespace: metadata.namespace ?? 'default',
      type,
      reason,
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: metadata.name,
        namespace: metadata.namespace,
        uid: metadata.uid,
        resourceVersion: metadata.resourceVersion,
      },
      count: 1,
      message,
      firstAt: now,
      lastWrittenAt: now,
      lastCount: 1,
      pending: true,
      flush: undefined,
    };
    this.series.set(key, fresh);
    void this.create(fresh);
  }

  private async create(s: Series): Promise<void> {
    s.pending = true;
    const first = new Date(s.firstAt);
    const body: CoreV1Event = {
      metadata: { name: s.name, namespace: s.namespace },
      involvedObject: s.involvedObject,
      type: s.type,
      reason: s.reason,
      message: s.message,
      count: s.count,
      firstTimestamp: first,
      lastTimestamp: new Date(this.clock.now()),
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: process.env['POD_NAME'] ?? process.env['HOSTNAME'] ?? 'ecs-power',
    };
    try {
      await this.api.createNamespacedEvent({ namespace: s.namespace, body });
    } catch (err) {
      this.log.warn('event not recorded', { reason: s.reason, object: `${s.namespace}/${s.involvedObject.name ?? ''}`, error: describeKubeError(err) });
    } finally {
      s.pending = false;
    }
  }

  /** Drops pending repeat writes (shutdown): Events are best effort. */
  close(): void {
    for (const s of this.series.values()) {
      s.flush?.();
      s.flush = undefined;
    }
  }

  private flushSeries(s: Series): void {
    s.flush = undefined;
    if (s.count === s.lastCount) return;
    if (s.pending) {
      s.flush = this.clock.setTimer(() => this.flushSeries(s), this.minInterval);
      return;
    }
    if (this.takeToken()) void this.update(s);
  }

  private async update(s: Series): Promise<void> {
    s.pending = true;
    const now = this.clock.now();
    const count = s.count;
    try {
      await this.api.patchNamespacedEvent(
        { name: s.name, namespace: s.namespace, body: { count, message: s.message, lastTimestamp: new Date(now).toISOString() } },
        this.patchOptions,
      );
      s.lastWrittenAt = now;
      s.lastCount = count;
    } catch (err) {
      if (isNotFound(err)) {
        // The API server let the Event expire (1 h by default): the streak goes on in a new one.
        s.name = eventName(s.involvedObject.name);
        s.pending = false;
        await this.create(s);
        return;
      }
      this.log.warn('event not updated', { event: `${s.namespace}/${s.name}`, error: describeKubeError(err) });
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

function eventName(objectName: string | undefined): string {
  return `${objectName ?? 'unknown'}.${randomBytes(8).toString('hex')}`;
}
