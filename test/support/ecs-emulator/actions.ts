/**
 * ECS action handlers. Each takes the decoded query parameters, throws `EcsApiError` for an
 * error answer and returns the success body (without `RequestId`).
 */
import { EcsApiError, ecsError, invalidParameter, missingParameter } from './errors.ts';
import { reportedStoppedMode } from './state.ts';
import type { InstanceRecord, InstanceStore } from './state.ts';

type Params = Record<string, string>;
type Body = Record<string, unknown>;
export type ActionHandler = (params: Params, store: InstanceStore) => Body;

const MAX_IDS = 100;

const FINANCIAL_LOCKS = new Set(['financial', 'dedicatedhostfinancial', 'refunded', 'recycling']);

// ---------------------------------------------------------------- parameter helpers

function bool(params: Params, name: string): boolean | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  const l = v.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  throw invalidParameter(name, 'Expected true or false.');
}

function required(params: Params, name: string): string {
  const v = params[name];
  if (v === undefined || v === '') throw missingParameter(name);
  return v;
}

function int(params: Params, name: string, min: number, max: number, dflt: number): number {
  const v = params[name];
  if (v === undefined || v === '') return dflt;
  if (!/^-?\d+$/.test(v)) throw invalidParameter(name, 'Expected an integer.');
  const n = Number(v);
  if (n < min || n > max) throw invalidParameter(name, `Expected ${min} to ${max}.`);
  return n;
}

