import type { EcsInstancePowerSet, EcsInstancePowerSetStatus } from '../../api/powerset-types.ts';
import type { EcsInstancePower } from '../../api/types.ts';
import { Reason, SetEventReason } from '../../api/reasons.ts';
import type { EcsApi, EcsTarget } from '../../ecs/gateway.ts';
import type { CredentialsSource } from '../../kube/credentials.ts';
import { describeKubeError, isConflict, kubeStatusCode } from '../../kube/errors.ts';
import type { Logger } from '../../log.ts';
import type { EventRecorder } from '../../runtime/event-recorder.ts';
import { NotLeaderError } from '../../runtime/fence.ts';
import { done, unparked, type ReconcileContext, type ReconcileResult } from '../../runtime/result.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import type { Clock } from '../../util/clock.ts';
import { discoverFleet, type FleetDiscovery } from './discover.ts';
import type { MemberWriter } from './members.ts';
import { afterFailure, afterSuccess, discoveryDue, type DiscoveryMemo } from './memo.ts';
import { planMembers, type Claimant, type Conflict, type MemberPlan } from './plan.ts';
import { setSettings, type SetSettings } from './spec.ts';
import { nextSetStatus, setStatusEqual, summarize, type DiscoveryState } from './status.ts';

/** What the reconciler reads of the caches. */
export interface SetLookup {
  set(key: string): EcsInstancePowerSet | undefined;
  /** Members of the set `namespace/name` (controller reference), whatever their owner's uid. */
  members(setKey: string): EcsInstancePower[];
  /** Every EcsInstancePower naming the instance. */
  claimants(regionId: string, instanceId: string): EcsInstancePower[];
  /** The EcsInstancePower of that name, if any. */
  byName(namespace: string, name: string): EcsInstancePower | undefined;
}

export interface SetReconcilerDeps {
  lookup: SetLookup;
  ecs: (target: EcsTarget) => EcsApi;
  credentials: CredentialsSource;
  writer: MemberWriter;
  status: StatusWriter<EcsInstancePowerSetStatus>;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  /** Member writes in flight at once within one set (each still paced by the API budget). */
  writeConcurrency?: number;
}

/** Conflicts named in one InstanceConflict event. */
const NAMED_CONFLICTS = 5;

/**
 * One pass for one EcsInstancePowerSet: discover its instances when a refresh is due (or its
 * spec changed), create, repair and delete members accordingly, then count members and write
 * the status when it changed. Passes in between (a member changed) use the cache only.
 */
export class SetReconciler {
  private readonly memos = new Map<string, DiscoveryMemo>();

  constructor(private readonly deps: SetReconcilerDeps) {}

  /** The set is gone: drop what was remembered of it. */
  forget(key: string): void {
    this.memos.delete(key);
  }

