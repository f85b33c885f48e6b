import type { Metrics } from '../../runtime/metrics.ts';
import type { Clock } from '../../util/clock.ts';
import type { ReconcileMeters } from './reconciler.ts';

interface OpenStretch {
  namespace: string;
  stoppedMode: string;
  vcpus: number;
  /** Counted up to here. */
  accountedTo: number;
}

/**
 * The savings counters of SCHEDULES.md (ecspower_stopped_seconds_total and its vCPU twin): a
 * stretch opens when an observation shows an instance Stopped while meant to be, and is counted
 * continuously (at every scrape) until an observation shows otherwise or the resource goes. Only
 * the leader reconciles, so only the leader counts. Between two observations the instance is
 * taken to stay as last seen, so an out-of-band start is counted at most until the next resync.
 */
export class StoppedTimeMeter implements ReconcileMeters {
  private readonly open = new Map<string, OpenStretch>();
  private readonly namespaces = new Set<string>();

  constructor(
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {
    metrics.beforeSavingsCollect(() => this.accountAll(this.clock.now()));
  }

  transitionReached(seconds: number): void {
    this.metrics.scheduleTransition.observe(seconds);
  }

  observed(key: string, sample: { namespace: string; stopped: boolean; stoppedMode: string; vcpus: number; now: number }): void {
    if (!this.namespaces.has(sample.namespace)) {
      this.namespaces.add(sample.namespace);
      this.metrics.initialiseNamespace(sample.namespace);
    }
    const current = this.open.get(key);
    if (current) this.account(current, sample.now);
    const same = current && current.namespace === sample.namespace && current.stoppedMode === sample.stoppedMode && current.vcpus === sample.vcpus;
    if (!sample.stopped) this.open.delete(key);
    else if (!same) this.open.set(key, { namespace: sample.namespace, stoppedMode: sample.stoppedMode, vcpus: sample.vcpus, accountedTo: sample.now });
  }

  forget(key: string): void {
    const current = this.open.get(key);
    if (!current) return;
    this.account(current, this.clock.now());
    this.open.delete(key);
  }

  private accountAll(now: number): void {
    for (const stretch of this.open.values()) this.account(stretch, now);
  }

  private account(stretch: OpenStretch, now: number): void {
    const seconds = Math.max(0, now - stretch.accountedTo) / 1000;
    stretch.accountedTo = Math.max(stretch.accountedTo, now);
    if (seconds === 0) return;
    const labels = { namespace: stretch.namespace, stopped_mode: stretch.stoppedMode };
    this.metrics.stoppedSeconds.inc(labels, seconds);
    this.metrics.stoppedVcpuSeconds.inc(labels, seconds * stretch.vcpus);
  }
}