/** `Name.1`, `Name.2`, … in index order. */
function repeatList(params: Params, name: string): string[] {
  const re = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)$`);
  const found: Array<[number, string]> = [];
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (m && v !== '') found.push([Number(m[1]), v]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function stoppedModeParam(params: Params): 'KeepCharging' | 'StopCharging' | undefined {
  const v = params.StoppedMode;
  if (v === undefined || v === '') return undefined;
  if (v === 'KeepCharging' || v === 'StopCharging') return v;
  throw invalidParameter('StoppedMode', 'Expected KeepCharging or StopCharging.');
}

function batchOptimization(params: Params): 'AllTogether' | 'SuccessFirst' {
  const v = params.BatchOptimization;
  if (v === undefined || v === '' || v === 'AllTogether') return 'AllTogether';
  if (v === 'SuccessFirst') return 'SuccessFirst';
  throw invalidParameter('BatchOptimization', 'Expected SuccessFirst or AllTogether.');
}

function idList(params: Params): string[] {
  const ids = repeatList(params, 'InstanceId');
  if (ids.length === 0) throw missingParameter('InstanceId.1');
  if (ids.length > MAX_IDS) throw invalidParameter('InstanceId', `At most ${MAX_IDS} instance IDs.`);
  return ids;
}

// ---------------------------------------------------------------- checks

/** Instance visible to the call: exists and, when the call names a region, lives in it. */
function lookup(store: InstanceStore, id: string, regionId: string | undefined): InstanceRecord {
  const rec = store.get(id);
  if (!rec || (regionId !== undefined && rec.regionId !== regionId)) throw ecsError('InvalidInstanceId.NotFound');
  return rec;
}

function checkLocks(rec: InstanceRecord): void {
  const locks = rec.locks.map((l) => l.toLowerCase());
  if (locks.some((l) => FINANCIAL_LOCKS.has(l))) throw ecsError('InstanceExpiredOrInArrears');
  if (locks.includes('security')) throw ecsError('InstanceLockedForSecurity');
}

interface StopOptions {
  mode: 'KeepCharging' | 'StopCharging' | undefined;
  confirmStop: boolean;
}

function checkStop(rec: InstanceRecord, o: StopOptions): void {
  checkLocks(rec);
  if (o.mode === 'StopCharging' && (rec.networkType === 'classic' || rec.chargeType === 'PrePaid' || rec.spot || rec.localDisk)) {
    throw ecsError('InvalidInstanceId.NotSupport');
  }
  if (rec.localDisk && !o.confirmStop) throw ecsError('InstanceType.ParameterMismatch');
  if (rec.kmsUnauthorized) throw ecsError('InvalidParameter.KMSKeyId.KMSUnauthorized');
  if (rec.status !== 'Running') throw ecsError('IncorrectInstanceStatus');
}

function checkStart(rec: InstanceRecord): void {
  checkLocks(rec);
  if (rec.kmsUnauthorized) throw ecsError('InvalidParameter.KMSKeyId.KMSUnauthorized');
  if (rec.status !== 'Stopped') throw ecsError('IncorrectInstanceStatus');
  if (rec.noStock) throw ecsError('OperationDenied.NoStock');
}

function dryRunPassed(): EcsApiError {
  return ecsError('DryRunOperation');
}

// ---------------------------------------------------------------- single-instance actions

const stopInstance: ActionHandler = (params, store) => {
  const id = required(params, 'InstanceId');
  const o: StopOptions = { mode: stoppedModeParam(params), confirmStop: bool(params, 'ConfirmStop') ?? false };
  const force = bool(params, 'ForceStop') ?? false;
  bool(params, 'Hibernate');
  const dryRun = bool(params, 'DryRun') ?? false;
  const rec = lookup(store, id, params.RegionId || undefined);
  checkStop(rec, o);
  if (dryRun) throw dryRunPassed();
  store.beginStop(rec, force, o.mode);
  return {};
};

const startInstance: ActionHandler = (params, store) => {
  const id = required(params, 'InstanceId');
  const dryRun = bool(params, 'DryRun') ?? false;
  const rec = lookup(store, id, params.RegionId || undefined);
  checkStart(rec);
  if (dryRun) throw dryRunPassed();
  store.beginStart(rec);
  return {};
};

// ---------------------------------------------------------------- batch actions

interface Outcome {
  id: string;
  rec: InstanceRecord | undefined;
  error: EcsApiError | undefined;
}

function batch(params: Params, store: InstanceStore, check: (rec: InstanceRecord) => void, apply: (rec: InstanceRecord) => void): Body {
  const regionId = required(params, 'RegionId');
  const ids = idList(params);
  const mode = batchOptimization(params);
  const dryRun = bool(params, 'DryRun') ?? false;

  // Validate every instance first; a second mention of an id sees the first one applied.
  const outcomes: Outcome[] = [];
  const claimed = new Set<string>();
  for (const id of ids) {
    let rec: InstanceRecord | undefined;
    try {
      rec = lookup(store, id, regionId);
      if (claimed.has(id)) throw ecsError('IncorrectInstanceStatus');
      check(rec);
      claimed.add(id);
      outcomes.push({ id, rec, error: undefined });
    } catch (e) {
      if (!(e instanceof EcsApiError)) throw e;
      outcomes.push({ id, rec, error: e });
    }
  }
  const firstError = outcomes.find((o) => o.error)?.error;
  if (dryRun) {
    if (firstError) throw firstError;
    throw dryRunPassed();
  }
  if (mode === 'AllTogether' && firstError) throw firstError;

  const responses = outcomes.map((o) => {
    const previous = o.rec?.status ?? '';
    if (o.error || !o.rec) {
      return { InstanceId: o.id, Code: o.error?.code ?? 'InvalidInstanceId.NotFound', Message: o.error?.message ?? '', PreviousStatus: previous, CurrentStatus: previous };
    }
    apply(o.rec);
    return { InstanceId: o.id, Code: '200', Message: 'success', PreviousStatus: previous, CurrentStatus: o.rec.status };
  });
  return { InstanceResponses: { InstanceResponse: responses } };
}

const stopInstances: ActionHandler = (params, store) => {
  const mode = stoppedModeParam(params);
  const force = bool(params, 'ForceStop') ?? false;
  // StopInstances has no ConfirmStop: local-disk instances always answer InstanceType.ParameterMismatch.
  return batch(
    params,
    store,
    (rec) => checkStop(rec, { mode, confirmStop: false }),
    (rec) => store.beginStop(rec, force, mode),
  );
};

const startInstances: ActionHandler = (params, store) =>
  batch(
    params,
    store,
    (rec) => checkStart(rec),
    (rec) => store.beginStart(rec),
  );

// ---------------------------------------------------------------- describe actions

const describeInstanceStatus: ActionHandler = (params, store) => {
  const regionId = required(params, 'RegionId');
  const ids = repeatList(params, 'InstanceId');
  if (ids.length > MAX_IDS) throw invalidParameter('InstanceId', `At most ${MAX_IDS} instance IDs.`);
  const pageSize = int(params, 'PageSize', 1, 50, 10);
  const pageNumber = int(params, 'PageNumber', 1, Number.MAX_SAFE_INTEGER, 1);
  const wanted = ids.length ? new Set(ids) : undefined;
  const all = store.list().filter((r) => r.regionId === regionId && (!wanted || wanted.has(r.instanceId)));
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    TotalCount: all.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    InstanceStatuses: { InstanceStatus: page.map((r) => ({ InstanceId: r.instanceId, Status: r.status })) },
  };
};

function describeInstance(r: InstanceRecord): Body {
  return {
    InstanceId: r.instanceId,
    InstanceName: r.instanceId,
    HostName: r.instanceId,
    RegionId: r.regionId,
    ZoneId: `${r.regionId}-a`,
    Status: r.status,
    InstanceChargeType: r.chargeType,
    SpotStrategy: r.spot ? 'SpotAsPriceGo' : 'NoSpot',
    InstanceNetworkType: r.networkType,
    StoppedMode: reportedStoppedMode(r),
    InstanceType: r.instanceType,
    OperationLocks: { LockReason: r.locks.map((l) => ({ LockReason: l })) },
    CreationTime: '2024-01-01T00:00Z',
    ExpiredTime: '2099-12-31T15:59Z',
  };
}

function encodeToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeToken(token: string): number {
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw invalidParameter('NextToken');
  return Number(m[1]);
}

const describeInstances: ActionHandler = (params, store) => {
  const regionId = required(params, 'RegionId');
  let wanted: Set<string> | undefined;
  if (params.InstanceIds !== undefined && params.InstanceIds !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.InstanceIds);
    } catch {
      throw invalidParameter('InstanceIds', 'Expected a JSON array of instance IDs.');
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      throw invalidParameter('InstanceIds', 'Expected a JSON array of instance IDs.');
    }
    if (parsed.length > MAX_IDS) throw invalidParameter('InstanceIds', `At most ${MAX_IDS} instance IDs.`);
    wanted = new Set(parsed as string[]);
  }
  const all = store.list().filter((r) => r.regionId === regionId && (!wanted || wanted.has(r.instanceId)));
  const tokenMode = (params.NextToken ?? '') !== '' || (params.MaxResults ?? '') !== '';
  if (tokenMode) {
    const max = int(params, 'MaxResults', 1, 100, 10);
    const offset = params.NextToken ? decodeToken(params.NextToken) : 0;
    const page = all.slice(offset, offset + max);
    const next = offset + max < all.length ? encodeToken(offset + max) : '';
    return { TotalCount: all.length, NextToken: next, Instances: { Instance: page.map(describeInstance) } };
  }
  const pageSize = int(params, 'PageSize', 1, 100, 10);
  const pageNumber = int(params, 'PageNumber', 1, Number.MAX_SAFE_INTEGER, 1);
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    TotalCount: all.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    NextToken: '',
    Instances: { Instance: page.map(describeInstance) },
  };
};

export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  StopInstance: stopInstance,
  StartInstance: startInstance,
  StopInstances: stopInstances,
  StartInstances: startInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  DescribeInstances: describeInstances,
};

/** Instance IDs a call names (for fault matching and the throttling region). */
export function instanceIdsOf(params: Params): string[] {
  const ids: string[] = [];
  if (params.InstanceId) ids.push(params.InstanceId);
  ids.push(...repeatList(params, 'InstanceId'));
  if (params.InstanceIds) {
    try {
      const parsed: unknown = JSON.parse(params.InstanceIds);
      if (Array.isArray(parsed)) for (const x of parsed) if (typeof x === 'string') ids.push(x);
    } catch {
      /* not a JSON array: names nothing */
    }
  }
  return ids;
}
