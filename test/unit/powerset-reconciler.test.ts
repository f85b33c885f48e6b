// The EcsInstancePowerSet reconciler with fakes at its edges (an in-memory ECS, caches, member
// writer, status writer and events) and an injected clock: when it calls ECS, what it writes, and
// what the set's status says when discovery or a member write fails.
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import type { EcsInstancePowerSet, EcsInstancePowerSetStatus } from '../../src/api/powerset-types.ts';
import type { EcsInstancePower } from '../../src/api/types.ts';
import { SetReconciler } from '../../src/controllers/powerset/reconciler.ts';
import type { DesiredMember } from '../../src/controllers/powerset/plan.ts';
import { CredentialsError } from '../../src/kube/credentials.ts';
import { createLogger } from '../../src/log.ts';
import type { ReconcileResult } from '../../src/runtime/result.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { FakeEcsApi, ecsError } from '../support/fake-ecs.ts';

const KEY = 'team-a/fleet';
const HZ = 'cn-hangzhou';

function newSet(overrides: Partial<EcsInstancePowerSet['spec']> = {}): EcsInstancePowerSet {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePowerSet',
    metadata: { name: 'fleet', namespace: 'team-a', uid: 'set-uid', generation: 1, resourceVersion: '1' },
    spec: { regionIds: [HZ], tags: { env: 'dev' }, refreshInterval: '1m', template: { spec: { desiredState: 'Stopped' } }, ...overrides },
  };
}

function setup(options: { secret?: 'missing' } = {}) {
  const clock = new FakeClock();
  const ecs = new FakeEcsApi(HZ);
  for (let i = 0; i < 3; i++) ecs.addInstance(`i-${i}`, 'Running', [], { env: 'dev' });
  let set = newSet();
  const members = new Map<string, EcsInstancePower>();
  const applied: string[] = [];
  const deleted: string[] = [];
  const refuse: { apply?: number; delete?: number } = {};
  const events: string[] = [];
  const statuses: EcsInstancePowerSetStatus[] = [];
  const reconciler = new SetReconciler({
    lookup: {
      set: () => set,
      members: () => [...members.values()],
      claimants: (regionId, instanceId) => [...members.values()].filter((m) => m.spec.regionId === regionId && m.spec.instanceId === instanceId),
      byName: (_ns, name) => members.get(name),
    },
    ecs: () => ecs,
    credentials: {
      resolve: async () => {
        if (options.secret === 'missing') throw new CredentialsError('Secret team-a/creds not found');
        return {};
      },
    },
    writer: {
      apply: async (m: DesiredMember) => {
        if (refuse.apply) throw new ApiException(refuse.apply, 'refused', { message: `ecsinstancepowers "${m.metadata.name}" is forbidden` }, {});
        applied.push(m.metadata.name);
        members.set(m.metadata.name, { ...structuredClone(m), metadata: { ...structuredClone(m.metadata), uid: `uid-${m.metadata.name}`, generation: 1 } });
      },
      delete: async (_ns, name) => {
        if (refuse.delete) throw new ApiException(refuse.delete, 'refused', { message: 'forbidden' }, {});
        deleted.push(name);
        members.delete(name);
      },
    },
    status: {
      write: async (_obj, status) => {
        statuses.push(status);
        set = { ...set, status };
      },
    },
    events: { emit: (_o, type, reason, message) => events.push(`${type}/${reason}: ${message}`) },
    clock,
    log: createLogger({ level: 'error', format: 'json' }, () => undefined),
  });
  const tagged = () => ecs.callsOf('DescribeInstances').length;
  const ready = (name: string) => {
    const m = members.get(name)!;
    m.status = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Stopped', message: 'm', lastTransitionTime: '2025-06-01T10:00:00Z', observedGeneration: 1 }] };
  };
  return {
    clock,
    ecs,
    members,
    applied,
    deleted,
    refuse,
    events,
    statuses,
    tagged,
    ready,
    reconcile: () => reconciler.reconcile(KEY),
    get set() {
      return set;
    },
    update(change: (s: EcsInstancePowerSet) => void) {
      set = structuredClone(set);
      change(set);
      set.metadata.generation = (set.metadata.generation ?? 0) + 1;
    },
  };
}

