// decide(): what one pass does, from the spec, the last status and what ECS showed.
import assert from 'node:assert/strict';
import type { Condition, DesiredState, EcsInstancePowerSpec, EcsInstancePowerStatus, InstanceStatus } from '../../src/api/types.ts';
import { INSTANCE_STATUSES } from '../../src/api/types.ts';
import { decide } from '../../src/controllers/instancepower/decide.ts';
import type { Decision, DecideInput, RecentRequest } from '../../src/controllers/instancepower/decide.ts';
import { nextStatus } from '../../src/controllers/instancepower/status.ts';
import type { Outcome } from '../../src/controllers/instancepower/outcome.ts';

const NOW = Date.parse('2025-06-01T10:00:00Z');
const GRACE = 10_000;
const ID = 'i-bp1demo0001';

function spec(desiredState: DesiredState, extra: Partial<EcsInstancePowerSpec> = {}): EcsInstancePowerSpec {
  return { instanceId: ID, regionId: 'cn-hangzhou', desiredState, ...extra };
}

function cond(type: Condition['type'], status: Condition['status'], reason: string, observedGeneration: number, message = ''): Condition {
  return { type, status, reason, message, lastTransitionTime: '2025-06-01T09:00:00Z', observedGeneration };
}

/** A status as nextStatus leaves it: Ready as given, the other two consistent with it. */
function statusWithReady(status: Condition['status'], reason: string, generation: number, message = `Ready ${reason}`): EcsInstancePowerStatus {
  // What nextStatus records: the generation is remembered as converged once Ready was True,
  // and stays so while drift is reported.
  const converged = status === 'True' || reason === 'Drifted';
  return {
    observedGeneration: generation,
    ...(converged ? { convergedGeneration: generation } : {}),
    conditions: [
      cond('Ready', status, reason, generation, message),
      cond('Reconciling', 'False', reason, generation),
      cond('Stalled', 'False', reason, generation),
    ],
  };
}

function input(over: Partial<DecideInput> & { seen?: InstanceStatus | 'NotFound' }): DecideInput {
  const seen = over.seen ?? 'Running';
  const theSpec = over.spec ?? spec('Stopped');
  return {
    spec: theSpec,
    desired: over.desired ?? theSpec.desiredState ?? 'Stopped',
    generation: over.generation ?? 1,
    status: over.status,
    observation:
      over.observation ??
      (seen === 'NotFound'
        ? { instanceId: ID, found: false, lockReasons: [], requestId: 'req-obs' }
        : { instanceId: ID, found: true, status: seen, lockReasons: [], requestId: 'req-obs' }),
    recentRequest: over.recentRequest,
    now: over.now ?? NOW,
    requestGraceMs: over.requestGraceMs ?? GRACE,
  };
}

function outcomeOf(d: Decision): Outcome {
  assert.equal(d.kind, 'report', `expected a report, got ${JSON.stringify(d)}`);
  return (d as { kind: 'report'; outcome: Outcome }).outcome;
}

type Expect =
  | { act: 'stop' | 'start' }
  | { report: Outcome['kind']; reason?: string; instanceStatus?: InstanceStatus };

function check(d: Decision, e: Expect): void {
  if ('act' in e) {
    assert.deepEqual(d, { kind: 'act', action: { kind: e.act } });
    return;
  }
  const o = outcomeOf(d);
  assert.equal(o.kind, e.report);
  if (e.reason !== undefined) assert.equal('reason' in o ? o.reason : undefined, e.reason);
  if (e.instanceStatus !== undefined) assert.equal('instanceStatus' in o ? o.instanceStatus : undefined, e.instanceStatus);
}