  async reconcile(key: string, context: ReconcileContext = unparked): Promise<ReconcileResult> {
    const set = this.deps.lookup.set(key);
    if (!set || set.metadata.deletionTimestamp) {
      // Deleted: the garbage collector deletes the members (owner references).
      this.forget(key);
      return done;
    }
    const now = this.deps.clock.now();
    const generation = set.metadata.generation ?? 0;
    const uid = set.metadata.uid ?? '';
    const settings = setSettings(set.spec);
    const owned = this.deps.lookup.members(key).filter((m) => (m.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.controller));

    if ('invalid' in settings) {
      const message = `InvalidSpec: ${settings.invalid}`;
      await this.writeStatus(key, set, owned, new Set(), { kind: 'terminal', reason: Reason.InvalidSpec, message }, now);
      this.deps.events.emit(set, 'Warning', Reason.InvalidSpec, message);
      this.forget(key);
      return done;
    }

    const memo = this.memos.get(key);
    let discovery: FleetDiscovery | undefined;
    if (discoveryDue(memo, uid, generation, now)) {
      discovery = await discoverFleet({
        namespace: set.metadata.namespace ?? 'default',
        secretName: set.spec.template.spec.credentialsSecretRef?.name,
        regionIds: settings.regionIds,
        tags: settings.tags,
        credentials: this.deps.credentials,
        ecs: this.deps.ecs,
        context,
      });
    }

    const plan = this.plan(set, settings, owned, discovery);
    const { applied, written } = await this.carryOut(key, plan, context);
    const after = this.deps.clock.now();
    const refused = written.find((w) => w.refusal !== undefined);
    const refusal = refused ? { reason: refused.refusal!, message: `${refused.refusal}: ${refused.verb} of member ${refused.name} refused by the API server: ${refused.message}` } : undefined;
    // Members not written make the attempt a failure too: tried again soon, never shown as done.
    const nextMemo = discovery ? this.remember(key, { uid, generation, now: after, settings, discovery, conflicts: plan.conflicts, refusal, writeFailed: written.length > 0 }) : memo;
    const status: DiscoveryState = refusal ? { kind: 'terminal', ...refusal } : written.length > 0 ? { kind: 'transient' } : discoveryState(nextMemo, discovery, after);
    const planned = new Set(plan.members);
    const present = new Set([...owned.map((m) => m.metadata.name ?? '').filter((name) => planned.has(name)), ...applied]);
    const conflictNote = discovery && plan.conflicts.length > 0 ? conflictMessage(plan.conflicts) : undefined;
    await this.writeStatus(key, set, owned.filter((m) => present.has(m.metadata.name ?? '')), new Set(applied), status, after, [...present]);

    // Events after the status write they describe, for what this pass found out.
    if (refused && status.kind === 'terminal') this.deps.events.emit(set, 'Warning', status.reason, status.message);
    for (const f of discovery?.failures ?? []) this.deps.events.emit(set, 'Warning', f.reason, f.message);
    if (conflictNote) this.deps.events.emit(set, 'Warning', SetEventReason.InstanceConflict, conflictNote);

    const dueIn = Math.max(1000, (nextMemo?.dueAt ?? after) - after);
    // Refused writes wait for a person (looked at again at the memo's time); others are retried.
    const unwritten = written.find((w) => w.refusal === undefined);
    if (unwritten) {
      return { kind: 'error', error: new Error(`${unwritten.verb} of member ${unwritten.name}: ${unwritten.message}`), backoff: 'normal', ...(discovery ? { minDelayMs: dueIn } : {}) };
    }
    const failure = discovery?.failures.find((f) => !f.terminal);
    if (failure && nextMemo?.outcome === 'transient') return { kind: 'error', error: new Error(`${failure.reason}: ${failure.message}`), backoff: 'normal', minDelayMs: dueIn };
    return { kind: 'requeueAfter', ms: dueIn };
  }

  private plan(set: EcsInstancePowerSet, settings: SetSettings, owned: EcsInstancePower[], discovery: FleetDiscovery | undefined): MemberPlan {
    const uid = set.metadata.uid ?? '';
    const namespace = set.metadata.namespace ?? 'default';
    const foreign = (o: EcsInstancePower): boolean => !(o.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.controller);
    const claimant = (o: EcsInstancePower): Claimant => ({ key: `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`, creationTimestamp: o.metadata.creationTimestamp });
    return planMembers({
      set,
      settings,
      owned,
      discovered: discovery?.found ?? new Map(),
      failed: new Set((discovery?.failures ?? []).map((f) => f.regionId)),
      foreignClaimants: (regionId, instanceId) =>
        this.deps.lookup
          .claimants(regionId, instanceId)
          .filter((o) => foreign(o) && !o.metadata.deletionTimestamp)
          .map(claimant),
      foreignByName: (name) => {
        const o = this.deps.lookup.byName(namespace, name);
        return o && foreign(o) ? claimant(o) : undefined;
      },
    });
  }

  /** Applies and deletes members, a few at a time, parked while the API answers. */
  private async carryOut(key: string, plan: MemberPlan, context: ReconcileContext): Promise<{ applied: string[]; written: FailedWrite[] }> {
    const applied: string[] = [];
    const written: FailedWrite[] = [];
    const tasks: Array<() => Promise<void>> = [
      ...plan.apply.map((member) => async () => {
        try {
          await this.deps.writer.apply(member);
          applied.push(member.metadata.name);
        } catch (err) {
          if (err instanceof NotLeaderError) throw err;
          written.push(failedWrite('apply', member.metadata.name, err));
        }
      }),
      ...plan.delete.map((member) => async () => {
        try {
          await this.deps.writer.delete(key.slice(0, key.indexOf('/')), member.name, member.uid);
        } catch (err) {
          if (err instanceof NotLeaderError) throw err;
          written.push(failedWrite('delete', member.name, err));
        }
      }),
    ];
    if (tasks.length > 0) await context.park(runPool(tasks, this.deps.writeConcurrency ?? 16));
    if (plan.apply.length + plan.delete.length > 0) {
      this.deps.log.info('members written', { set: key, applied: applied.length, deleted: plan.delete.length, failed: written.length });
    }
    for (const w of written) this.deps.log.warn('member write failed', { set: key, member: w.name, error: w.message });
    return { applied, written };
  }

