// kstatus semantics (what Flux's health checks compute) for recorded objects of the ecspower.io kinds,
// through the port of sigs.k8s.io/cli-utils/pkg/kstatus/status in test/support/kstatus.ts.
import assert from 'node:assert/strict';
import { computeStatus } from '../support/kstatus.ts';
import type { Status } from '../support/kstatus.ts';
import { RECORDED } from '../support/recorded-statuses.ts';
import { scheduleStatus } from '../../src/controllers/schedule/status.ts';
import { overrideStatus } from '../../src/controllers/override/status.ts';
import type { EcsPowerOverride, EcsPowerSchedule } from '../../src/api/schedule-types.ts';

const T = '2025-06-01T10:00:00Z';
function cond(type: string, status: string, reason: string, message = '', observedGeneration = 2) {
  return { type, status, reason, message, lastTransitionTime: T, observedGeneration };
}
function resource(status: unknown, generation: unknown = 2, extraMeta: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePower',
    metadata: { name: 'dev-box', namespace: 'default', ...(generation === null ? {} : { generation }), creationTimestamp: T, ...extraMeta },
    spec: { instanceId: 'i-demo000001', regionId: 'cn-hangzhou', desiredState: 'Stopped', driftPolicy: 'Enforce' },
    ...(status === undefined ? {} : { status }),
  };
}
const converged = (reason = 'Stopped') => [cond('Ready', 'True', reason, `Instance is ${reason}`), cond('Reconciling', 'False', reason), cond('Stalled', 'False', reason)];
const locked = 'InstanceLockedForSecurity: The specified operation is denied as your instance is locked for security reasons. (RequestId 7C3C8A2B)';

const cases: { name: string; obj: Record<string, unknown>; status: Status; message?: string | RegExp; reason?: string }[] = [
  { name: 'Ready True, Reconciling and Stalled False, generation observed', obj: resource({ observedGeneration: 2, instanceStatus: 'Stopped', conditions: converged() }), status: 'Current', message: 'Resource is current' },
  { name: 'DryRunSucceeded', obj: resource({ observedGeneration: 2, conditions: converged('DryRunSucceeded') }), status: 'Current' },
  {
    name: 'observedGeneration lags generation',
    obj: resource({ observedGeneration: 2, conditions: converged() }, 3),
    status: 'InProgress',
    message: 'EcsInstancePower generation is 3, but latest observed generation is 2',
    reason: 'LatestGenerationNotObserved',
  },
  {
    name: 'observedGeneration lags generation, even with Stalled True',
    obj: resource({ observedGeneration: 1, conditions: [cond('Ready', 'False', 'InvalidSpec', '', 1), cond('Reconciling', 'False', 'InvalidSpec', '', 1), cond('Stalled', 'True', 'InvalidSpec', 'bad', 1)] }, 2),
    status: 'InProgress',
    reason: 'LatestGenerationNotObserved',
  },
  {
    name: 'Reconciling True while Stopping',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Stopping', conditions: [cond('Ready', 'False', 'Stopping'), cond('Reconciling', 'True', 'Stopping', 'Waiting for i-demo000001 to stop'), cond('Stalled', 'False', 'Stopping')] }),
    status: 'InProgress',
    message: 'Waiting for i-demo000001 to stop',
    reason: 'Stopping',
  },
  {
    name: 'Stalled True with InstanceLockedForSecurity',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'False', 'InstanceLockedForSecurity', locked), cond('Reconciling', 'False', 'InstanceLockedForSecurity'), cond('Stalled', 'True', 'InstanceLockedForSecurity', locked)] }),
    status: 'Failed',
    message: locked,
    reason: 'InstanceLockedForSecurity',
  },
  {
    name: 'Ready True with Reconciling True (transient error retried on a converged resource)',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'True', 'Running'), cond('Reconciling', 'True', 'Throttled', 'Throttling.User: ...'), cond('Stalled', 'False', 'Running')] }),
    status: 'InProgress',
  },
  // kstatus never reads Ready:
  { name: 'Ready False, Reconciling and Stalled False (Drifted under Observe)', obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'False', 'Drifted'), cond('Reconciling', 'False', 'Drifted'), cond('Stalled', 'False', 'Drifted')] }), status: 'Current' },
  { name: 'first visit, every condition Unknown', obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'Unknown', 'Reconciling'), cond('Reconciling', 'Unknown', 'Reconciling'), cond('Stalled', 'Unknown', 'Reconciling')] }), status: 'Current' },
  { name: 'no status yet', obj: resource(undefined), status: 'Current', message: 'Resource is current' },
  { name: 'status without observedGeneration skips the generation check', obj: resource({ conditions: converged() }, 5), status: 'Current' },
  { name: 'no metadata.generation skips the generation check', obj: resource({ observedGeneration: 7, conditions: converged() }, null), status: 'Current' },
  {
    name: 'both True: the one listed first wins (Stalled first)',
    obj: resource({ observedGeneration: 2, conditions: [cond('Stalled', 'True', 'Forbidden', 'no'), cond('Reconciling', 'True', 'Stopping', 'yes')] }),
    status: 'Failed',
  },
  {
    name: 'both True: the one listed first wins (Reconciling first)',
    obj: resource({ observedGeneration: 2, conditions: [cond('Reconciling', 'True', 'Stopping', 'yes'), cond('Stalled', 'True', 'Forbidden', 'no')] }),
    status: 'InProgress',
  },
  { name: 'being deleted', obj: resource({ observedGeneration: 1, conditions: converged() }, 2, { deletionTimestamp: T }), status: 'Terminating', message: 'Resource scheduled for deletion' },
];

