// Types of SCHEDULES.md: EcsPowerSchedule, EcsPowerOverride and the parts of EcsInstancePower
// they add (scheduleRef, the effective desired state and its source).
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition, DesiredState } from './types.ts';

export const SCHEDULE_KIND = 'EcsPowerSchedule';
export const SCHEDULE_LIST_KIND = 'EcsPowerScheduleList';
export const SCHEDULE_PLURAL = 'ecspowerschedules';
export const SCHEDULE_SINGULAR = 'ecspowerschedule';
export const SCHEDULE_SHORT_NAME = 'ecsschedule';

export const OVERRIDE_KIND = 'EcsPowerOverride';
export const OVERRIDE_LIST_KIND = 'EcsPowerOverrideList';
export const OVERRIDE_PLURAL = 'ecspoweroverrides';
export const OVERRIDE_SINGULAR = 'ecspoweroverride';
export const OVERRIDE_SHORT_NAME = 'ecsoverride';

/** Limits of the CRD schemas, checked again by validateSchedule(). */
export const MAX_RUNNING_WINDOWS = 50;
export const MAX_EXCEPTIONS = 100;
export const MAX_REASON_LENGTH = 256;

/** `--max-override-duration` default: an override may last at most this long after its creation. */
export const DEFAULT_MAX_OVERRIDE_DURATION_MS = 168 * 3600_000;

/** Weekday names in ISO order (index + 1 is the ISO day of week, Monday = 1). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A local wall-clock window in which the desired state is Running. */
export interface RunningWindow {
  /** The days on which the window starts; absent means every day. */
  days?: Weekday[];
  /** `HH:MM`, 00:00–23:59. */
  from: string;
  /** `HH:MM` or `24:00`; not after `from` means the next day (equal: 24 hours). */
  to: string;
}

/** A span `[from, to)` (RFC 3339) that overrides the windows. */
export interface ScheduleException {
  from: string;
  to: string;
  desiredState: DesiredState;
  reason?: string;
}

export interface EcsPowerScheduleSpec {
  /** IANA time zone name, e.g. `Asia/Shanghai`. */
  timeZone: string;
  running?: RunningWindow[];
  exceptions?: ScheduleException[];
}

export interface NextTransition {
  /** RFC 3339, UTC. */
  time: string;
  desiredState: DesiredState;
}

export interface EcsPowerScheduleStatus {
  observedGeneration?: number;
  /** The schedule's desired state now. */
  desiredState?: DesiredState;
  /** Absent when the state never changes. */
  nextTransition?: NextTransition;
  conditions?: Condition[];
}

export interface EcsPowerSchedule {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: EcsPowerScheduleSpec;
  status?: EcsPowerScheduleStatus;
}

export interface EcsPowerOverrideSpec {
  /** EcsInstancePower objects of the override's namespace; `{}` selects all of them. */
  selector: V1LabelSelector;
  desiredState: DesiredState;
  /** RFC 3339: in force from creation until this instant. */
  until: string;
  reason?: string;
}

export interface EcsPowerOverrideStatus {
  observedGeneration?: number;
  /** How many resources it governs now; 0 once it has ended. */
  matched?: number;
  conditions?: Condition[];
}

export interface EcsPowerOverride {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: EcsPowerOverrideSpec;
  status?: EcsPowerOverrideStatus;
}

/** `EcsInstancePower.spec.scheduleRef`: an EcsPowerSchedule in the same namespace. */
export interface ScheduleRef {
  name: string;
}

/**
 * `EcsInstancePower.status.desiredStateSource`: where the effective desired state comes from.
 * `spec`, `EcsPowerSchedule/<name>` or `EcsPowerOverride/<name>`.
 */
export type DesiredStateSource = 'spec' | `${typeof SCHEDULE_KIND}/${string}` | `${typeof OVERRIDE_KIND}/${string}`;

export const SPEC_SOURCE = 'spec' satisfies DesiredStateSource;

export function scheduleSource(name: string): DesiredStateSource {
  return `${SCHEDULE_KIND}/${name}`;
}

export function overrideSource(name: string): DesiredStateSource {
  return `${OVERRIDE_KIND}/${name}`;
}
