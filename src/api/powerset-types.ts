// Types of FLEETS.md: EcsInstancePowerSet, a fleet of ECS instances found by tags, one
// EcsInstancePower (a member) per instance.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition, EcsInstancePowerSpec } from './types.ts';

export const SET_KIND = 'EcsInstancePowerSet';
export const SET_LIST_KIND = 'EcsInstancePowerSetList';
export const SET_PLURAL = 'ecsinstancepowersets';
export const SET_SINGULAR = 'ecsinstancepowerset';
export const SET_SHORT_NAME = 'ecspowerset';

/** The label every member carries: the name of its set. */
export const SET_LABEL = 'ecspower.io/set';
export const DEFAULT_EXCLUDE_TAG_KEY = 'ecspower.io/exclude';
export const DEFAULT_REFRESH_INTERVAL = '5m';
/** refreshInterval may not be shorter (FLEETS.md). */
export const MIN_REFRESH_INTERVAL_MS = 10_000;
export const MAX_REGIONS = 20;
export const MAX_TAGS = 20;
export const MAX_TAG_KEY_LENGTH = 128;

/** A member's spec without what each member gets from its instance. */
export type MemberSpecTemplate = Omit<EcsInstancePowerSpec, 'instanceId' | 'regionId'>;

export interface EcsInstancePowerSetSpec {
  regionIds: string[];
  /** Every one must match, key and value. */
  tags: Record<string, string>;
  excludeTagKey?: string;
  /** Go-style duration, at least 10s; default 5m. */
  refreshInterval?: string;
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: MemberSpecTemplate;
  };
}

export interface EcsInstancePowerSetStatus {
  observedGeneration?: number;
  /** Members now. */
  instances?: number;
  /** Members with Ready=True. */
  ready?: number;
  /** Members with Stalled=True. */
  stalled?: number;
  /** Matching instances named by an EcsInstancePower this set does not own. */
  conflicts?: number;
  /** The last successful discovery (RFC 3339). */
  lastDiscoveryTime?: string;
  conditions?: Condition[];
}

export interface EcsInstancePowerSet {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: EcsInstancePowerSetSpec;
  status?: EcsInstancePowerSetStatus;
}