/** An EcsInstancePowerSet (FLEETS.md) as the controller records it. */
function fleet(status: Record<string, unknown>, generation = 2): Record<string, unknown> {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePowerSet',
    metadata: { name: 'dev-fleet', namespace: 'team-a', generation, creationTimestamp: T },
    spec: { regionIds: ['cn-hangzhou'], tags: { env: 'dev' }, template: { spec: { desiredState: 'Stopped' } } },
    status: { observedGeneration: 2, instances: 300, ready: 300, stalled: 0, conflicts: 0, lastDiscoveryTime: T, ...status },
  };
}
const three = (ready: string, reconciling: string, stalled: string, reason: string, message: string) => [
  cond('Ready', ready, reason, message),
  cond('Reconciling', reconciling, reason, message),
  cond('Stalled', stalled, reason, message),
];

const setCases: typeof cases = [
  { name: 'set AllReady', obj: fleet({ conditions: three('True', 'False', 'False', 'AllReady', '300 members Ready') }), status: 'Current' },
  { name: 'set NoInstances', obj: fleet({ instances: 0, ready: 0, conditions: three('True', 'False', 'False', 'NoInstances', 'no instance matches the tags in the regions') }), status: 'Current' },
  { name: 'set Progressing', obj: fleet({ ready: 120, conditions: three('False', 'True', 'False', 'Progressing', '120 of 300 members Ready, 180 converging') }), status: 'InProgress', message: '120 of 300 members Ready, 180 converging', reason: 'Progressing' },
  { name: 'set MembersStalled', obj: fleet({ ready: 298, stalled: 2, conditions: three('False', 'False', 'True', 'MembersStalled', '2 of 300 members are Stalled: a, b') }), status: 'Failed', message: '2 of 300 members are Stalled: a, b', reason: 'MembersStalled' },
  { name: 'set discovery Forbidden', obj: fleet({ conditions: three('False', 'False', 'True', 'Forbidden', 'Forbidden.RAM: no (discovery in cn-hangzhou)') }), status: 'Failed', reason: 'Forbidden' },
  { name: 'set template changed, discovery throttled: generation behind', obj: fleet({ conditions: three('True', 'False', 'False', 'AllReady', '300 members Ready') }, 3), status: 'InProgress', reason: 'LatestGenerationNotObserved' },
];

describe('kstatus (port of cli-utils pkg/kstatus/status) on EcsInstancePowerSet', () => {
  for (const c of setCases) {
    it(`${c.name} -> ${c.status}`, () => {
      const r = computeStatus(c.obj);
      assert.equal(r.status, c.status, r.message);
      if (typeof c.message === 'string') assert.equal(r.message, c.message);
      if (c.reason) assert.equal(r.conditions[0]?.reason, c.reason);
    });
  }
});

