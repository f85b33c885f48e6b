import type { DesiredState, EcsInstancePowerSpec, EcsInstancePowerStatus, InstanceStatus } from '../../api/types.ts';
import { findCondition } from '../../api/conditions.ts';
import { Reason } from '../../api/reasons.ts';
import type { Observation } from '../../ecs/gateway.ts';
import type { Action, Outcome } from './outcome.ts';

/** The last Stop/Start call accepted for this resource, as its status records it. */
export interface RecentRequest {
  generation: number;
  action: Action['kind'];
  at: number;
}

/**
 * The last accepted Stop/Start call as the persisted status records it (pure). Derived from the
 * status, not kept in memory, so a restart or a failover inside the window does not ask again.
 */
export function requestInFlight(status: EcsInstancePowerStatus | undefined): RecentRequest | undefined {
  const last = status?.lastRequest;
  if (!last) return undefined;
  const at = Date.parse(last.time);
  if (!Number.isFinite(at)) return undefined;
  return { generation: last.generation, action: last.action === 'Stop' ? 'stop' : 'start', at };
}

export interface DecideInput {
  spec: EcsInstancePowerSpec;
  /** The effective desired state (an override, the schedule now, or spec.desiredState). */
  desired: DesiredState;
  generation: number;
  status: EcsInstancePowerStatus | undefined;
  observation: Observation;
  recentRequest: RecentRequest | undefined;
  now: number;
  /**
   * ECS reports a stop or start a moment after accepting it; within this window after our own
   * accepted call, a still-Running (or still-Stopped) instance is waited for, not asked again.
   */
  requestGraceMs: number;
}

export type Decision = { kind: 'act'; action: Action } | { kind: 'report'; outcome: Outcome };

/** The reconcile decision: pure, from the spec, the last status and what ECS showed. */
export function decide(input: DecideInput): Decision {
  const { spec, observation } = input;
  if (!observation.found || observation.status === undefined) {
    return report({
      kind: 'terminalError',
      reason: Reason.InstanceNotFound,
      message: `InvalidInstanceId.NotFound: instance ${spec.instanceId} does not exist in region ${spec.regionId}${
        observation.requestId ? ` (RequestId ${observation.requestId})` : ''
      }`,
    });
  }
  const seen: InstanceStatus = observation.status;
  const desired = input.desired;
  const recent = input.recentRequest;
  // A change of the effective desired state (a schedule transition, an override starting or
  // ending) counts like a new generation: Observe acts once per change, a dry run validates again.
  const sameIntent = (input.status?.desiredState ?? desired) === desired;

  // A describe right after an accepted call can still show the state before it (ECS reports a
  // stop a moment later). When the desired state has changed since (a new spec), that stale
  // Running must not pass for convergence while the instance is in fact stopping.
  if (recent && input.now - recent.at < input.requestGraceMs && seen === restingBefore(recent.action) && seen === desired) {
    const call = recent.action === 'stop' ? 'StopInstance' : 'StartInstance';
    return report({
      kind: 'inProgress',
      reason: recent.action === 'stop' ? Reason.Stopping : Reason.Starting,
      instanceStatus: seen,
      message: `Waiting for the ${call} accepted at ${new Date(recent.at).toISOString()} to show before acting for ${desired}`,
    });
  }

  if (seen === desired) {
    return report({
      kind: 'converged',
      reason: desired,
      instanceStatus: seen,
      message: `Instance ${spec.instanceId} is ${seen}`,
      ...(observation.stoppedMode ? { stoppedMode: observation.stoppedMode } : {}),
      ...(observation.vcpus !== undefined ? { vcpus: observation.vcpus } : {}),
    });
  }
  if ((spec.driftPolicy ?? 'Enforce') === 'Observe' && input.status?.convergedGeneration === input.generation && sameIntent) {
    return report({
      kind: 'drifted',
      instanceStatus: seen,
      message: `Instance ${spec.instanceId} is ${seen}, desired ${desired}; driftPolicy Observe leaves it as it is`,
    });
  }
  if (seen === 'Pending' || seen === 'Starting' || seen === 'Stopping') {
    const ours = recent && recent.generation === input.generation && recent.action === (seen === 'Stopping' ? 'stop' : 'start');
    if (ours && (desired === 'Stopped') === (seen === 'Stopping')) {
      // The transition we asked for: the status keeps saying so, one write fewer per stop.
      const ready = findCondition(input.status?.conditions, 'Ready');
      return report({
        kind: 'inProgress',
        reason: recent.action === 'stop' ? Reason.StopRequested : Reason.StartRequested,
        instanceStatus: seen,
        message: ready?.message ?? `Instance ${spec.instanceId} is ${seen}; desired ${desired}`,
      });
    }
    return report({
      kind: 'inProgress',
      reason: seen,
      instanceStatus: seen,
      message: `Instance ${spec.instanceId} is ${seen}; desired ${desired}`,
    });
  }

  // The instance rests in the opposite state.
  const action: Action = desired === 'Stopped' ? { kind: 'stop' } : { kind: 'start' };

  if (spec.dryRun) {
    if (sameIntent && dryRunValidated(input.status, input.generation)) {
      const ready = findCondition(input.status?.conditions, 'Ready');
      return report({ kind: 'dryRunPassed', instanceStatus: seen, message: ready?.message ?? 'DryRunOperation' });
    }
    return actUnlessLocked(action, observation, spec);
  }

  // Our own call for this action is on its way (for this generation or an earlier one).
  if (
    recent &&
    recent.action === action.kind &&
    input.now - recent.at < input.requestGraceMs
  ) {
    return report({
      kind: 'inProgress',
      reason: action.kind === 'stop' ? Reason.StopRequested : Reason.StartRequested,
      instanceStatus: seen,
      message: `Waiting for instance ${spec.instanceId} to leave ${seen}`,
    });
  }
  return actUnlessLocked(action, observation, spec);
}

/** ECS refuses to stop or start a locked instance; its OperationLocks say so without a write call. */
function actUnlessLocked(action: Action, o: Observation, spec: EcsInstancePowerSpec): Decision {
  const rid = o.requestId ? ` (RequestId ${o.requestId})` : '';
  const instanceStatus = o.status ? { instanceStatus: o.status } : {};
  if (o.lockReasons.includes('security')) {
    return report({
      kind: 'terminalError',
      reason: Reason.InstanceLockedForSecurity,
      message: `InstanceLockedForSecurity: instance ${spec.instanceId} has a security lock (OperationLocks: ${o.lockReasons.join(', ')})${rid}`,
      ...instanceStatus,
    });
  }
  if (o.lockReasons.includes('financial')) {
    return report({
      kind: 'terminalError',
      reason: Reason.InstanceExpiredOrInArrears,
      message: `InstanceExpiredOrInArrears: instance ${spec.instanceId} is locked for an overdue payment (OperationLocks: ${o.lockReasons.join(', ')})${rid}`,
      ...instanceStatus,
    });
  }
  return { kind: 'act', action };
}

/** The resting state an instance leaves when the action is accepted. */
function restingBefore(action: Action['kind']): InstanceStatus {
  return action === 'stop' ? 'Running' : 'Stopped';
}

function report(outcome: Outcome): Decision {
  return { kind: 'report', outcome };
}

function dryRunValidated(status: EcsInstancePowerStatus | undefined, generation: number): boolean {
  const ready = findCondition(status?.conditions, 'Ready');
  return ready?.status === 'True' && ready.reason === Reason.DryRunSucceeded && ready.observedGeneration === generation;
}