describe('decide()', () => {
  describe('every desiredState × observed status (Enforce, no history)', () => {
    const table: Array<{ desired: DesiredState; seen: InstanceStatus; expect: Expect }> = [
      { desired: 'Stopped', seen: 'Stopped', expect: { report: 'converged', reason: 'Stopped', instanceStatus: 'Stopped' } },
      { desired: 'Stopped', seen: 'Running', expect: { act: 'stop' } },
      { desired: 'Stopped', seen: 'Stopping', expect: { report: 'inProgress', reason: 'Stopping', instanceStatus: 'Stopping' } },
      { desired: 'Stopped', seen: 'Starting', expect: { report: 'inProgress', reason: 'Starting', instanceStatus: 'Starting' } },
      { desired: 'Stopped', seen: 'Pending', expect: { report: 'inProgress', reason: 'Pending', instanceStatus: 'Pending' } },
      { desired: 'Running', seen: 'Running', expect: { report: 'converged', reason: 'Running', instanceStatus: 'Running' } },
      { desired: 'Running', seen: 'Stopped', expect: { act: 'start' } },
      { desired: 'Running', seen: 'Stopping', expect: { report: 'inProgress', reason: 'Stopping', instanceStatus: 'Stopping' } },
      { desired: 'Running', seen: 'Starting', expect: { report: 'inProgress', reason: 'Starting', instanceStatus: 'Starting' } },
      { desired: 'Running', seen: 'Pending', expect: { report: 'inProgress', reason: 'Pending', instanceStatus: 'Pending' } },
    ];
    it('covers all ten pairs', () => {
      assert.equal(new Set(table.map((r) => `${r.desired}/${r.seen}`)).size, 2 * INSTANCE_STATUSES.length);
    });
    for (const r of table) {
      it(`desired ${r.desired}, seen ${r.seen}: ${'act' in r.expect ? r.expect.act : r.expect.report}`, () => {
        check(decide(input({ spec: spec(r.desired), seen: r.seen })), r.expect);
      });
    }
  });

  describe('the instance is not found', () => {
    for (const desired of ['Stopped', 'Running'] as const) {
      it(`desired ${desired}: terminal InstanceNotFound with the ECS code and RequestId in the message`, () => {
        const o = outcomeOf(decide(input({ spec: spec(desired), seen: 'NotFound' })));
        assert.equal(o.kind, 'terminalError');
        assert.equal('reason' in o && o.reason, 'InstanceNotFound');
        assert.match(o.message, /^InvalidInstanceId\.NotFound: .*i-bp1demo0001.* \(RequestId req-obs\)$/);
      });
    }
    it('found but without a status counts as not found', () => {
      const o = outcomeOf(decide(input({ observation: { instanceId: ID, found: true, lockReasons: [] } })));
      assert.equal(o.kind, 'terminalError');
      assert.doesNotMatch(o.message, /RequestId/);
    });
  });

  describe('dryRun', () => {
    const table: Array<{ name: string; desired: DesiredState; seen: InstanceStatus; generation: number; status: EcsInstancePowerStatus | undefined; expect: Expect }> = [
      { name: 'first time: sends the call (stop)', desired: 'Stopped', seen: 'Running', generation: 1, status: undefined, expect: { act: 'stop' } },
      { name: 'first time: sends the call (start)', desired: 'Running', seen: 'Stopped', generation: 1, status: undefined, expect: { act: 'start' } },
      {
        name: 'already validated this generation: reports, no second call',
        desired: 'Stopped',
        seen: 'Running',
        generation: 3,
        status: statusWithReady('True', 'DryRunSucceeded', 3, 'StopInstance validated (RequestId r-9)'),
        expect: { report: 'dryRunPassed', instanceStatus: 'Running' },
      },
      {
        name: 'validated for an older generation: validates again',
        desired: 'Stopped',
        seen: 'Running',
        generation: 4,
        status: statusWithReady('True', 'DryRunSucceeded', 3),
        expect: { act: 'stop' },
      },
      {
        name: 'a failed validation this generation is tried again',
        desired: 'Stopped',
        seen: 'Running',
        generation: 3,
        status: statusWithReady('False', 'Throttled', 3),
        expect: { act: 'stop' },
      },
      {
        name: 'instance already in the desired state: converged, no call',
        desired: 'Stopped',
        seen: 'Stopped',
        generation: 1,
        status: undefined,
        expect: { report: 'converged', reason: 'Stopped' },
      },
    ];
    for (const r of table) {
      it(r.name, () => {
        check(decide(input({ spec: spec(r.desired, { dryRun: true }), seen: r.seen, generation: r.generation, status: r.status })), r.expect);
      });
    }
    it('an already-validated dry run keeps the validation message, so the status does not change', () => {
      const status = statusWithReady('True', 'DryRunSucceeded', 3, 'StopInstance validated (RequestId r-9)');
      const o = outcomeOf(decide(input({ spec: spec('Stopped', { dryRun: true }), seen: 'Running', generation: 3, status })));
      assert.equal(o.message, 'StopInstance validated (RequestId r-9)');
    });
    it('a recent real request does not stop a dry run from validating', () => {
      const recentRequest: RecentRequest = { generation: 1, action: 'stop', at: NOW - 1000 };
      check(decide(input({ spec: spec('Stopped', { dryRun: true }), seen: 'Running', recentRequest })), { act: 'stop' });
    });
  });

  describe('driftPolicy', () => {
    const table: Array<{ name: string; policy?: 'Enforce' | 'Observe'; generation: number; status: EcsInstancePowerStatus | undefined; expect: Expect }> = [
      { name: 'Observe, not yet converged this generation: acts', policy: 'Observe', generation: 1, status: undefined, expect: { act: 'stop' } },
      {
        name: 'Observe, a transition of this generation still in progress: acts',
        policy: 'Observe',
        generation: 2,
        status: statusWithReady('False', 'StopRequested', 2),
        expect: { act: 'stop' },
      },
      {
        name: 'Observe, converged this generation, now out of state: reports drift',
        policy: 'Observe',
        generation: 2,
        status: statusWithReady('True', 'Stopped', 2),
        expect: { report: 'drifted', instanceStatus: 'Running' },
      },
      {
        name: 'Observe, drift already reported this generation: still only reports',
        policy: 'Observe',
        generation: 2,
        status: statusWithReady('False', 'Drifted', 2),
        expect: { report: 'drifted', instanceStatus: 'Running' },
      },
      {
        name: 'Observe, converged for the previous generation: the new generation acts once',
        policy: 'Observe',
        generation: 3,
        status: statusWithReady('True', 'Stopped', 2),
        expect: { act: 'stop' },
      },
      {
        name: 'Observe, drift reported for the previous generation: the new generation acts',
        policy: 'Observe',
        generation: 3,
        status: statusWithReady('False', 'Drifted', 2),
        expect: { act: 'stop' },
      },
      {
        name: 'Enforce, converged this generation, now out of state: acts again',
        policy: 'Enforce',
        generation: 2,
        status: statusWithReady('True', 'Stopped', 2),
        expect: { act: 'stop' },
      },
      {
        name: 'unset means Enforce',
        generation: 2,
        status: statusWithReady('True', 'Stopped', 2),
        expect: { act: 'stop' },
      },
    ];
    for (const r of table) {
      it(r.name, () => {
        const s = spec('Stopped', r.policy ? { driftPolicy: r.policy } : {});
        check(decide(input({ spec: s, seen: 'Running', generation: r.generation, status: r.status })), r.expect);
      });
    }

    it('Observe, converged: the instance back in the desired state is converged again', () => {
      check(
        decide(input({ spec: spec('Stopped', { driftPolicy: 'Observe' }), seen: 'Stopped', generation: 2, status: statusWithReady('False', 'Drifted', 2) })),
        { report: 'converged', reason: 'Stopped' },
      );
    });

    // Regression (was a bug): decide.ts convergedBefore() remembers "converged this generation" only through the
    // Ready condition (True, or reason Drifted). When a person stops a Running instance under
    // driftPolicy Observe and a pass happens to see it while Stopping, nextStatus records Ready
    // False / reason Stopping for the same generation; the next pass sees Stopped, finds no trace
    // of the convergence and starts the instance: Observe acts twice in one generation. The same
    // happens after any terminal error on the describe call (e.g. rotated credentials).
    it('Observe: an out-of-band stop seen mid-transition is still only reported, never undone', () => {
      const s = spec('Running', { driftPolicy: 'Observe' });
      const t = (m: number) => new Date(NOW + m * 60_000);
      let status: EcsInstancePowerStatus | undefined;
      const pass = (seen: InstanceStatus, minute: number): Decision => {
        const d = decide(input({ spec: s, seen, generation: 1, status, now: NOW + minute * 60_000 }));
        if (d.kind === 'report') status = nextStatus(status, d.outcome, 1, t(minute), { desiredState: 'Running', source: 'spec' });
        return d;
      };
      check(pass('Running', 0), { report: 'converged', reason: 'Running' });
      pass('Stopping', 1); // a person stops it; this pass happens to see the transition
      const d = pass('Stopped', 2);
      assert.notEqual(d.kind, 'act', 'driftPolicy Observe started an instance a second time in one generation');
      check(d, { report: 'drifted', instanceStatus: 'Stopped' });
    });
  });

  describe('grace window after our own accepted request', () => {
    const table: Array<{ name: string; recent: RecentRequest | undefined; generation?: number; expect: Expect }> = [
      { name: 'no recent request: acts', recent: undefined, expect: { act: 'stop' } },
      { name: 'same generation and action, just issued: waits', recent: { generation: 1, action: 'stop', at: NOW }, expect: { report: 'inProgress', reason: 'StopRequested', instanceStatus: 'Running' } },
      { name: 'same generation and action, 1 ms before the window ends: waits', recent: { generation: 1, action: 'stop', at: NOW - GRACE + 1 }, expect: { report: 'inProgress', reason: 'StopRequested' } },
      { name: 'same generation and action, window over: asks again', recent: { generation: 1, action: 'stop', at: NOW - GRACE }, expect: { act: 'stop' } },
      // The instance is already on its way: a new spec asking the same (say, another stoppedMode) waits too.
      { name: 'same action for an earlier generation, just issued: waits', recent: { generation: 1, action: 'stop', at: NOW - 1 }, generation: 2, expect: { report: 'inProgress', reason: 'StopRequested' } },
      { name: 'request of the other action: acts', recent: { generation: 1, action: 'start', at: NOW - 1 }, expect: { act: 'stop' } },
    ];
    for (const r of table) {
      it(r.name, () => {
        check(decide(input({ spec: spec('Stopped'), seen: 'Running', generation: r.generation ?? 1, recentRequest: r.recent })), r.expect);
      });
    }
    // Regression (found with an emulator that reports an accepted stop a moment later, as ECS does):
    // a spec flipped to Running right after our stop was accepted saw the stale Running and
    // reported Ready=Running while the instance was stopping.
    const staleTable: Array<{ name: string; desired: 'Running' | 'Stopped'; seen: InstanceStatus; recent: RecentRequest; expect: Expect }> = [
      { name: 'stop just accepted, new spec Running, describe still Running: waits', desired: 'Running', seen: 'Running', recent: { generation: 1, action: 'stop', at: NOW - 500 }, expect: { report: 'inProgress', reason: 'Stopping', instanceStatus: 'Running' } },
      { name: 'start just accepted, new spec Stopped, describe still Stopped: waits', desired: 'Stopped', seen: 'Stopped', recent: { generation: 1, action: 'start', at: NOW - 500 }, expect: { report: 'inProgress', reason: 'Starting', instanceStatus: 'Stopped' } },
      { name: 'stop accepted longer ago than the window, new spec Running, Running: converged', desired: 'Running', seen: 'Running', recent: { generation: 1, action: 'stop', at: NOW - GRACE }, expect: { report: 'converged', reason: 'Running' } },
      { name: 'stop just accepted, new spec Running, the describe shows Stopping: waits for it', desired: 'Running', seen: 'Stopping', recent: { generation: 1, action: 'stop', at: NOW - 500 }, expect: { report: 'inProgress', reason: 'Stopping' } },
      { name: 'stop just accepted, new spec Running, Stopped already: starts', desired: 'Running', seen: 'Stopped', recent: { generation: 1, action: 'stop', at: NOW - 500 }, expect: { act: 'start' } },
    ];
    for (const r of staleTable) {
      it(r.name, () => check(decide(input({ spec: spec(r.desired), seen: r.seen, generation: 2, recentRequest: r.recent })), r.expect));
    }
    it('a start request waits with StartRequested', () => {
      check(
        decide(input({ spec: spec('Running'), seen: 'Stopped', recentRequest: { generation: 1, action: 'start', at: NOW - 500 } })),
        { report: 'inProgress', reason: 'StartRequested', instanceStatus: 'Stopped' },
      );
    });
    it('the window does not hide convergence; the transition we asked for keeps StopRequested (one status write fewer)', () => {
      const recentRequest: RecentRequest = { generation: 1, action: 'stop', at: NOW };
      check(decide(input({ spec: spec('Stopped'), seen: 'Stopped', recentRequest })), { report: 'converged', reason: 'Stopped' });
      check(decide(input({ spec: spec('Stopped'), seen: 'Stopping', recentRequest })), { report: 'inProgress', reason: 'StopRequested', instanceStatus: 'Stopping' });
      check(decide(input({ spec: spec('Stopped'), seen: 'Stopping', recentRequest: { ...recentRequest, at: NOW - 3_600_000 } })), {
        report: 'inProgress',
        reason: 'StopRequested',
      });
      // A stop we did not ask for (someone else's, or an older generation's) shows as Stopping.
      check(decide(input({ spec: spec('Stopped'), seen: 'Stopping' })), { report: 'inProgress', reason: 'Stopping' });
      check(decide(input({ spec: spec('Stopped'), seen: 'Stopping', generation: 2, recentRequest })), { report: 'inProgress', reason: 'Stopping' });
      check(decide(input({ spec: spec('Running'), seen: 'Starting', recentRequest: { generation: 1, action: 'start', at: NOW } })), {
        report: 'inProgress',
        reason: 'StartRequested',
      });
    });
  });

  describe('OperationLocks seen by the describe call', () => {
    const locked = (seen: InstanceStatus, locks: string[]) => ({ instanceId: ID, found: true, status: seen, lockReasons: locks, requestId: 'req-obs' });
    const table: Array<{ name: string; desired: 'Stopped' | 'Running'; seen: InstanceStatus; locks: string[]; dryRun?: boolean; expect: Expect }> = [
      { name: 'security lock, would stop: stalls without a call', desired: 'Stopped', seen: 'Running', locks: ['security'], expect: { report: 'terminalError', reason: 'InstanceLockedForSecurity', instanceStatus: 'Running' } },
      { name: 'security lock, would start: stalls without a call', desired: 'Running', seen: 'Stopped', locks: ['security'], expect: { report: 'terminalError', reason: 'InstanceLockedForSecurity' } },
      { name: 'financial lock, would stop: InstanceExpiredOrInArrears', desired: 'Stopped', seen: 'Running', locks: ['financial'], expect: { report: 'terminalError', reason: 'InstanceExpiredOrInArrears' } },
      { name: 'security lock, dry run: stalls too (ECS would refuse the dry run)', desired: 'Stopped', seen: 'Running', locks: ['security'], dryRun: true, expect: { report: 'terminalError', reason: 'InstanceLockedForSecurity' } },
      { name: 'security lock, already in the desired state: converged', desired: 'Stopped', seen: 'Stopped', locks: ['security'], expect: { report: 'converged', reason: 'Stopped' } },
      { name: 'security lock, in transition: waits', desired: 'Stopped', seen: 'Stopping', locks: ['security'], expect: { report: 'inProgress', reason: 'Stopping' } },
      { name: 'another lock reason (Recycling): acts, ECS answers', desired: 'Stopped', seen: 'Running', locks: ['Recycling'], expect: { act: 'stop' } },
    ];
    for (const r of table) {
      it(r.name, () => {
        check(decide(input({ spec: spec(r.desired, r.dryRun ? { dryRun: true } : {}), observation: locked(r.seen, r.locks) })), r.expect);
      });
    }

    it('the message names the lock and carries the describe RequestId', () => {
      const o = outcomeOf(decide(input({ observation: locked('Running', ['security', 'financial']) })));
      assert.equal(o.kind, 'terminalError');
      assert.match(o.message, /^InstanceLockedForSecurity: .*OperationLocks: security, financial\) \(RequestId req-obs\)$/);
    });
  });
});