describe('kstatus (port of cli-utils pkg/kstatus/status) on EcsInstancePower', () => {
  for (const c of cases) {
    it(`${c.name} -> ${c.status}`, () => {
      const r = computeStatus(c.obj);
      assert.equal(r.status, c.status, r.message);
      if (typeof c.message === 'string') assert.equal(r.message, c.message);
      else if (c.message) assert.match(r.message, c.message);
      if (c.reason) assert.equal(r.conditions[0]?.reason, c.reason);
      if (r.status === 'InProgress') assert.deepEqual(r.conditions.map((x) => [x.type, x.status]), [['Reconciling', 'True']]);
      if (r.status === 'Failed') assert.deepEqual(r.conditions.map((x) => [x.type, x.status]), [['Stalled', 'True']]);
      if (r.status === 'Current' || r.status === 'Terminating') assert.deepEqual(r.conditions, []);
    });
  }

  it('fails like apimachinery on fields of the wrong type', () => {
    assert.throws(() => computeStatus(resource({ observedGeneration: 2.5 })), /observedGeneration/);
    assert.throws(() => computeStatus(resource({ observedGeneration: '2' })), /observedGeneration/);
    assert.throws(() => computeStatus(resource({ observedGeneration: null })), /observedGeneration/);
    assert.throws(() => computeStatus(resource({ observedGeneration: 2 }, '2')), /generation/);
    assert.throws(() => computeStatus(resource({ observedGeneration: 2, conditions: {} })), /conditions/);
    assert.throws(() => computeStatus(resource({ observedGeneration: 2, conditions: [{ type: 'Ready', status: true }] })), /status/);
    assert.throws(() => computeStatus({ ...resource(undefined), metadata: 'x' }), /accessor error/);
  });

  it('only ports the generic rules: built-in kinds are refused', () => {
    assert.throws(() => computeStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { generation: 1 }, status: { observedGeneration: 1 } }), /type-specific/);
    // the generic rules still come first, as in Compute
    assert.equal(computeStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { generation: 2 }, status: { observedGeneration: 1 } }).status, 'InProgress');
  });
});

describe('kstatus on EcsPowerSchedule and EcsPowerOverride', () => {
  for (const c of RECORDED) {
    it(`${c.name} -> ${c.kstatus}`, () => {
      const r = computeStatus(c.obj);
      assert.equal(r.status, c.kstatus, r.message);
      if (r.status === 'Failed') assert.match(r.message, /^spec\./, 'the message names the field');
    });
  }
});

describe('kstatus of the statuses the schedule and override controllers compute', () => {
  const now = new Date('2026-11-29T21:00:00Z');
  const byKind = (kind: string) => RECORDED.find((c) => (c.obj['kind'] as string) === kind)!.obj;
  const withStatus = (obj: Record<string, unknown>, status: unknown) => ({ ...obj, status });
  const schedule = byKind('EcsPowerSchedule') as unknown as EcsPowerSchedule;
  const override = byKind('EcsPowerOverride') as unknown as EcsPowerOverride;
  const cases: [string, Record<string, unknown>, Status][] = [
    ['a valid schedule', withStatus(byKind('EcsPowerSchedule'), scheduleStatus(schedule, now).status), 'Current'],
    ['an invalid schedule', withStatus(byKind('EcsPowerSchedule'), scheduleStatus({ ...schedule, spec: { timeZone: 'Nowhere' } }, now).status), 'Failed'],
    ['an override in force', withStatus(byKind('EcsPowerOverride'), overrideStatus(override, 2, now, 168 * 3600_000).status), 'Current'],
    ['an expired override', withStatus(byKind('EcsPowerOverride'), overrideStatus(override, 2, new Date('2026-11-30T00:00:00Z'), 168 * 3600_000).status), 'Current'],
    ['an override beyond the maximum duration', withStatus(byKind('EcsPowerOverride'), overrideStatus(override, 2, now, 3600_000).status), 'Failed'],
  ];
  for (const [name, obj, want] of cases) it(`${name} -> ${want}`, () => assert.equal(computeStatus(obj).status, want));
});