  private remember(
    key: string,
    pass: {
      uid: string;
      generation: number;
      now: number;
      settings: SetSettings;
      discovery: FleetDiscovery;
      conflicts: Conflict[];
      refusal: { reason: string; message: string } | undefined;
      writeFailed: boolean;
    },
  ): DiscoveryMemo {
    const { uid, generation, now, settings, discovery, conflicts } = pass;
    const prev = this.memos.get(key);
    const found = discovery.failures.find((f) => f.terminal);
    const terminal = found ? { reason: found.reason, message: found.message } : pass.refusal;
    const transient = discovery.failures.find((f) => !f.terminal);
    const base = { uid, generation, now, intervalMs: settings.refreshIntervalMs };
    const memo = terminal
      ? afterFailure(prev, { ...base, terminal })
      : transient || pass.writeFailed
        ? afterFailure(prev, { ...base, ...(transient?.retryAfterMs ? { retryAfterMs: transient.retryAfterMs } : {}) })
        : afterSuccess(uid, generation, now, settings.refreshIntervalMs, conflicts.length);
    this.memos.set(key, memo);
    this.deps.log.info('instances discovered', {
      set: key,
      found: [...discovery.found.values()].reduce((n, list) => n + list.length, 0),
      calls: Object.fromEntries(discovery.calls),
      conflicts: conflicts.length,
      ...(discovery.failures.length ? { failures: discovery.failures.map((f) => `${f.regionId}: ${f.reason}`) } : {}),
    });
    return memo;
  }

  private async writeStatus(
    key: string,
    set: EcsInstancePowerSet,
    members: EcsInstancePower[],
    changedNow: ReadonlySet<string>,
    discovery: DiscoveryState,
    now: number,
    names?: string[],
  ): Promise<void> {
    const byName = new Map(members.map((m) => [m.metadata.name ?? '', m]));
    const summaries = (names ?? [...byName.keys()]).map((name) => {
      const m = byName.get(name);
      return m ? summarize(m, changedNow.has(name)) : { name, ready: false, stalled: false };
    });
    const next = nextSetStatus(set.status, { generation: set.metadata.generation ?? 0, members: summaries, discovery, now: new Date(now) });
    if (setStatusEqual(set.status, next)) return;
    try {
      await this.deps.status.write(set, next);
    } catch (err) {
      if (isConflict(err)) throw new Error(`status of ${key} changed since it was read; retrying`);
      if (!(err instanceof NotLeaderError)) this.deps.log.warn('status write failed', { resource: key, error: describeKubeError(err) });
      throw err;
    }
  }
}

/** A member write the API server did not take. */
interface FailedWrite {
  verb: 'apply' | 'delete';
  name: string;
  message: string;
  /** A refusal a person must fix: 422 (InvalidSpec: e.g. a label the server refuses) or 403 (Forbidden: RBAC). */
  refusal?: typeof Reason.InvalidSpec | typeof Reason.Forbidden;
}

function failedWrite(verb: FailedWrite['verb'], name: string, err: unknown): FailedWrite {
  const code = kubeStatusCode(err);
  const refusal = code === 422 ? Reason.InvalidSpec : code === 403 ? Reason.Forbidden : undefined;
  return { verb, name, message: describeKubeError(err), ...(refusal ? { refusal } : {}) };
}

/** What the status says of discovery, from this pass or the last one remembered. */
function discoveryState(memo: DiscoveryMemo | undefined, discovery: FleetDiscovery | undefined, now: number): DiscoveryState {
  if (!memo) return { kind: 'transient' };
  switch (memo.outcome) {
    case 'ok':
      return { kind: 'ok', conflicts: memo.conflicts, ...(discovery ? { at: new Date(now) } : {}) };
    case 'transient':
      return { kind: 'transient' };
    case 'terminal':
      return { kind: 'terminal', reason: memo.terminal?.reason ?? Reason.EcsError, message: memo.terminal?.message ?? '-' };
  }
}

function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    return `instance ${c.instanceId} in ${c.regionId} is already managed by EcsInstancePower ${c.owner}; not adopted`;
  }
  const named = conflicts.slice(0, NAMED_CONFLICTS).map((c) => `${c.instanceId} (${c.regionId}, by ${c.owner})`);
  const more = conflicts.length > NAMED_CONFLICTS ? `, and ${conflicts.length - NAMED_CONFLICTS} more` : '';
  return `${conflicts.length} matching instances are already managed by other EcsInstancePowers and not adopted: ${named.join(', ')}${more}`;
}

/** Runs tasks with at most `limit` in flight. */
async function runPool(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
