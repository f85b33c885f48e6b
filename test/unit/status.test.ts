// nextStatus(), statusEqual() and eventsFor(): what a user reads in .status and in events.
import assert from 'node:assert/strict';
import type { Condition, ConditionType, EcsInstancePowerStatus } from '../../src/api/types.ts';
import { eventsFor } from '../../src/controllers/instancepower/events.ts';
import type { Outcome } from '../../src/controllers/instancepower/outcome.ts';
import { nextStatus, statusEqual, type Intent } from '../../src/controllers/instancepower/status.ts';

/** A resource with spec.desiredState Stopped, no schedule and no override. */
const SPEC: Intent = { desiredState: 'Stopped', source: 'spec' };
const T0 = new Date('2025-06-01T10:00:00Z');
const T1 = new Date('2025-06-01T10:07:30Z');
const T0S = '2025-06-01T10:00:00Z';
const T1S = '2025-06-01T10:07:30Z';

const OUTCOMES = {
  converged: { kind: 'converged', reason: 'Stopped', instanceStatus: 'Stopped', message: 'Instance i-a is Stopped' },
  inProgress: { kind: 'inProgress', reason: 'StopRequested', instanceStatus: 'Running', message: 'StopInstance accepted for i-a (RequestId r-stop)', requestId: 'r-stop' },
  drifted: { kind: 'drifted', instanceStatus: 'Running', message: 'Instance i-a is Running, desired Stopped' },
  dryRunPassed: { kind: 'dryRunPassed', instanceStatus: 'Running', message: 'StopInstance validated (RequestId r-dry)', requestId: 'r-dry' },
  observeFailed: { kind: 'observeFailed', reason: 'Throttled', message: 'Throttling.User: Request was denied due to user flow control. (RequestId r-thr)', backoff: 'normal', retryAfterMs: 1500 },
  transientError: { kind: 'transientError', reason: 'InternalError', message: 'InternalError: The request processing has failed due to some unknown error. (RequestId r-500)', backoff: 'normal', instanceStatus: 'Running' },
  terminalError: { kind: 'terminalError', reason: 'InstanceLockedForSecurity', message: 'InstanceLockedForSecurity: locked (RequestId r-lock)', instanceStatus: 'Running' },
} satisfies Record<Outcome['kind'], Outcome>;

/** Expected (Ready, Reconciling, Stalled) statuses and the Ready reason, from a first visit. */
const FIRST_VISIT: Record<Outcome['kind'], { ready: string; reconciling: string; stalled: string; reason: string }> = {
  converged: { ready: 'True', reconciling: 'False', stalled: 'False', reason: 'Stopped' },
  dryRunPassed: { ready: 'True', reconciling: 'False', stalled: 'False', reason: 'DryRunSucceeded' },
  inProgress: { ready: 'False', reconciling: 'True', stalled: 'False', reason: 'StopRequested' },
  drifted: { ready: 'False', reconciling: 'False', stalled: 'False', reason: 'Drifted' },
  transientError: { ready: 'False', reconciling: 'True', stalled: 'False', reason: 'InternalError' },
  observeFailed: { ready: 'Unknown', reconciling: 'True', stalled: 'False', reason: 'Throttled' },
  terminalError: { ready: 'False', reconciling: 'False', stalled: 'True', reason: 'InstanceLockedForSecurity' },
};

function c(s: EcsInstancePowerStatus, type: ConditionType): Condition {
  const found = s.conditions?.find((x) => x.type === type);
  assert.ok(found, `condition ${type} missing in ${JSON.stringify(s)}`);
  return found;
}

function statuses(s: EcsInstancePowerStatus): string {
  return `${c(s, 'Ready').status}/${c(s, 'Reconciling').status}/${c(s, 'Stalled').status}`;
}

/** Statuses a resource can be in before a pass. */
function priors(): Array<{ name: string; status: EcsInstancePowerStatus | undefined }> {
  return [
    { name: 'fresh', status: undefined },
    { name: 'empty status', status: {} },
    ...Object.values(OUTCOMES).map((o) => ({ name: `after ${o.kind}`, status: nextStatus(undefined, o, 1, T0, SPEC) })),
    ...Object.values(OUTCOMES).map((o) => ({ name: `after ${o.kind} of generation 0`, status: nextStatus(undefined, o, 0, T0, SPEC) })),
  ];
}

