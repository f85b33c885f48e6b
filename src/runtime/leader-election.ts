import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Cancel, Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { describeKubeError, isConflict, isForbidden, isNotFound } from '../kube/errors.ts';
import { NotLeaderError, type Fence } from './fence.ts';

export interface LeaderElectionOptions {
  name: string;
  namespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock?: Clock;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Leadership ended without stop(): the process must stop acting at once (main exits). */
  onStoppedLeading(): void;
}

/**
 * client-go's leaderelection on a coordination.k8s.io/v1 Lease, with fencing.
 *
 * A lease counts as expired when its holder has not renewed it for a lease duration as timed by
 * our own clock since we last saw it change, so clock skew between nodes does not matter.
 *
 * Fencing: the leader's authority is time-bounded. It counts from the moment the last successful
 * renew was *sent* (the API server stored it later, so a standby cannot see an older record) and
 * ends `renewDeadline` later unless another renew succeeds. `isLeader()` checks that bound on
 * every call, and a timer ends leadership when it passes, so a leader whose API calls hang (a
 * half-open connection) stops acting before a standby, which waits a full lease duration, can
 * take over. Every Lease call is bounded by the client's request timeout.
 */
export class LeaderElector implements Fence {
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private leading = false;
  private stopped = false;
  private started = false;
  private retryTimer: Cancel | undefined;
  private deadlineTimer: Cancel | undefined;
  /** When the last successful acquire/renew was sent. */
  private renewedFrom = 0;
  /** When the last attempt (successful or not) finished; /healthz reads it. */
  private lastAttemptAt = 0;
  private readonly clock: Clock;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly callbacks: LeaderCallbacks,
  ) {
    this.clock = options.clock ?? realClock;
  }

  /** True only while the lease is ours and its renew deadline has not passed. */
  isLeader(): boolean {
    return this.leading && this.clock.now() < this.renewedFrom + this.options.renewDeadlineMs;
  }

  /** Fence: rejects an ECS or status write from a process that may no longer lead. */
  assertLeading(what: string): void {
    if (!this.isLeader()) throw new NotLeaderError(what);
  }

  /** /healthz: the election loop has completed an attempt within the lease duration. */
  isHealthy(): boolean {
    if (!this.started || this.stopped) return true;
    return this.clock.now() - this.lastAttemptAt <= this.options.leaseDurationMs;
  }

  start(): void {
    this.started = true;
    this.lastAttemptAt = this.clock.now();
    void this.attempt();
  }

  /** Stops the loop; a leader releases the lease so that a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.();
    this.deadlineTimer?.();
    const wasLeading = this.isLeader();
    this.leading = false;
    if (!wasLeading) return;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
      if (lease.spec?.holderIdentity === this.options.identity) {
        lease.spec.holderIdentity = '';
        if (lease.spec.acquireTime) lease.spec.acquireTime = new V1MicroTime(new Date(lease.spec.acquireTime).getTime());
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = new V1MicroTime(this.clock.now());
        await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: lease });
      }
    } catch (err) {
      this.log.warn('could not release the leader lease', { error: describeKubeError(err) });
    }
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.clock.now();
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew(sentAt);
    } catch (err) {
      const level = isForbidden(err) || this.leading ? 'warn' : 'info';
      this.log[level]('lease attempt failed', { lease: this.leaseName(), error: describeKubeError(err) });
    }
    if (this.stopped) return;
    this.lastAttemptAt = this.clock.now();
    if (ok) {
      this.renewedFrom = sentAt;
      this.armDeadline();
      if (!this.leading) {
        this.leading = true;
        this.log.info('became leader', { lease: this.leaseName(), identity: this.options.identity });
        this.callbacks.onStartedLeading();
      }
    } else if (this.leading && !this.isLeader()) {
      this.lose('the lease could not be renewed within the renew deadline');
      return;
    }
    this.retryTimer = this.clock.setTimer(() => void this.attempt(), this.options.retryPeriodMs);
  }

  /** Ends leadership when the renew deadline passes, even while a Lease call still hangs. */
  private armDeadline(): void {
    this.deadlineTimer?.();
    const at = this.renewedFrom + this.options.renewDeadlineMs;
    this.deadlineTimer = this.clock.setTimer(() => {
      if (this.leading && !this.stopped && this.clock.now() >= this.renewedFrom + this.options.renewDeadlineMs) {
        this.lose('renew deadline passed without a successful renew');
      }
    }, Math.max(0, at - this.clock.now()));
  }

  private lose(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopped = true;
    this.retryTimer?.();
    this.deadlineTimer?.();
    this.log.error('lost leadership', { lease: this.leaseName(), why });
    this.callbacks.onStoppedLeading();
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { name, namespace, identity } = this.options;
    const leaseSeconds = Math.max(1, Math.round(this.options.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const t = new V1MicroTime(now);
      await this.api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: t, renewTime: t, leaseTransitions: 0 },
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewTime = spec.renewTime ? new Date(spec.renewTime).toISOString() : '';
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, at: now };
    }
    const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    const heldByOther = holder !== '' && holder !== identity && this.observed.at + durationMs > now;
    if (heldByOther) return false;

    const t = new V1MicroTime(now);
    const takingOver = holder !== identity;
    lease.spec = {
      ...spec,
      // A Date read back would serialise with millisecond precision, which MicroTime rejects.
      ...(spec.acquireTime ? { acquireTime: new V1MicroTime(new Date(spec.acquireTime).getTime()) } : {}),
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: t,
      ...(takingOver ? { acquireTime: t, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    return true;
  }
}
