/**
 * Instance records and their power state on the injectable `now` clock.
 *
 * Each instance has two timelines (see `timeline.ts`): `truth`, what the instance is (used for
 * every check: a stop accepted a moment ago makes a second stop fail), and `shown`, what
 * describes report. An accepted stop or start changes `truth` at once and `shown` only after
 * `acceptLagMs`; describes read `shown` as it was `describeLagMs` ago.
 */
import { shapeOf } from './instance-types.ts';
import { Timeline } from './timeline.ts';
import type { PowerState } from './timeline.ts';
import type { EmulatedInstance, EmulatedInstanceInit, EmulatedInstancePatch, InstanceStatus } from './types.ts';

export interface Durations {
  stopMs: number;
  forceStopMs: number;
  startMs: number;
  acceptLagMs: number;
  describeLagMs: number;
}

export interface InstanceRecord {
  /** Creation order: the listing order of describes and the cursor of NextToken. */
  seq: number;
  instanceId: string;
  regionId: string;
  truth: Timeline;
  shown: Timeline;
  chargeType: 'PostPaid' | 'PrePaid';
  spot: boolean;
  networkType: 'vpc' | 'classic';
  instanceType: string;
  localDisk: boolean;
  locks: string[];
  kmsUnauthorized: boolean;
  noStock: boolean;
  noStockUntil: number | undefined;
  noStockAttempts: number;
  hibernationConfigured: boolean;
  tags: Record<string, string>;
  cpu: number | undefined;
  memoryMiB: number | undefined;
}

export interface StopRequest {
  force: boolean;
  mode: 'KeepCharging' | 'StopCharging' | undefined;
  hibernate: boolean;
}

const STATUSES: readonly InstanceStatus[] = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'];
const DEFAULT_INSTANCE_TYPE = 'ecs.g7.large';
const MAX_TAGS = 20;

export function isInstanceStatus(s: unknown): s is InstanceStatus {
  return typeof s === 'string' && (STATUSES as readonly string[]).includes(s);
}

function hasLocalDisk(instanceType: string): boolean {
  return /^ecs\.i1\./.test(instanceType);
}

function settledStatus(s: InstanceStatus): InstanceStatus {
  return s === 'Stopping' ? 'Stopped' : s === 'Starting' || s === 'Pending' ? 'Running' : s;
}

function checkedTags(tags: Record<string, string>): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw new Error(`an instance carries at most ${MAX_TAGS} tags`);
  for (const [k, v] of entries) {
    if (!k || typeof v !== 'string') throw new Error(`bad tag ${JSON.stringify(k)}=${JSON.stringify(v)}: keys are non-empty strings, values strings`);
  }
  return { ...tags };
}

function checkCapacity(p: EmulatedInstancePatch): void {
  if (p.noStockAttempts !== undefined && !(Number.isInteger(p.noStockAttempts) && p.noStockAttempts >= 0)) {
    throw new Error(`noStockAttempts: a non-negative integer, got ${String(p.noStockAttempts)}`);
  }
  for (const name of ['noStockUntil', 'noStockForMs'] as const) {
    const v = p[name];
    if (v !== undefined && !(typeof v === 'number' && !Number.isNaN(v))) throw new Error(`${name}: a number (ms), got ${String(v)}`);
  }
}

/** StoppedMode as DescribeInstances reports it for a power state. */
export function reportedStoppedMode(s: PowerState): 'KeepCharging' | 'StopCharging' | 'Not-applicable' {
  return s.status === 'Stopped' || s.status === 'Stopping' ? s.stopMode : 'Not-applicable';
}

export class InstanceStore {
  private readonly recs = new Map<string, InstanceRecord>();
  private nextSeq = 1;

  constructor(
    private readonly now: () => number,
    private readonly durations: Durations,
  ) {}

