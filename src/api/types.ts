import type { V1ObjectMeta } from '@kubernetes/client-node';

export const GROUP = 'ecspower.io';
export const VERSION = 'v1alpha1';
export const KIND = 'EcsInstancePower';
export const PLURAL = 'ecsinstancepowers';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const DESIRED_STATES = ['Stopped', 'Running'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

export const INSTANCE_STATUSES = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const STOPPED_MODES = ['StopCharging', 'KeepCharging'] as const;
export type StoppedMode = (typeof STOPPED_MODES)[number];

export const DRIFT_POLICIES = ['Enforce', 'Observe'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];

export interface EcsInstancePowerSpec {
  instanceId: string;
  regionId: string;
  /** Exactly one of desiredState and scheduleRef is set (the CRD's oneOf). */
  desiredState?: DesiredState;
  scheduleRef?: { name: string };
  stoppedMode?: StoppedMode;
  forceStop?: boolean;
  confirmStop?: boolean;
  hibernate?: boolean;
  dryRun?: boolean;
  driftPolicy?: DriftPolicy;
  credentialsSecretRef?: { name: string };
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export const CONDITION_TYPES = ['Ready', 'Reconciling', 'Stalled'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** metav1.Condition */
export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface EcsInstancePowerStatus {
  observedGeneration?: number;
  /** The effective desired state (SCHEDULES.md): an override in force, else the schedule's state now, else spec.desiredState. */
  desiredState?: DesiredState;
  /** `spec`, `EcsPowerSchedule/<name>` or `EcsPowerOverride/<name>`. */
  desiredStateSource?: string;
  /** Addition: when the effective desired state last changed by itself (a schedule transition, an override starting or ending). */
  desiredStateSince?: string;
  /** Addition: when the effective desired state may change by itself next (RFC 3339, whole seconds rounded up). */
  nextTransitionTime?: string;
  instanceStatus?: InstanceStatus;
  lastRequestId?: string;
  /**
   * The generation for which the instance was last seen in the desired state. Not in API.md's
   * list: driftPolicy Observe acts once per generation and must remember that it got there even
   * when later passes report drift, transitions or errors.
   */
  convergedGeneration?: number;
  /**
   * The last Stop/Start call ECS accepted. Not in API.md's list: ECS shows an accepted stop a
   * moment later, so a restarted controller or a new leader must know that it asked, rather than
   * ask again or believe a describe that predates the call.
   */
  lastRequest?: LastRequest;
  conditions?: Condition[];
}

export interface LastRequest {
  action: 'Stop' | 'Start';
  /** When ECS accepted it (RFC 3339 with milliseconds). */
  time: string;
  /** The metadata.generation it acted for. */
  generation: number;
}

export interface EcsInstancePower {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: EcsInstancePowerSpec;
  status?: EcsInstancePowerStatus;
}

export function isInstanceStatus(s: unknown): s is InstanceStatus {
  return typeof s === 'string' && (INSTANCE_STATUSES as readonly string[]).includes(s);
}