describe('nextStatus()', () => {
  describe('first visit: all three conditions present, with the outcome', () => {
    for (const [kind, o] of Object.entries(OUTCOMES) as Array<[Outcome['kind'], Outcome]>) {
      const want = FIRST_VISIT[kind];
      it(`${kind}: Ready ${want.ready}, Reconciling ${want.reconciling}, Stalled ${want.stalled}, reason ${want.reason}`, () => {
        const s = nextStatus(undefined, o, 4, T0, SPEC);
        assert.deepEqual(
          s.conditions?.map((x) => x.type),
          ['Ready', 'Reconciling', 'Stalled'],
        );
        assert.equal(statuses(s), `${want.ready}/${want.reconciling}/${want.stalled}`);
        assert.equal(c(s, 'Ready').reason, want.reason);
        assert.equal(s.observedGeneration, 4);
        for (const x of s.conditions ?? []) {
          assert.equal(x.observedGeneration, 4, `${x.type}.observedGeneration`);
          assert.equal(x.lastTransitionTime, T0S, `${x.type}.lastTransitionTime`);
          assert.ok(x.reason.length > 0, `${x.type} has a reason`);
          // Kubernetes 1.20 API servers (Go >= 1.16) reject "" in custom resources.
          assert.ok(x.message.length > 0, `${x.type} has a message`);
        }
      });
    }
  });

  describe('Reconciling and Stalled are never both True; Ready True means neither is', () => {
    for (const o of Object.values(OUTCOMES)) {
      it(`-> ${o.kind}, from every prior status and generation`, () => {
        for (const prior of priors()) {
          for (const generation of [0, 1, 2]) {
            const s = nextStatus(prior.status, o, generation, T1, SPEC);
            const where = `${prior.name}, generation ${generation}: ${statuses(s)}`;
            const rec = c(s, 'Reconciling').status;
            const stalled = c(s, 'Stalled').status;
            assert.ok(!(rec === 'True' && stalled === 'True'), where);
            if (c(s, 'Ready').status === 'True') assert.equal(`${rec}/${stalled}`, 'False/False', where);
            assert.equal(s.observedGeneration, generation, where);
            assert.equal(s.conditions?.length, 3, where);
            for (const x of s.conditions ?? []) assert.ok(x.message.length > 0, `${where}: ${x.type} message is empty`);
          }
        }
      });
    }
  });

  describe('lastTransitionTime moves only when status moves', () => {
    const table: Array<{ from: Outcome; to: Outcome; moved: ConditionType[] }> = [
      { from: OUTCOMES.inProgress, to: { ...OUTCOMES.inProgress, reason: 'Stopping', message: 'Instance i-a is Stopping', instanceStatus: 'Stopping' }, moved: [] },
      { from: OUTCOMES.inProgress, to: OUTCOMES.converged, moved: ['Ready', 'Reconciling'] },
      { from: OUTCOMES.inProgress, to: OUTCOMES.transientError, moved: [] },
      { from: OUTCOMES.inProgress, to: OUTCOMES.terminalError, moved: ['Reconciling', 'Stalled'] },
      { from: OUTCOMES.terminalError, to: OUTCOMES.converged, moved: ['Ready', 'Stalled'] },
      { from: OUTCOMES.converged, to: OUTCOMES.drifted, moved: ['Ready'] },
      { from: OUTCOMES.converged, to: OUTCOMES.dryRunPassed, moved: [] },
      { from: OUTCOMES.converged, to: { ...OUTCOMES.converged, message: 'other words' }, moved: [] },
    ];
    for (const r of table) {
      it(`${r.from.kind}${'reason' in r.from ? `/${r.from.reason}` : ''} -> ${r.to.kind}${'reason' in r.to ? `/${r.to.reason}` : ''}: moves ${r.moved.join(', ') || 'nothing'}`, () => {
        const prev = nextStatus(undefined, r.from, 1, T0, SPEC);
        const next = nextStatus(prev, r.to, 1, T1, SPEC);
        for (const type of ['Ready', 'Reconciling', 'Stalled'] as const) {
          const moved = c(prev, type).status !== c(next, type).status;
          assert.equal(moved, r.moved.includes(type), `${type} status moved?`);
          assert.equal(c(next, type).lastTransitionTime, moved ? T1S : T0S, `${type}.lastTransitionTime`);
        }
      });
    }
    it('reason and message update in place while the status stays', () => {
      const prev = nextStatus(undefined, OUTCOMES.inProgress, 1, T0, SPEC);
      const next = nextStatus(prev, { kind: 'inProgress', reason: 'Stopping', instanceStatus: 'Stopping', message: 'Instance i-a is Stopping' }, 1, T1, SPEC);
      assert.equal(c(next, 'Ready').reason, 'Stopping');
      assert.equal(c(next, 'Ready').message, 'Instance i-a is Stopping');
      assert.equal(c(next, 'Reconciling').reason, 'Stopping');
      assert.equal(next.instanceStatus, 'Stopping');
    });
  });

  describe('observedGeneration', () => {
    it('a new generation is recorded on the status and on every condition', () => {
      const prev = nextStatus(undefined, OUTCOMES.converged, 1, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.inProgress, 2, T1, SPEC);
      assert.equal(next.observedGeneration, 2);
      assert.deepEqual(next.conditions?.map((x) => x.observedGeneration), [2, 2, 2]);
    });
    it('a converged resource seen converged under a new generation records the new generation without a transition', () => {
      const prev = nextStatus(undefined, OUTCOMES.converged, 1, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.converged, 2, T1, SPEC);
      assert.equal(next.observedGeneration, 2);
      assert.deepEqual(next.conditions?.map((x) => [x.observedGeneration, x.lastTransitionTime]), [[2, T0S], [2, T0S], [2, T0S]]);
      assert.equal(statusEqual(prev, next), false, 'the new generation must be written');
    });
  });

  describe('a failed observation', () => {
    it('on a converged resource changes nothing (no write, health does not flap)', () => {
      const prev = nextStatus(undefined, OUTCOMES.converged, 3, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.observeFailed, 3, T1, SPEC);
      assert.equal(statusEqual(prev, next), true, JSON.stringify(next));
      assert.equal(c(next, 'Ready').status, 'True');
    });
    it('on a dry-run-validated resource changes nothing', () => {
      const prev = nextStatus(undefined, OUTCOMES.dryRunPassed, 3, T0, SPEC);
      assert.equal(statusEqual(prev, nextStatus(prev, OUTCOMES.observeFailed, 3, T1, SPEC)), true);
    });
    it('on a fresh resource: Ready Unknown and Reconciling True with the error', () => {
      const next = nextStatus(undefined, OUTCOMES.observeFailed, 1, T0, SPEC);
      assert.equal(statuses(next), 'Unknown/True/False');
      assert.equal(c(next, 'Ready').reason, 'Throttled');
      assert.equal(c(next, 'Reconciling').reason, 'Throttled');
      assert.equal(c(next, 'Reconciling').message, OUTCOMES.observeFailed.message);
    });
    it('on a converged resource whose spec just changed: the new generation is not reported Ready', () => {
      const prev = nextStatus(undefined, OUTCOMES.converged, 3, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.observeFailed, 4, T1, SPEC);
      assert.notEqual(c(next, 'Ready').status, 'True');
      assert.equal(c(next, 'Reconciling').status, 'True');
      assert.equal(next.observedGeneration, 4);
    });
    it('on a resource in transition keeps Ready False and its reason, Reconciling True with the error', () => {
      const prev = nextStatus(undefined, OUTCOMES.inProgress, 2, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.observeFailed, 2, T1, SPEC);
      assert.equal(statuses(next), 'False/True/False');
      assert.equal(c(next, 'Ready').reason, 'StopRequested');
      assert.equal(c(next, 'Reconciling').reason, 'Throttled');
    });
    it('on a stalled resource clears Stalled while it retries (never both True)', () => {
      const prev = nextStatus(undefined, OUTCOMES.terminalError, 2, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.observeFailed, 2, T1, SPEC);
      assert.equal(statuses(next), 'False/True/False');
    });
  });

  describe('errors', () => {
    it('terminal: Stalled True with the reason and the ECS message, Ready False with the same reason', () => {
      const prev = nextStatus(undefined, OUTCOMES.inProgress, 1, T0, SPEC);
      const next = nextStatus(prev, OUTCOMES.terminalError, 1, T1, SPEC);
      assert.equal(statuses(next), 'False/False/True');
      assert.equal(c(next, 'Stalled').reason, 'InstanceLockedForSecurity');
      assert.equal(c(next, 'Stalled').message, OUTCOMES.terminalError.message);
      assert.equal(c(next, 'Ready').reason, 'InstanceLockedForSecurity');
    });
    it('transient: Reconciling True with the reason and message, Stalled False', () => {
      const next = nextStatus(undefined, OUTCOMES.transientError, 1, T0, SPEC);
      assert.equal(c(next, 'Reconciling').reason, 'InternalError');
      assert.equal(c(next, 'Reconciling').message, OUTCOMES.transientError.message);
      assert.equal(c(next, 'Ready').message, OUTCOMES.transientError.message);
    });
  });

  describe('lastRequestId and instanceStatus', () => {
    it('set by an accepted call, kept by later passes without a call, replaced by the next call', () => {
      const s1 = nextStatus(undefined, OUTCOMES.inProgress, 1, T0, SPEC);
      assert.equal(s1.lastRequestId, 'r-stop');
      const s2 = nextStatus(s1, OUTCOMES.converged, 1, T1, SPEC);
      assert.equal(s2.lastRequestId, 'r-stop');
      assert.equal(s2.instanceStatus, 'Stopped');
      const s3 = nextStatus(s2, OUTCOMES.observeFailed, 1, T1, SPEC);
      assert.equal(s3.lastRequestId, 'r-stop');
      assert.equal(s3.instanceStatus, 'Stopped', 'a failed observation keeps the last observed status');
      const s4 = nextStatus(s3, OUTCOMES.dryRunPassed, 2, T1, SPEC);
      assert.equal(s4.lastRequestId, 'r-dry');
    });
    it('a first pass without any call has no lastRequestId', () => {
      assert.equal('lastRequestId' in nextStatus(undefined, OUTCOMES.converged, 1, T0, SPEC), false);
    });
  });

  describe('messages are bounded and clean', () => {
    const huge = 'InternalError: ' + 'x\u0000y\u001b[31mz\u007f'.repeat(1024 * 1024 / 10) + ' (RequestId r)';
    for (const kind of ['transientError', 'terminalError', 'inProgress', 'converged'] as const) {
      it(`${kind}: a 1 MB message with NUL and ESC becomes at most 1024 characters without control characters`, () => {
        const o = { ...OUTCOMES[kind], message: huge } as Outcome;
        const s = nextStatus(undefined, o, 1, T0, SPEC);
        for (const x of s.conditions ?? []) {
          assert.ok(x.message.length <= 1024, `${x.type}: ${x.message.length} characters`);
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(x.message, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, x.type);
        }
        const carrier = kind === 'terminalError' ? c(s, 'Stalled') : c(s, 'Ready');
        assert.ok(carrier.message.length >= 1000, 'the message is cut, not dropped');
        assert.ok(carrier.message.startsWith('InternalError: x'));
      });
    }
    it('a cut never splits a surrogate pair', () => {
      const o = { ...OUTCOMES.terminalError, message: 'a' + '😀'.repeat(2000) };
      const m = c(nextStatus(undefined, o, 1, T0, SPEC), 'Stalled').message;
      assert.ok(m.length <= 1024);
      assert.ok(m.isWellFormed());
    });
    it('an empty message is never written', () => {
      const s = nextStatus(undefined, { ...OUTCOMES.converged, message: '' }, 1, T0, SPEC);
      for (const x of s.conditions ?? []) assert.ok(x.message.length > 0, x.type);
    });
    it('a short message is kept as it is', () => {
      const s = nextStatus(undefined, OUTCOMES.terminalError, 1, T0, SPEC);
      assert.equal(c(s, 'Stalled').message, OUTCOMES.terminalError.message);
    });
  });
});

