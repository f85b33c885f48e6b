// EcsPowerSchedule and EcsPowerOverride objects as the API server returns them, with statuses the
// controller wrote in the integration tests: for the kstatus and Argo CD health tests.
const T = '2026-11-29T20:14:00Z';
const cond = (type: string, status: string, reason: string, message: string, observedGeneration: number) => ({ type, status, reason, message, lastTransitionTime: T, observedGeneration });
const kstatus = (ready: [string, string, string], stalled: [string, string, string], generation: number) => [
  cond('Ready', ready[0], ready[1], ready[2], generation),
  cond('Reconciling', 'False', ready[1], ready[1] === 'InvalidSpec' ? ready[2] : 'Evaluated', generation),
  cond('Stalled', stalled[0], stalled[1], stalled[2], generation),
];

function schedule(status: unknown, generation = 1): Record<string, unknown> {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerSchedule',
    metadata: { name: 'office-hours', namespace: 'team-a', generation, uid: '0b6f3c1e-5d7a-4e8b-9f2c-1a3d5e7f9b0c', creationTimestamp: T },
    spec: { timeZone: 'Asia/Shanghai', running: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '08:00', to: '20:00' }] },
    ...(status === undefined ? {} : { status }),
  };
}

function override(status: unknown, generation = 1): Record<string, unknown> {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerOverride',
    metadata: { name: 'inc-1234', namespace: 'team-a', generation, uid: '7c1e9a3b-2d4f-4a6b-8c0d-e1f2a3b4c5d6', creationTimestamp: T },
    spec: { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: '2026-11-30T06:00:00+08:00', reason: 'INC-1234' },
    ...(status === undefined ? {} : { status }),
  };
}

const badZone = 'spec.timeZone: unknown time zone "Mars/Olympus" (an IANA name such as Asia/Shanghai is expected)';
const tooLong = 'spec.until: 2026-12-06T21:00:00Z is more than the maximum override duration (168h) after the creation of the override (2026-11-29T20:14:00.000Z)';

export type Health = 'Healthy' | 'Degraded' | 'Progressing';
export type KstatusStatus = 'Current' | 'Failed' | 'InProgress';

/** Each object with the Argo CD health and the kstatus status it must get. */
export const RECORDED: { name: string; obj: Record<string, unknown>; health: Health; kstatus: KstatusStatus; message?: RegExp }[] = [
  {
    name: 'EcsPowerSchedule Active',
    obj: schedule({
      observedGeneration: 1,
      desiredState: 'Stopped',
      nextTransition: { time: '2026-11-30T00:00:00Z', desiredState: 'Running' },
      conditions: kstatus(['True', 'Active', 'Stopped now; Running from 2026-11-30T00:00:00Z'], ['False', 'Active', 'The spec is valid'], 1),
    }),
    health: 'Healthy',
    kstatus: 'Current',
    message: /^Active: Stopped now; Running from 2026-11-30T00:00:00Z$/,
  },
  {
    name: 'EcsPowerSchedule Stalled InvalidSpec (unknown time zone)',
    obj: schedule({ observedGeneration: 1, conditions: kstatus(['False', 'InvalidSpec', badZone], ['True', 'InvalidSpec', badZone], 1) }),
    health: 'Degraded',
    kstatus: 'Failed',
    message: /^InvalidSpec: spec\.timeZone: unknown time zone/,
  },
  {
    name: 'EcsPowerSchedule fixed, not yet observed (generation 2, status of 1)',
    obj: schedule({ observedGeneration: 1, conditions: kstatus(['False', 'InvalidSpec', badZone], ['True', 'InvalidSpec', badZone], 1) }, 2),
    health: 'Progressing',
    kstatus: 'InProgress',
  },
  { name: 'EcsPowerSchedule without status yet', obj: schedule(undefined), health: 'Progressing', kstatus: 'Current', message: /controller/ },
  {
    name: 'EcsPowerOverride Active',
    obj: override({ observedGeneration: 1, matched: 2, conditions: kstatus(['True', 'Active', 'Holds the selected EcsInstancePowers Running until 2026-11-29T22:00:00Z (INC-1234)'], ['False', 'Active', 'The spec is valid'], 1) }),
    health: 'Healthy',
    kstatus: 'Current',
    message: /^Active: Holds the selected/,
  },
  {
    name: 'EcsPowerOverride Expired (not an error)',
    obj: override({ observedGeneration: 1, matched: 0, conditions: kstatus(['True', 'Expired', 'Ended at 2026-11-29T22:00:00Z (INC-1234)'], ['False', 'Expired', 'The spec is valid'], 1) }),
    health: 'Healthy',
    kstatus: 'Current',
    message: /^Expired: Ended at/,
  },
  {
    name: 'EcsPowerOverride Stalled InvalidSpec (until beyond --max-override-duration)',
    obj: override({ observedGeneration: 1, matched: 0, conditions: kstatus(['False', 'InvalidSpec', tooLong], ['True', 'InvalidSpec', tooLong], 1) }),
    health: 'Degraded',
    kstatus: 'Failed',
    message: /^InvalidSpec: spec\.until: .*168h/,
  },
];
