/**
 * Instance store with a lazily evaluated state machine: no timers, the status of an instance in
 * transition is settled from the clock whenever it is read.
 *
 *   Running  --StopInstance-->  Stopping --(stopMs | forceStopMs)--> Stopped
 *   Stopped  --StartInstance--> Starting --(startMs)--------------> Running
 *   Pending  --(startMs)--> Running
 */
import type { EmulatedInstance, EmulatedInstanceInit, InstanceStatus } from './types.ts';

export interface Durations {
  stopMs: number;
  forceStopMs: number;
  startMs: number;
}

export interface InstanceRecord {
  instanceId: string;
  regionId: string;
  status: InstanceStatus;
  /** When the transitional `status` settles. */
  until: number | undefined;
  chargeType: 'PostPaid' | 'PrePaid';
  spot: boolean;
  networkType: 'vpc' | 'classic';
  instanceType: string;
  localDisk: boolean;
  locks: string[];
  kmsUnauthorized: boolean;
  noStock: boolean;
  stopMode: 'KeepCharging' | 'StopCharging';
}

const STATUSES: readonly InstanceStatus[] = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'];
const DEFAULT_INSTANCE_TYPE = 'ecs.g7.large';

export function isInstanceStatus(s: unknown): s is InstanceStatus {
  return typeof s === 'string' && (STATUSES as readonly string[]).includes(s);
}

function hasLocalDisk(instanceType: string): boolean {
  return /^ecs\.i1\./.test(instanceType);
}

function settledStatus(s: InstanceStatus): InstanceStatus {
  return s === 'Stopping' ? 'Stopped' : s === 'Starting' || s === 'Pending' ? 'Running' : s;
}

export class InstanceStore {
  private readonly recs = new Map<string, InstanceRecord>();

  constructor(
    private readonly now: () => number,
    private readonly durations: Durations,
  ) {}

  add(init: EmulatedInstanceInit): void {
    if (!init.instanceId) throw new Error('addInstance: instanceId is required');
    if (!init.regionId) throw new Error('addInstance: regionId is required');
    if (this.recs.has(init.instanceId)) throw new Error(`addInstance: ${init.instanceId} exists already`);
    const instanceType = init.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const rec: InstanceRecord = {
      instanceId: init.instanceId,
      regionId: init.regionId,
      status: 'Running',
      until: undefined,
      chargeType: init.chargeType ?? 'PostPaid',
      spot: init.spot ?? false,
      networkType: init.networkType ?? 'vpc',
      instanceType,
      localDisk: init.localDisk ?? hasLocalDisk(instanceType),
      locks: [...(init.locks ?? [])],
      kmsUnauthorized: init.kmsUnauthorized ?? false,
      noStock: init.noStock ?? false,
      stopMode: init.stoppedMode ?? 'KeepCharging',
    };
    this.recs.set(rec.instanceId, rec);
    this.applyStatus(rec, init.status ?? 'Running');
  }

  remove(id: string): void {
    this.recs.delete(id);
  }

  /** The record with its status settled, or undefined. */
  get(id: string): InstanceRecord | undefined {
    const rec = this.recs.get(id);
    if (rec) this.settle(rec);
    return rec;
  }

  /** All records, settled, in insertion order. */
  list(): InstanceRecord[] {
    const out = [...this.recs.values()];
    for (const r of out) this.settle(r);
    return out;
  }

  view(id: string): EmulatedInstance | undefined {
    const rec = this.get(id);
    return rec ? toView(rec) : undefined;
  }

  setStatus(id: string, status: InstanceStatus, holdMs?: number): void {
    const rec = this.mustGet(id);
    if (!isInstanceStatus(status)) throw new Error(`setStatus: unknown status ${String(status)}`);
    this.applyStatus(rec, status, holdMs);
  }

  update(id: string, patch: Partial<Omit<EmulatedInstanceInit, 'instanceId'>>): void {
    const rec = this.mustGet(id);
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
    if (patch.noStock !== undefined) rec.noStock = patch.noStock;
    if (patch.stoppedMode !== undefined) rec.stopMode = patch.stoppedMode;
    if (patch.status !== undefined) this.setStatus(id, patch.status);
  }

  beginStop(rec: InstanceRecord, force: boolean, mode: 'KeepCharging' | 'StopCharging' | undefined): void {
    rec.status = 'Stopping';
    rec.until = this.now() + (force ? this.durations.forceStopMs : this.durations.stopMs);
    rec.stopMode = mode ?? 'KeepCharging';
  }

  beginStart(rec: InstanceRecord): void {
    rec.status = 'Starting';
    rec.until = this.now() + this.durations.startMs;
  }

  private mustGet(id: string): InstanceRecord {
    const rec = this.get(id);
    if (!rec) throw new Error(`no emulated instance ${id}`);
    return rec;
  }

  private applyStatus(rec: InstanceRecord, status: InstanceStatus, holdMs?: number): void {
    rec.status = status;
    if (status === 'Running' || status === 'Stopped') {
      rec.until = undefined;
      return;
    }
    const d = holdMs ?? (status === 'Stopping' ? this.durations.stopMs : this.durations.startMs);
    rec.until = Number.isFinite(d) ? this.now() + d : undefined;
  }

  private settle(rec: InstanceRecord): void {
    if (rec.until !== undefined && this.now() >= rec.until) {
      rec.status = settledStatus(rec.status);
      rec.until = undefined;
    }
  }
}

/** StoppedMode as DescribeInstances reports it. */
export function reportedStoppedMode(rec: InstanceRecord): 'KeepCharging' | 'StopCharging' | 'Not-applicable' {
  return rec.status === 'Stopped' || rec.status === 'Stopping' ? rec.stopMode : 'Not-applicable';
}

export function toView(rec: InstanceRecord): EmulatedInstance {
  return {
    instanceId: rec.instanceId,
    regionId: rec.regionId,
    status: rec.status,
    chargeType: rec.chargeType,
    spot: rec.spot,
    networkType: rec.networkType,
    instanceType: rec.instanceType,
    localDisk: rec.localDisk,
    locks: [...rec.locks],
    kmsUnauthorized: rec.kmsUnauthorized,
    noStock: rec.noStock,
    stoppedMode: reportedStoppedMode(rec),
    transitionEndsAt: rec.until,
  };
}
