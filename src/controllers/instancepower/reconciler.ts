import type { DesiredState, EcsInstancePower, EcsInstancePowerSpec, EcsInstancePowerStatus, InstanceStatus } from '../../api/types.ts';
import { findCondition } from '../../api/conditions.ts';
import { EventReason, Reason } from '../../api/reasons.ts';
import type { ReconcileResult } from '../../runtime/result.ts';
import { done, unparked, type ReconcileContext } from '../../runtime/result.ts';
import { NotLeaderError } from '../../runtime/fence.ts';
import { fromSdkError } from '../../ecs/errors.ts';
import type { EcsGateway, EcsTarget, Observation } from '../../ecs/gateway.ts';
import { CredentialsError } from '../../kube/credentials.ts';
import type { CredentialsSource } from '../../kube/credentials.ts';
import { describeKubeError, isConflict } from '../../kube/errors.ts';
import type { EventRecorder } from '../../runtime/event-recorder.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Logger } from '../../log.ts';
import type { Clock } from '../../util/clock.ts';
import { decide, requestInFlight } from './decide.ts';
import { eventsFor, type EventSpec } from './events.ts';
import type { Action, Outcome } from './outcome.ts';
import { requeueFor } from './requeue.ts';
import type { Timing } from './requeue.ts';
import { invalidSpec, startOptions, stopOptions } from './spec.ts';
import { nextStatus, statusEqual, type Intent } from './status.ts';
import { effectiveDesiredState, type EffectiveInput, type OverrideInForce } from './effective.ts';
import type { EcsPowerSchedule } from '../../api/schedule-types.ts';
import { transitionEvents } from './events.ts';

export interface ResourceLookup {
  get(key: string): EcsInstancePower | undefined;
  /** Keys of every resource naming this instance in this region. */
  claimants(regionId: string, instanceId: string): string[];
}

/** What the effective desired state is computed from, besides the resource itself. */
export interface DesiredStateSources {
  /** The EcsPowerSchedule `namespace/name`, from the cache. */
  schedule(key: string): EcsPowerSchedule | undefined;
  /** Overrides in force that select this resource now, newest first. */
  overrides(obj: EcsInstancePower, now: number): OverrideInForce[];
  /** The schedule's state at `now` and its next transition, or why it is invalid. */
  evaluate(schedule: EcsPowerSchedule, now: number): ReturnType<EffectiveInput['evaluateSchedule']>;
}

/** Measurements a pass reports; kept by the metrics, never read back by the reconciler. */
export interface ReconcileMeters {
  /** A transition (schedule or override) reached: seconds from its instant to the instance observed in the new state. */
  transitionReached(seconds: number): void;
  /** What an observation showed, for the stopped-seconds counters. */
  observed(key: string, sample: { namespace: string; stopped: boolean; stoppedMode: string; vcpus: number; now: number }): void;
  /** The resource is gone or no longer observed. */
  forget(key: string): void;
}

export interface ReconcilerDeps {
  resources: ResourceLookup;
  desired: DesiredStateSources;
  meters: ReconcileMeters;
  gateway: EcsGateway;
  credentials: CredentialsSource;
  status: StatusWriter<EcsInstancePowerStatus>;
  events: EventRecorder;
  clock: Clock;
  timing: Timing;
  random: () => number;
  log: Logger;
}

/** ECS shows an accepted stop a moment later; until then the instance is waited for, not asked again. */
const MIN_REQUEST_GRACE_MS = 10_000;