const conditions = (s: EcsInstancePowerSet) => (s.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
const requeue = (r: ReconcileResult) => (r.kind === 'requeueAfter' ? `after ${r.ms}` : r.kind === 'error' ? `error, at least ${r.minDelayMs ?? 0}` : 'done');

describe('SetReconciler', () => {
  it('discovers, creates the members, comes back at the refresh interval; passes in between call no ECS', async () => {
    const t = setup();
    assert.equal(requeue(await t.reconcile()), 'after 60000');
    assert.deepEqual(t.applied, ['fleet-i-0', 'fleet-i-1', 'fleet-i-2']);
    assert.equal(t.tagged(), 1);
    assert.deepEqual(conditions(t.set), ['Ready=False/Progressing', 'Reconciling=True/Progressing', 'Stalled=False/Progressing']);
    for (const name of t.members.keys()) t.ready(name);
    t.clock.advance(5_000);
    assert.equal(requeue(await t.reconcile()), 'after 55000', 'a member changed: counted from the cache');
    assert.equal(t.tagged(), 1, 'no discovery');
    assert.deepEqual(conditions(t.set), ['Ready=True/AllReady', 'Reconciling=False/AllReady', 'Stalled=False/AllReady']);
    assert.deepEqual([t.set.status?.instances, t.set.status?.ready], [3, 3]);
    t.clock.advance(55_000);
    await t.reconcile();
    assert.equal(t.tagged(), 2, 'refresh due');
    assert.deepEqual(t.applied.length, 3, 'nothing to apply');
  });

  it('a throttled discovery deletes nothing, keeps the conditions, and is retried after 1 s, 2 s, ...', async () => {
    const t = setup();
    await t.reconcile();
    for (const name of t.members.keys()) t.ready(name);
    await t.reconcile();
    const before = structuredClone(t.set.status);
    t.ecs.instances.get('i-0')!.tags = {};
    t.clock.advance(60_000);
    t.ecs.failNext('DescribeInstances', ecsError('Throttling.User', 'throttled', { httpStatus: 400 }), 2);
    assert.equal(requeue(await t.reconcile()), 'error, at least 1000');
    assert.deepEqual(t.deleted, []);
    assert.deepEqual(t.set.status?.conditions, before?.conditions);
    assert.equal(t.set.status?.lastDiscoveryTime, before?.lastDiscoveryTime);
    assert.ok(t.events.some((e) => e.startsWith('Warning/Throttled: Throttling.User')), t.events.join('\n'));
    t.clock.advance(500);
    await t.reconcile();
    assert.equal(t.tagged(), 2, 'not due yet: no call');
    t.clock.advance(500);
    assert.equal(requeue(await t.reconcile()), 'error, at least 2000');
    t.clock.advance(2_000);
    await t.reconcile();
    assert.deepEqual(t.deleted, ['fleet-i-0'], 'deleted once discovery works');
  });

  it('a member the API server refuses (403): Stalled Forbidden, on every pass until a person acts; discovery retried within 30 s', async () => {
    const t = setup();
    t.refuse.apply = 403;
    assert.equal(requeue(await t.reconcile()), 'after 30000');
    assert.deepEqual(conditions(t.set), ['Ready=False/Forbidden', 'Reconciling=False/Forbidden', 'Stalled=True/Forbidden']);
    assert.match(t.set.status!.conditions![2]!.message, /^Forbidden: apply of member fleet-i-\d refused by the API server: .*forbidden/);
    assert.ok(t.events.some((e) => e.startsWith('Warning/Forbidden')));
    t.clock.advance(10_000);
    await t.reconcile();
    assert.equal(t.set.status!.conditions![2]!.status, 'True', 'still Stalled on a pass without discovery');
    t.refuse.apply = undefined;
    t.clock.advance(20_000);
    await t.reconcile();
    assert.equal(t.applied.length, 3);
    assert.deepEqual(conditions(t.set)[2], 'Stalled=False/Progressing');
  });

  it('a label the API server refuses (422): Stalled InvalidSpec', async () => {
    const t = setup();
    t.refuse.apply = 422;
    await t.reconcile();
    assert.deepEqual(conditions(t.set), ['Ready=False/InvalidSpec', 'Reconciling=False/InvalidSpec', 'Stalled=True/InvalidSpec']);
  });

  it('a spec the schema cannot refuse (refreshInterval 5s): Stalled InvalidSpec, no ECS call, no member written', async () => {
    const t = setup();
    t.update((s) => (s.spec.refreshInterval = '5s'));
    assert.equal(requeue(await t.reconcile()), 'done');
    assert.deepEqual(conditions(t.set), ['Ready=False/InvalidSpec', 'Reconciling=False/InvalidSpec', 'Stalled=True/InvalidSpec']);
    assert.equal(t.tagged(), 0);
    assert.deepEqual(t.applied, []);
  });

  it('credentials that cannot be read: Stalled InvalidCredentials, members left as they are', async () => {
    const t = setup({ secret: 'missing' });
    await t.reconcile();
    assert.deepEqual(conditions(t.set), ['Ready=False/InvalidCredentials', 'Reconciling=False/InvalidCredentials', 'Stalled=True/InvalidCredentials']);
    assert.match(t.set.status!.conditions![0]!.message, /Secret team-a\/creds not found/);
    assert.deepEqual([t.applied, t.deleted, t.tagged()], [[], [], 0]);
  });

  it('a spec change discovers at once and re-applies every member; a deletion refused keeps the member and stalls the set', async () => {
    const t = setup();
    await t.reconcile();
    t.update((s) => (s.spec.template.spec.stoppedMode = 'KeepCharging'));
    t.clock.advance(1_000);
    await t.reconcile();
    assert.equal(t.tagged(), 2);
    assert.equal(t.applied.length, 6);
    assert.ok([...t.members.values()].every((m) => m.spec.stoppedMode === 'KeepCharging'));
    t.refuse.delete = 403;
    t.ecs.instances.delete('i-2');
    t.update((s) => (s.spec.refreshInterval = '2m'));
    await t.reconcile();
    assert.ok(t.members.has('fleet-i-2'));
    assert.match(t.set.status!.conditions![2]!.message, /Forbidden: delete of member fleet-i-2/);
  });
});