describe('statusEqual()', () => {
  const base = nextStatus(undefined, OUTCOMES.inProgress, 1, T0, SPEC);
  const table: Array<{ name: string; other: EcsInstancePowerStatus | undefined; equal: boolean }> = [
    { name: 'the same status', other: structuredClone(base), equal: true },
    { name: 'conditions in another order', other: { ...base, conditions: [...(base.conditions ?? [])].reverse() }, equal: true },
    { name: 'another observedGeneration', other: { ...base, observedGeneration: 2 }, equal: false },
    { name: 'another instanceStatus', other: { ...base, instanceStatus: 'Stopping' }, equal: false },
    { name: 'another lastRequestId', other: { ...base, lastRequestId: 'r-other' }, equal: false },
    { name: 'a condition with another lastTransitionTime', other: { ...base, conditions: base.conditions?.map((x) => (x.type === 'Stalled' ? { ...x, lastTransitionTime: T1S } : x)) }, equal: false },
    { name: 'a condition with another message', other: { ...base, conditions: base.conditions?.map((x) => (x.type === 'Ready' ? { ...x, message: 'm' } : x)) }, equal: false },
    { name: 'a condition missing', other: { ...base, conditions: base.conditions?.slice(0, 2) }, equal: false },
    { name: 'no status at all', other: undefined, equal: false },
  ];
  for (const r of table) {
    it(`${r.name}: ${r.equal ? 'equal' : 'different'}`, () => {
      assert.equal(statusEqual(base, r.other), r.equal);
      assert.equal(statusEqual(r.other, base), r.equal);
    });
  }
  it('two missing statuses are equal', () => {
    assert.equal(statusEqual(undefined, undefined), true);
  });
});