/**
 * One pass for one resource: read it from the cache, observe the instance, decide, act at most
 * once, and write the status only when it differs; events follow a write that landed. Everything
 * it decides comes from the pure functions beside it and the persisted status; it keeps nothing
 * between passes.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string, context: ReconcileContext = unparked): Promise<ReconcileResult> {
    const obj = this.deps.resources.get(key);
    if (!obj || obj.metadata.deletionTimestamp) {
      this.deps.meters.forget(key);
      return done;
    }
    const generation = obj.metadata.generation ?? 0;
    const now = this.deps.clock.now();
    const told: EventSpec[] = [];
    const { outcome, intent } = await this.outcomeFor(key, obj, generation, now, told, context);

    const next = nextStatus(obj.status, outcome, generation, new Date(now), intent);
    told.unshift(...transitionEvents(obj.status, next));
    if (!statusEqual(obj.status, next)) {
      try {
        await this.deps.status.write(obj, next);
      } catch (err) {
        if (isConflict(err)) {
          return { kind: 'error', error: new Error('status changed since it was read; retrying'), backoff: 'normal' };
        }
        if (!(err instanceof NotLeaderError)) this.deps.log.warn('status write failed', { resource: key, error: describeKubeError(err) });
        throw err;
      }
    }
    // After the write: a pass retried on a 409 must not tell the same thing twice.
    for (const e of [...told, ...eventsFor(obj.status, next, outcome)]) this.deps.events.emit(obj, e.type, e.reason, e.message);
    this.logReadyChange(key, obj, next);
    this.measure(key, obj, next, outcome, now);
    return untilNextChange(requeueFor(outcome, this.deps.timing, this.deps.random), intent, now);
  }

  private measure(key: string, obj: EcsInstancePower, next: EcsInstancePowerStatus, outcome: Outcome, now: number): void {
    const before = findCondition(obj.status?.conditions, 'Ready');
    const reached = outcome.kind === 'converged' && !(before?.status === 'True' && obj.status?.desiredState === next.desiredState);
    if (reached && next.desiredStateSince) this.deps.meters.transitionReached(Math.max(0, now - Date.parse(next.desiredStateSince)) / 1000);
    if (outcome.kind === 'converged' || outcome.kind === 'drifted' || outcome.kind === 'inProgress') {
      this.deps.meters.observed(key, {
        namespace: obj.metadata.namespace ?? '',
        stopped: outcome.instanceStatus === 'Stopped' && next.desiredState === 'Stopped',
        stoppedMode: outcome.kind === 'converged' ? (outcome.stoppedMode ?? 'Not-applicable') : 'Not-applicable',
        vcpus: outcome.kind === 'converged' ? (outcome.vcpus ?? 0) : 0,
        now,
      });
    }
  }

  /** One log line per Ready transition; terminal ones at error level, so logs alone show them. */
  private logReadyChange(key: string, obj: EcsInstancePower, next: EcsInstancePowerStatus): void {
    const before = findCondition(obj.status?.conditions, 'Ready');
    const after = findCondition(next.conditions, 'Ready');
    if (before?.status === after?.status && before?.reason === after?.reason) return;
    const stalled = findCondition(next.conditions, 'Stalled')?.status === 'True';
    this.deps.log[stalled ? 'error' : 'info']('Ready changed', {
      resource: key,
      instanceId: obj.spec?.instanceId,
      ready: after?.status,
      reason: after?.reason,
      ...(stalled ? { message: after?.message } : {}),
    });
  }

  /** `told` collects events that only this pass knows of (drift found before acting). */
  private async outcomeFor(
    key: string,
    obj: EcsInstancePower,
    generation: number,
    now: number,
    told: EventSpec[],
    context: ReconcileContext,
  ): Promise<{ outcome: Outcome; intent: Intent }> {
    const keep: Intent = {
      ...(obj.status?.desiredState ? { desiredState: obj.status.desiredState } : {}),
      source: obj.status?.desiredStateSource ?? 'spec',
    };
    const invalid = invalidSpec(obj.spec);
    if (invalid) return { outcome: { kind: 'terminalError', reason: Reason.InvalidSpec, message: `InvalidSpec: ${invalid}` }, intent: keep };
    const spec = obj.spec;
    const rival = this.rivalOwner(key, obj);
    if (rival) {
      return {
        intent: keep,
        outcome: {
          kind: 'terminalError',
          reason: Reason.InvalidSpec,
          message: `InvalidSpec: instance ${spec.instanceId} in ${spec.regionId} is already managed by EcsInstancePower ${rival}; one resource per instance`,
        },
      };
    }
    const namespace = obj.metadata.namespace ?? 'default';
    const effective = effectiveDesiredState({
      spec,
      namespace,
      overrides: this.deps.desired.overrides(obj, now),
      schedule: spec.scheduleRef ? this.deps.desired.schedule(`${namespace}/${spec.scheduleRef.name}`) : undefined,
      evaluateSchedule: (schedule) => this.deps.desired.evaluate(schedule, now),
    });
    if (effective.kind === 'blocked') {
      return { intent: { source: effective.source }, outcome: { kind: 'terminalError', reason: effective.reason, message: effective.message } };
    }
    const { desiredState, source, nextChangeAt, startedAt } = effective.effective;
    const intent: Intent = {
      desiredState,
      source,
      ...(nextChangeAt !== undefined ? { nextChangeAt } : {}),
      ...(startedAt !== undefined ? { startedAt } : {}),
    };
    return { intent, outcome: await this.actFor(key, obj, spec, desiredState, generation, now, told, context) };
  }

  private async actFor(
    key: string,
    obj: EcsInstancePower,
    spec: EcsInstancePowerSpec,
    desired: DesiredState,
    generation: number,
    now: number,
    told: EventSpec[],
    context: ReconcileContext,
  ): Promise<Outcome> {
    let target: EcsTarget;
    try {
      const creds = await this.deps.credentials.resolve(obj.metadata.namespace ?? 'default', spec.credentialsSecretRef?.name);
      target = { regionId: spec.regionId, ...creds };
    } catch (err) {
      if (err instanceof CredentialsError) {
        return { kind: 'terminalError', reason: Reason.InvalidCredentials, message: `InvalidCredentials: ${err.message}` };
      }
      throw err;
    }

    let observation: Observation;
    try {
      observation = await context.park(this.deps.gateway.observe(target, spec.instanceId));
    } catch (err) {
      const e = fromSdkError(err);
      const c = e.classification;
      if (c.errorClass === 'terminal') return { kind: 'terminalError', reason: c.reason, message: e.message };
      return {
        kind: 'observeFailed',
        reason: c.reason,
        message: e.message,
        backoff: c.backoff,
        ...(e.retryAfterMs ? { retryAfterMs: e.retryAfterMs } : {}),
      };
    }

    const decision = decide({
      spec,
      desired,
      generation,
      status: obj.status,
      observation,
      recentRequest: requestInFlight(obj.status),
      now,
      requestGraceMs: Math.max(2 * this.deps.timing.pollIntervalMs, MIN_REQUEST_GRACE_MS),
    });
    if (decision.kind === 'report') return decision.outcome;

    const ready = findCondition(obj.status?.conditions, 'Ready');
    if (ready?.status === 'True' && ready.observedGeneration === generation && obj.status?.desiredState === desired && !spec.dryRun) {
      told.push({ type: 'Normal', reason: EventReason.DriftDetected, message: `Instance ${spec.instanceId} was found ${observation.status}; desired ${desired}` });
    }
    return this.act({ key, spec, target, action: decision.action, seen: observation.status, context });
  }

  /** The one Stop/Start call of a pass (a share of a batch, parked while the batch fills). */
  private async act(request: {
    key: string;
    spec: EcsInstancePowerSpec;
    target: EcsTarget;
    action: Action;
    seen: InstanceStatus | undefined;
    context: ReconcileContext;
  }): Promise<Outcome> {
    const { key, spec, target, action, seen, context } = request;
    const call = action.kind === 'stop' ? 'StopInstance' : 'StartInstance';
    const log = this.deps.log.with({ resource: key, instanceId: spec.instanceId, region: spec.regionId });
    try {
      const r = await context.park(
        action.kind === 'stop'
          ? this.deps.gateway.stop(target, spec.instanceId, stopOptions(spec))
          : this.deps.gateway.start(target, spec.instanceId, startOptions(spec)),
      );
      log.info(`${call} accepted`, { requestId: r.requestId, dryRun: spec.dryRun ?? false });
      if (spec.dryRun) {
        return { kind: 'dryRunPassed', ...(seen ? { instanceStatus: seen } : {}), message: `${call} validated (RequestId ${r.requestId})`, requestId: r.requestId };
      }
      return {
        kind: 'inProgress',
        reason: action.kind === 'stop' ? Reason.StopRequested : Reason.StartRequested,
        ...(r.currentStatus ? { instanceStatus: r.currentStatus } : seen ? { instanceStatus: seen } : {}),
        message: `${call} accepted for ${spec.instanceId} (RequestId ${r.requestId})`,
        requestId: r.requestId,
        requested: { action: action.kind === 'stop' ? 'Stop' : 'Start', at: this.deps.clock.now() },
      };
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      const e = fromSdkError(err);
      const c = e.classification;
      log.info(`${call} failed`, { code: e.code, requestId: e.requestId, class: c.errorClass });
      const instanceStatus = seen ? { instanceStatus: seen } : {};
      switch (c.errorClass) {
        case 'dryRunPassed':
          return { kind: 'dryRunPassed', ...instanceStatus, message: e.message, ...(e.requestId ? { requestId: e.requestId } : {}) };
        case 'terminal':
          return { kind: 'terminalError', reason: c.reason, message: e.message, ...instanceStatus };
        case 'transient':
          return {
            kind: 'transientError',
            reason: c.reason,
            message: e.message,
            backoff: c.backoff,
            ...(e.retryAfterMs ? { retryAfterMs: e.retryAfterMs } : {}),
            ...instanceStatus,
          };
      }
    }
  }

  /** Two resources for one instance would fight; the oldest keeps it, the others are InvalidSpec. */
  private rivalOwner(key: string, obj: EcsInstancePower): string | undefined {
    const keys = this.deps.resources.claimants(obj.spec.regionId, obj.spec.instanceId);
    if (keys.length < 2) return undefined;
    const rank = (k: string): [number, string] => {
      const o = k === key ? obj : this.deps.resources.get(k);
      const t = o?.metadata.creationTimestamp ? new Date(o.metadata.creationTimestamp).getTime() : Number.MAX_SAFE_INTEGER;
      return [t, k];
    };
    const owner = keys.map(rank).sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]))[0]![1];
    return owner === key ? undefined : owner;
  }
}

/**
 * The controller never polls for a transition: it comes back at the instant the effective state
 * may change by itself (the workqueue keeps the earliest deadline per key), or sooner.
 */
function untilNextChange(result: ReconcileResult, intent: Intent, now: number): ReconcileResult {
  if (intent.nextChangeAt === undefined || result.kind !== 'requeueAfter') return result;
  // +1 ms: evaluated at the instant itself, [from, to) already gives the new state.
  const ms = Math.max(1, intent.nextChangeAt - now + 1);
  return ms < result.ms ? { kind: 'requeueAfter', ms } : result;
}