  add(init: EmulatedInstanceInit): void {
    if (!init.instanceId) throw new Error('addInstance: instanceId is required');
    if (!init.regionId) throw new Error('addInstance: regionId is required');
    if (this.recs.has(init.instanceId)) throw new Error(`addInstance: ${init.instanceId} exists already`);
    if (init.status !== undefined && !isInstanceStatus(init.status)) throw new Error(`addInstance: unknown status ${String(init.status)}`);
    const instanceType = init.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const initial: PowerState = { status: 'Running', stopMode: init.stoppedMode ?? 'KeepCharging', hibernated: false };
    const t = this.now();
    const rec: InstanceRecord = {
      seq: this.nextSeq++,
      instanceId: init.instanceId,
      regionId: init.regionId,
      truth: new Timeline(t, initial),
      shown: new Timeline(t, initial),
      chargeType: init.chargeType ?? 'PostPaid',
      spot: init.spot ?? false,
      networkType: init.networkType ?? 'vpc',
      instanceType,
      localDisk: init.localDisk ?? hasLocalDisk(instanceType),
      locks: [...(init.locks ?? [])],
      kmsUnauthorized: init.kmsUnauthorized ?? false,
      noStock: false,
      noStockUntil: undefined,
      noStockAttempts: 0,
      hibernationConfigured: init.hibernationConfigured ?? false,
      tags: checkedTags(init.tags ?? {}),
      cpu: init.cpu,
      memoryMiB: init.memoryMiB,
    };
    checkCapacity(init);
    this.applyCapacity(rec, init);
    this.recs.set(rec.instanceId, rec);
    this.applyStatus(rec, init.status ?? 'Running');
  }

  remove(id: string): void {
    this.recs.delete(id);
  }

  get(id: string): InstanceRecord | undefined {
    return this.recs.get(id);
  }

  /** All records in creation order. */
  list(): InstanceRecord[] {
    return [...this.recs.values()];
  }

  /** What the instance is now. */
  stateOf(rec: InstanceRecord): PowerState {
    const t = this.now();
    rec.truth.forgetBefore(t);
    return rec.truth.at(t);
  }

  /** What a describe answers now. */
  describedStateOf(rec: InstanceRecord): PowerState {
    const t = this.now() - this.durations.describeLagMs;
    rec.shown.forgetBefore(t);
    return rec.shown.at(t);
  }

  view(id: string): EmulatedInstance | undefined {
    const rec = this.recs.get(id);
    return rec ? this.toView(rec) : undefined;
  }

  views(): EmulatedInstance[] {
    return this.list().map((r) => this.toView(r));
  }

  setStatus(id: string, status: InstanceStatus, holdMs?: number): void {
    const rec = this.mustGet(id);
    if (!isInstanceStatus(status)) throw new Error(`setStatus: unknown status ${String(status)}`);
    this.applyStatus(rec, status, holdMs);
  }

  update(id: string, patch: EmulatedInstancePatch): void {
    const rec = this.mustGet(id);
    // Validate everything first: a bad patch changes nothing.
    if (patch.status !== undefined && !isInstanceStatus(patch.status)) throw new Error(`update: unknown status ${String(patch.status)}`);
    const tags = patch.tags === undefined ? undefined : checkedTags(patch.tags);
    checkCapacity(patch);
    if (tags !== undefined) rec.tags = tags;
    if (patch.regionId !== undefined) rec.regionId = patch.regionId;
    if (patch.chargeType !== undefined) rec.chargeType = patch.chargeType;
    if (patch.spot !== undefined) rec.spot = patch.spot;
    if (patch.networkType !== undefined) rec.networkType = patch.networkType;
    if (patch.instanceType !== undefined) {
      rec.instanceType = patch.instanceType;
      if (patch.localDisk === undefined) rec.localDisk = hasLocalDisk(patch.instanceType);
    }
    if (patch.localDisk !== undefined) rec.localDisk = patch.localDisk;
    if (patch.locks !== undefined) rec.locks = [...patch.locks];
    if (patch.kmsUnauthorized !== undefined) rec.kmsUnauthorized = patch.kmsUnauthorized;
    if (patch.hibernationConfigured !== undefined) rec.hibernationConfigured = patch.hibernationConfigured;
    if (patch.cpu !== undefined) rec.cpu = patch.cpu;
    if (patch.memoryMiB !== undefined) rec.memoryMiB = patch.memoryMiB;
    this.applyCapacity(rec, patch);
    if (patch.stoppedMode !== undefined) {
      rec.truth.amend(this.now(), { stopMode: patch.stoppedMode });
      rec.shown.amend(this.now(), { stopMode: patch.stoppedMode });
    }
    if (patch.status !== undefined) this.applyStatus(rec, patch.status);
  }

  beginStop(rec: InstanceRecord, req: StopRequest): void {
    const d = this.durations;
    const state: PowerState = { status: 'Stopping', stopMode: req.mode ?? 'KeepCharging', hibernated: req.hibernate };
    this.schedule(rec, state, req.force ? d.forceStopMs : d.stopMs);
  }

