import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';

export interface LeaderElectionOptions {
  name: string;
  namespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock?: Clock;
}

/**
 * client-go's leaderelection on a coordination.k8s.io/v1 Lease. A lease counts as expired when
 * its holder has not renewed it for a lease duration as timed by our own clock since we last
 * saw it change, so that clock skew between nodes does not matter. A leader that cannot renew
 * within the renew deadline stops leading (and the process exits, as controller-runtime's does).
 */
export class LeaderElector {
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private leading = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRenew = 0;
  private readonly clock: Clock;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly o: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly onChange: (leading: boolean) => void,
  ) {
    this.clock = o.clock ?? realClock;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops renewing; a leader releases the lease so that a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
      if (lease.spec?.holderIdentity === this.o.identity) {
        lease.spec.holderIdentity = '';
        if (lease.spec.acquireTime) lease.spec.acquireTime = new V1MicroTime(new Date(lease.spec.acquireTime).getTime());
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = new V1MicroTime(this.clock.now());
        await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
      }
    } catch (err) {
      this.log.info('could not release the leader lease', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.log.debug('lease attempt failed', { error: err instanceof Error ? err.message : String(err) });
    }
    if (this.stopped) return;
    const now = this.clock.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.log.info('became leader', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
        this.onChange(true);
      }
    } else if (this.leading && now - this.lastRenew > this.o.renewDeadlineMs) {
      this.leading = false;
      this.log.error('lost leadership', { lease: `${this.o.namespace}/${this.o.name}` });
      this.onChange(false);
      return;
    }
    this.timer = setTimeout(() => void this.tick(), this.o.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const { name, namespace, identity } = this.o;
    const leaseSeconds = Math.max(1, Math.round(this.o.leaseDurationMs / 1000));
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
    const held = holder !== '' && holder !== identity && this.observed.at + durationMs > now;
    if (held) return false;

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
