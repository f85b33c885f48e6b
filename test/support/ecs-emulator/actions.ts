/**
 * ECS action handlers. Each takes the decoded query parameters, throws `EcsApiError` for an
 * error answer and returns the success body (without `RequestId`). Describe actions live in
 * `describe.ts`, ListTagResources in `tags.ts`.
 */
import { describeInstanceStatus, describeInstances } from './describe.ts';
import type { DescribeContext } from './describe.ts';
import { EcsApiError, ecsError } from './errors.ts';
import { listTagResources } from './tags.ts';
import { batchOptimization, bool, idList, required, stoppedModeParam } from './params.ts';
import type { Params } from './params.ts';
import type { InstanceRecord, InstanceStore } from './state.ts';

type Body = Record<string, unknown>;
export type ActionHandler = (params: Params, store: InstanceStore, context: DescribeContext) => Body;

const FINANCIAL_LOCKS = new Set(['financial', 'dedicatedhostfinancial', 'refunded', 'recycling']);

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

interface StopChecks {
  mode: 'KeepCharging' | 'StopCharging' | undefined;
  confirmStop: boolean;
  hibernate: boolean;
}

function checkStop(store: InstanceStore, rec: InstanceRecord, o: StopChecks): void {
  checkLocks(rec);
  if (o.mode === 'StopCharging' && (rec.networkType === 'classic' || rec.chargeType === 'PrePaid' || rec.spot || rec.localDisk)) {
    throw ecsError('InvalidInstanceId.NotSupport');
  }
  // ECS publishes no code for this (Hibernate is in invitational preview); this is the one it
  // uses when an instance does not support a stop option.
  if (o.hibernate && !rec.hibernationConfigured) {
    throw ecsError('InvalidInstanceId.NotSupport', 'The specified instance does not support hibernation (HibernationOptions.Configured is false).');
  }
  if (rec.localDisk && !o.confirmStop) throw ecsError('InstanceType.ParameterMismatch');
  if (rec.kmsUnauthorized) throw ecsError('InvalidParameter.KMSKeyId.KMSUnauthorized');
  // The instance's real state, not what describes show: during the acceptance lag an instance
  // still described as Running is already stopping.
  if (store.stateOf(rec).status !== 'Running') throw ecsError('IncorrectInstanceStatus');
}

function checkStart(store: InstanceStore, rec: InstanceRecord, dryRun: boolean): void {
  checkLocks(rec);
  if (rec.kmsUnauthorized) throw ecsError('InvalidParameter.KMSKeyId.KMSUnauthorized');
  if (store.stateOf(rec).status !== 'Stopped') throw ecsError('IncorrectInstanceStatus');
  if (store.outOfStock(rec, !dryRun)) throw ecsError('OperationDenied.NoStock');
}

function dryRunPassed(): EcsApiError {
  return ecsError('DryRunOperation');
}

// ---------------------------------------------------------------- single-instance actions

const stopInstance: ActionHandler = (params, store) => {
  const id = required(params, 'InstanceId');
  const hibernate = bool(params, 'Hibernate') ?? false;
  const o: StopChecks = { mode: stoppedModeParam(params), confirmStop: bool(params, 'ConfirmStop') ?? false, hibernate };
  const force = bool(params, 'ForceStop') ?? false;
  const dryRun = bool(params, 'DryRun') ?? false;
  const rec = lookup(store, id, params.RegionId || undefined);
  checkStop(store, rec, o);
  if (dryRun) throw dryRunPassed();
  store.beginStop(rec, { force, mode: o.mode, hibernate });
  return {};
};

const startInstance: ActionHandler = (params, store) => {
  const id = required(params, 'InstanceId');
  const dryRun = bool(params, 'DryRun') ?? false;
  const rec = lookup(store, id, params.RegionId || undefined);
  checkStart(store, rec, dryRun);
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

function batch(
  params: Params,
  store: InstanceStore,
  check: (rec: InstanceRecord, dryRun: boolean) => void,
  apply: (rec: InstanceRecord) => void,
): Body {
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
      check(rec, dryRun);
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
    const previous = o.rec ? store.stateOf(o.rec).status : '';
    if (o.error || !o.rec) {
      return { InstanceId: o.id, Code: o.error?.code ?? 'InvalidInstanceId.NotFound', Message: o.error?.message ?? '', PreviousStatus: previous, CurrentStatus: previous };
    }
    apply(o.rec);
    return { InstanceId: o.id, Code: '200', Message: 'success', PreviousStatus: previous, CurrentStatus: store.stateOf(o.rec).status };
  });
  return { InstanceResponses: { InstanceResponse: responses } };
}

const stopInstances: ActionHandler = (params, store) => {
  const mode = stoppedModeParam(params);
  const force = bool(params, 'ForceStop') ?? false;
  // StopInstances has neither ConfirmStop nor Hibernate: local-disk instances always answer
  // InstanceType.ParameterMismatch, and nothing hibernates.
  return batch(
    params,
    store,
    (rec) => checkStop(store, rec, { mode, confirmStop: false, hibernate: false }),
    (rec) => store.beginStop(rec, { force, mode, hibernate: false }),
  );
};

const startInstances: ActionHandler = (params, store) =>
  batch(
    params,
    store,
    (rec, dryRun) => checkStart(store, rec, dryRun),
    (rec) => store.beginStart(rec),
  );

export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  StopInstance: stopInstance,
  StartInstance: startInstance,
  StopInstances: stopInstances,
  StartInstances: startInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  DescribeInstances: describeInstances,
  ListTagResources: listTagResources,
};