  beginStart(rec: InstanceRecord): void {
    this.schedule(rec, { status: 'Starting', stopMode: this.stateOf(rec).stopMode, hibernated: false }, this.durations.startMs);
  }

  /** Whether a start of this instance now meets no capacity; `attempt` counts it against `noStockAttempts`. */
  outOfStock(rec: InstanceRecord, attempt: boolean): boolean {
    let denied = rec.noStock || (rec.noStockUntil !== undefined && this.now() < rec.noStockUntil);
    if (rec.noStockAttempts > 0) {
      if (attempt) rec.noStockAttempts--;
      denied = true;
    }
    return denied;
  }

  /** An accepted stop or start: busy at once, reported after the acceptance lag. */
  private schedule(rec: InstanceRecord, transitional: PowerState, durationMs: number): void {
    const t = this.now();
    const lag = this.durations.acceptLagMs;
    const settled: PowerState = { ...transitional, status: settledStatus(transitional.status) };
    rec.truth.rewrite(t, [
      { at: t, ...transitional },
      { at: t + lag + durationMs, ...settled },
    ]);
    rec.shown.rewrite(t, [
      { at: t + lag, ...transitional },
      { at: t + lag + durationMs, ...settled },
    ]);
  }

  private applyCapacity(rec: InstanceRecord, p: EmulatedInstancePatch): void {
    if (p.noStock === false) {
      // Capacity is back: every form of "no stock" ends.
      rec.noStockUntil = undefined;
      rec.noStockAttempts = 0;
    }
    if (p.noStock !== undefined) rec.noStock = p.noStock;
    if (p.noStockUntil !== undefined) rec.noStockUntil = p.noStockUntil;
    if (p.noStockForMs !== undefined) rec.noStockUntil = this.now() + p.noStockForMs;
    if (p.noStockAttempts !== undefined) rec.noStockAttempts = p.noStockAttempts;
  }

  private mustGet(id: string): InstanceRecord {
    const rec = this.recs.get(id);
    if (!rec) throw new Error(`no emulated instance ${id}`);
    return rec;
  }

  /** Out-of-band change (drift, initial status): immediate on both timelines, no acceptance lag. */
  private applyStatus(rec: InstanceRecord, status: InstanceStatus, holdMs?: number): void {
    const t = this.now();
    const current = this.stateOf(rec);
    const keepsStop = status === 'Stopping' || status === 'Stopped';
    const state: PowerState = { status, stopMode: current.stopMode, hibernated: keepsStop && current.hibernated };
    const changes = [{ at: t, ...state }];
    if (status !== 'Running' && status !== 'Stopped') {
      const d = holdMs ?? (status === 'Stopping' ? this.durations.stopMs : this.durations.startMs);
      if (Number.isFinite(d)) changes.push({ at: t + d, ...state, status: settledStatus(status) });
    }
    rec.truth.rewrite(t, changes);
    rec.shown.rewrite(t, changes);
  }

  private toView(rec: InstanceRecord): EmulatedInstance {
    const state = this.stateOf(rec);
    const shape = shapeOfRecord(rec);
    return {
      instanceId: rec.instanceId,
      regionId: rec.regionId,
      status: state.status,
      chargeType: rec.chargeType,
      spot: rec.spot,
      networkType: rec.networkType,
      instanceType: rec.instanceType,
      localDisk: rec.localDisk,
      locks: [...rec.locks],
      kmsUnauthorized: rec.kmsUnauthorized,
      noStock: rec.noStock,
      stoppedMode: reportedStoppedMode(state),
      describedStatus: this.describedStateOf(rec).status,
      transitionEndsAt: rec.truth.nextChangeAfter(this.now()),
      noStockUntil: rec.noStockUntil,
      noStockAttempts: rec.noStockAttempts,
      hibernationConfigured: rec.hibernationConfigured,
      hibernated: state.hibernated,
      tags: { ...rec.tags },
      cpu: shape.cpu,
      memoryMiB: shape.memoryMiB,
    };
  }
}

/** vCPUs and MiB of a record (its own values, else its type's). */
export function shapeOfRecord(rec: InstanceRecord): { cpu: number; memoryMiB: number } {
  const shape = shapeOf(rec.instanceType);
  return { cpu: rec.cpu ?? shape.cpu, memoryMiB: rec.memoryMiB ?? shape.memoryMiB };
}