describe('eventsFor()', () => {
  const run = (prev: EcsInstancePowerStatus | undefined, o: Outcome) => eventsFor(prev, nextStatus(prev, o, 1, T1, SPEC), o);
  const after = (o: Outcome) => nextStatus(undefined, o, 1, T0, SPEC);
  const table: Array<{ name: string; prev: EcsInstancePowerStatus | undefined; outcome: Outcome; want: Array<[string, string]> }> = [
    { name: 'stop accepted', prev: undefined, outcome: OUTCOMES.inProgress, want: [['Normal', 'StopRequested']] },
    { name: 'start accepted', prev: undefined, outcome: { kind: 'inProgress', reason: 'StartRequested', message: 'StartInstance accepted', requestId: 'r-s' }, want: [['Normal', 'StartRequested']] },
    { name: 'observed Stopping (no call of ours)', prev: after(OUTCOMES.inProgress), outcome: { kind: 'inProgress', reason: 'Stopping', instanceStatus: 'Stopping', message: 'Stopping' }, want: [] },
    { name: 'waiting in the grace window (no new call)', prev: after(OUTCOMES.inProgress), outcome: { kind: 'inProgress', reason: 'StopRequested', instanceStatus: 'Running', message: 'Waiting' }, want: [] },
    { name: 'reached Stopped', prev: after(OUTCOMES.inProgress), outcome: OUTCOMES.converged, want: [['Normal', 'Stopped']] },
    { name: 'reached Running', prev: undefined, outcome: { kind: 'converged', reason: 'Running', instanceStatus: 'Running', message: 'Running' }, want: [['Normal', 'Running']] },
    { name: 'still Stopped on resync', prev: after(OUTCOMES.converged), outcome: OUTCOMES.converged, want: [] },
    { name: 'dry run validated', prev: undefined, outcome: OUTCOMES.dryRunPassed, want: [['Normal', 'DryRunSucceeded']] },
    { name: 'dry run still validated', prev: after(OUTCOMES.dryRunPassed), outcome: OUTCOMES.dryRunPassed, want: [] },
    { name: 'drift detected', prev: after(OUTCOMES.converged), outcome: OUTCOMES.drifted, want: [['Normal', 'DriftDetected']] },
    { name: 'drift still there', prev: after(OUTCOMES.drifted), outcome: OUTCOMES.drifted, want: [] },
    { name: 'transient error', prev: undefined, outcome: OUTCOMES.transientError, want: [['Warning', 'InternalError']] },
    { name: 'terminal error', prev: undefined, outcome: OUTCOMES.terminalError, want: [['Warning', 'InstanceLockedForSecurity']] },
    { name: 'failed observation', prev: after(OUTCOMES.converged), outcome: OUTCOMES.observeFailed, want: [['Warning', 'Throttled']] },
  ];
  for (const r of table) {
    it(`${r.name}: ${r.want.map((w) => w.join(' ')).join(', ') || 'no event'}`, () => {
      const events = run(r.prev, r.outcome);
      assert.deepEqual(events.map((e) => [e.type, e.reason]), r.want);
      for (const e of events) assert.equal(e.message, r.outcome.message);
    });
  }
});
