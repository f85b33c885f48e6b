// The EcsInstancePowerSet status (FLEETS.md) and when discovery is due, as pure functions with
// an injected time (table-driven).
import assert from 'node:assert/strict';
import type { EcsInstancePowerSetStatus } from '../../src/api/powerset-types.ts';
import type { EcsInstancePower } from '../../src/api/types.ts';
import { afterFailure, afterSuccess, discoveryDue } from '../../src/controllers/powerset/memo.ts';
import { nextSetStatus, setStatusEqual, summarize, type DiscoveryState, type MemberSummary } from '../../src/controllers/powerset/status.ts';

const T0 = new Date('2026-01-05T08:00:00Z');
const T1 = new Date('2026-01-05T08:05:00Z');

const ready = (name: string): MemberSummary => ({ name, ready: true, stalled: false });
const converging = (name: string): MemberSummary => ({ name, ready: false, stalled: false });
const stalled = (name: string): MemberSummary => ({ name, ready: false, stalled: true });
/** Discovery succeeded; `at` when it ran this pass (null: an earlier pass). */
const ok = (conflicts = 0, at: Date | null = T1): DiscoveryState => ({ kind: 'ok', conflicts, ...(at ? { at } : {}) });

type Want = { ready: string; reconciling: string; stalled: string; message?: RegExp; counts?: [number, number, number, number] };
const triple = (s: EcsInstancePowerSetStatus): string[] =>
  ['Ready', 'Reconciling', 'Stalled'].map((t) => {
    const c = s.conditions?.find((x) => x.type === t);
    return `${c?.status}/${c?.reason}`;
  });

describe('nextSetStatus(): counts and kstatus conditions', () => {
  const cases: Array<{ what: string; members: MemberSummary[]; discovery: DiscoveryState; want: Want }> = [
    { what: 'every member Ready: AllReady', members: [ready('a'), ready('b')], discovery: ok(), want: { ready: 'True/AllReady', reconciling: 'False/AllReady', stalled: 'False/AllReady', message: /^2 members Ready$/, counts: [2, 2, 0, 0] } },
    { what: 'nothing matches: NoInstances', members: [], discovery: ok(), want: { ready: 'True/NoInstances', reconciling: 'False/NoInstances', stalled: 'False/NoInstances', message: /no instance matches/, counts: [0, 0, 0, 0] } },
    { what: 'everything matching is someone else\'s: no member, conflicts said', members: [], discovery: ok(2), want: { ready: 'True/NoInstances', reconciling: 'False/NoInstances', stalled: 'False/NoInstances', message: /2 matching instances are managed by other resources/, counts: [0, 0, 0, 2] } },
    { what: 'one converging: Reconciling Progressing', members: [ready('a'), converging('b'), stalled('c')], discovery: ok(), want: { ready: 'False/Progressing', reconciling: 'True/Progressing', stalled: 'False/Progressing', message: /^1 of 3 members Ready, 1 converging$/, counts: [3, 1, 1, 0] } },
    {
      what: 'the only ones not Ready are Stalled: MembersStalled naming up to five',
      members: [ready('a'), ...['s7', 's1', 's3', 's2', 's6', 's5', 's4'].map(stalled)],
      discovery: ok(1),
      want: { ready: 'False/MembersStalled', reconciling: 'False/MembersStalled', stalled: 'True/MembersStalled', message: /^7 of 8 members are Stalled: s1, s2, s3, s4, s5, and 2 more; 1 matching instance is managed/, counts: [8, 1, 7, 1] },
    },
    { what: 'discovery fails terminally: Stalled with its reason', members: [ready('a')], discovery: { kind: 'terminal', reason: 'Forbidden', message: 'Forbidden.RAM: no (discovery in cn-hangzhou)' }, want: { ready: 'False/Forbidden', reconciling: 'False/Forbidden', stalled: 'True/Forbidden', message: /Forbidden\.RAM/ } },
    { what: 'credentials missing: Stalled InvalidCredentials', members: [], discovery: { kind: 'terminal', reason: 'InvalidCredentials', message: 'InvalidCredentials: Secret team-a/x not found' }, want: { ready: 'False/InvalidCredentials', reconciling: 'False/InvalidCredentials', stalled: 'True/InvalidCredentials' } },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const s = nextSetStatus(undefined, { generation: 3, members: c.members, discovery: c.discovery, now: T1 });
      assert.deepEqual(triple(s), [c.want.ready, c.want.reconciling, c.want.stalled]);
      if (c.want.message) assert.match(s.conditions!.find((x) => x.type === 'Ready')!.message, c.want.message);
      if (c.want.counts) assert.deepEqual([s.instances, s.ready, s.stalled, s.conflicts], c.want.counts);
      assert.equal(s.observedGeneration, 3);
      for (const cond of s.conditions!) assert.equal(cond.observedGeneration, 3);
    });
  }

  it('a transient discovery failure leaves the conditions, the generation and lastDiscoveryTime as they are; counts follow the members', () => {
    const before = nextSetStatus(undefined, { generation: 3, members: [ready('a'), ready('b')], discovery: ok(1, T0), now: T0 });
    const after = nextSetStatus(before, { generation: 4, members: [ready('a'), converging('b')], discovery: { kind: 'transient' }, now: T1 });
    assert.deepEqual(after.conditions, before.conditions);
    assert.equal(after.observedGeneration, 3);
    assert.equal(after.lastDiscoveryTime, '2026-01-05T08:00:00Z');
    assert.deepEqual([after.instances, after.ready, after.conflicts], [2, 1, 1]);
  });

  it('a transient failure on the first visit: all three conditions Unknown', () => {
    const s = nextSetStatus(undefined, { generation: 1, members: [], discovery: { kind: 'transient' }, now: T0 });
    assert.deepEqual(triple(s), ['Unknown/Initializing', 'Unknown/Initializing', 'Unknown/Initializing']);
    assert.equal(s.lastDiscoveryTime, undefined);
  });

  it('lastTransitionTime moves only with the status; a pass without discovery keeps lastDiscoveryTime', () => {
    const a = nextSetStatus(undefined, { generation: 1, members: [converging('a')], discovery: ok(0, T0), now: T0 });
    const b = nextSetStatus(a, { generation: 1, members: [ready('a')], discovery: ok(0, null), now: T1 });
    const ready0 = a.conditions!.find((c) => c.type === 'Ready')!;
    const ready1 = b.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready0.lastTransitionTime, '2026-01-05T08:00:00Z');
    assert.equal(ready1.lastTransitionTime, '2026-01-05T08:05:00Z');
    assert.equal(b.conditions!.find((c) => c.type === 'Stalled')!.lastTransitionTime, '2026-01-05T08:00:00Z', 'Stalled stayed False');
    assert.equal(b.lastDiscoveryTime, '2026-01-05T08:00:00Z');
    assert.ok(setStatusEqual(b, nextSetStatus(b, { generation: 1, members: [ready('a')], discovery: ok(0, null), now: T1 })), 'nothing new: no write');
  });
});

