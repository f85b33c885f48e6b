/**
 * Condition reasons of API.md. They are part of the public contract: dashboards, alerts and
 * `kubectl wait` read them, so never rename one.
 */
export const Reason = {
  // Ready=True
  Stopped: 'Stopped',
  Running: 'Running',
  DryRunSucceeded: 'DryRunSucceeded',
  // in progress
  Pending: 'Pending',
  Starting: 'Starting',
  Stopping: 'Stopping',
  StopRequested: 'StopRequested',
  StartRequested: 'StartRequested',
  Drifted: 'Drifted',
  // errors
  InternalError: 'InternalError',
  ServiceUnavailable: 'ServiceUnavailable',
  Throttled: 'Throttled',
  EcsUnreachable: 'EcsUnreachable',
  IncorrectInstanceStatus: 'IncorrectInstanceStatus',
  OperationConflict: 'OperationConflict',
  IncorrectDiskStatus: 'IncorrectDiskStatus',
  // OperationDenied.NoStock on a start (FLEETS.md): transient, never Stalled
  InsufficientCapacity: 'InsufficientCapacity',
  InstanceLockedForSecurity: 'InstanceLockedForSecurity',
  InstanceNotFound: 'InstanceNotFound',
  ConfirmStopRequired: 'ConfirmStopRequired',
  InstanceExpiredOrInArrears: 'InstanceExpiredOrInArrears',
  OperationNotSupported: 'OperationNotSupported',
  KMSUnauthorized: 'KMSUnauthorized',
  InvalidCredentials: 'InvalidCredentials',
  Forbidden: 'Forbidden',
  InvalidSpec: 'InvalidSpec',
  EcsError: 'EcsError',
  // EcsInstancePower with scheduleRef (SCHEDULES.md): Ready=False, Stalled=True
  ScheduleNotFound: 'ScheduleNotFound',
  InvalidSchedule: 'InvalidSchedule',
  // EcsPowerSchedule / EcsPowerOverride Ready=True (SCHEDULES.md)
  Active: 'Active',
  Expired: 'Expired',
  // EcsInstancePowerSet (FLEETS.md)
  AllReady: 'AllReady',
  NoInstances: 'NoInstances',
  Progressing: 'Progressing',
  MembersStalled: 'MembersStalled',
  // before the first observation
  Initializing: 'Initializing',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Normal event reasons (Warning events use the error reason). */
export const EventReason = {
  StopRequested: 'StopRequested',
  StartRequested: 'StartRequested',
  Stopped: 'Stopped',
  Running: 'Running',
  DryRunSucceeded: 'DryRunSucceeded',
  DriftDetected: 'DriftDetected',
  // SCHEDULES.md
  ScheduleTransition: 'ScheduleTransition',
  OverrideStarted: 'OverrideStarted',
  OverrideEnded: 'OverrideEnded',
} as const;

/** Warning events of an EcsInstancePowerSet (FLEETS.md), besides the discovery error reasons. */
export const SetEventReason = {
  InstanceConflict: 'InstanceConflict',
} as const;