describe('summarize(): a member as the set counts it', () => {
  const m = (conditions: Array<[string, string]>, generation = 2, observed = 2): EcsInstancePower => ({
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePower',
    metadata: { name: 'm', generation },
    spec: { instanceId: 'i-a', regionId: 'cn-hangzhou', desiredState: 'Stopped' },
    status: { observedGeneration: observed, conditions: conditions.map(([type, status]) => ({ type: type as 'Ready', status: status as 'True', reason: 'r', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' })) },
  });
  const cases: Array<[string, EcsInstancePower, boolean, { ready: boolean; stalled: boolean }]> = [
    ['Ready for its generation', m([['Ready', 'True']]), false, { ready: true, stalled: false }],
    ['Ready for an older generation (the template just changed it)', m([['Ready', 'True']], 3, 2), false, { ready: false, stalled: false }],
    ['applied this pass', m([['Ready', 'True']]), true, { ready: false, stalled: false }],
    ['Stalled', m([['Ready', 'False'], ['Stalled', 'True']]), false, { ready: false, stalled: true }],
    ['no status yet', { ...m([]), status: undefined }, false, { ready: false, stalled: false }],
  ];
  for (const [what, member, changed, want] of cases) {
    it(what, () => {
      const s = summarize(member, changed);
      assert.deepEqual({ ready: s.ready, stalled: s.stalled }, want);
    });
  }
});

describe('discoveryDue(): when instances are discovered again', () => {
  const MIN = 60_000;
  it('first pass, a new uid or a new generation: at once', () => {
    assert.equal(discoveryDue(undefined, 'u', 1, 0), true);
    const memo = afterSuccess('u', 1, 0, 5 * MIN, 0);
    assert.equal(discoveryDue(memo, 'u', 1, 1000), false);
    assert.equal(discoveryDue(memo, 'u', 2, 1000), true);
    assert.equal(discoveryDue(memo, 'other', 1, 1000), true);
  });

  it('after a success: at the refresh interval, not before', () => {
    const memo = afterSuccess('u', 1, 1000, 5 * MIN, 0);
    assert.equal(discoveryDue(memo, 'u', 1, 1000 + 5 * MIN - 1), false);
    assert.equal(discoveryDue(memo, 'u', 1, 1000 + 5 * MIN), true);
  });

  it('transient failures: 1 s, doubling, at most the refresh interval, at least retry-after', () => {
    let memo = afterFailure(undefined, { uid: 'u', generation: 1, now: 0, intervalMs: 10_000 });
    const waits = [memo.dueAt];
    for (let i = 0; i < 5; i++) {
      memo = afterFailure(memo, { uid: 'u', generation: 1, now: 0, intervalMs: 10_000 });
      waits.push(memo.dueAt);
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert.equal(afterFailure(undefined, { uid: 'u', generation: 1, now: 0, intervalMs: 10_000, retryAfterMs: 7000 }).dueAt, 7000);
    assert.equal(afterFailure(afterSuccess('u', 1, 0, MIN, 3), { uid: 'u', generation: 1, now: 0, intervalMs: MIN }).conflicts, 3, 'conflicts of the last success kept');
  });

  it('a terminal failure is looked at again within 30 s (a fixed Secret shows soon)', () => {
    const memo = afterFailure(undefined, { uid: 'u', generation: 1, now: 0, intervalMs: 5 * MIN, terminal: { reason: 'Forbidden', message: 'm' } });
    assert.deepEqual([memo.outcome, memo.dueAt], ['terminal', 30_000]);
  });
});
