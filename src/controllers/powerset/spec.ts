import {
  DEFAULT_EXCLUDE_TAG_KEY,
  DEFAULT_REFRESH_INTERVAL,
  MAX_REGIONS,
  MAX_TAG_KEY_LENGTH,
  MAX_TAGS,
  MIN_REFRESH_INTERVAL_MS,
  type EcsInstancePowerSetSpec,
} from '../../api/powerset-types.ts';
import { parseDuration } from '../../util/duration.ts';

const REGION = /^[a-z]{2,}(-[a-z0-9]+)+$/;
// Kubernetes label keys: an optional DNS subdomain prefix and a name of at most 63 characters.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** A set's settings with the defaults of FLEETS.md filled in. */
export interface SetSettings {
  regionIds: string[];
  tags: Record<string, string>;
  excludeTagKey: string;
  refreshIntervalMs: number;
}

/**
 * What the schema cannot check (pure): tag keys, label keys, the refresh interval's minimum, and
 * the sanity of objects stored under an older CRD. Returns the settings, or why the set cannot be
 * acted on (InvalidSpec).
 */
export function setSettings(spec: Partial<EcsInstancePowerSetSpec> | undefined): SetSettings | { invalid: string } {
  if (!spec) return { invalid: 'spec is missing' };
  const regionIds = spec.regionIds ?? [];
  if (regionIds.length === 0 || regionIds.length > MAX_REGIONS) return { invalid: `regionIds must name 1 to ${MAX_REGIONS} regions` };
  const badRegion = regionIds.find((r) => !REGION.test(r));
  if (badRegion !== undefined) return { invalid: `regionIds: ${JSON.stringify(badRegion)} is not a region ID` };
  const tags = spec.tags ?? {};
  const keys = Object.keys(tags);
  if (keys.length === 0 || keys.length > MAX_TAGS) return { invalid: `tags must hold 1 to ${MAX_TAGS} entries` };
  const badKey = keys.find((k) => k.length === 0 || k.length > MAX_TAG_KEY_LENGTH);
  if (badKey !== undefined) return { invalid: `tags: key ${JSON.stringify(badKey)} must be 1 to ${MAX_TAG_KEY_LENGTH} characters` };
  const excludeTagKey = spec.excludeTagKey ?? DEFAULT_EXCLUDE_TAG_KEY;
  if (Object.hasOwn(tags, excludeTagKey)) return { invalid: `excludeTagKey ${JSON.stringify(excludeTagKey)} is also one of the tags: nothing could match` };
  const interval = spec.refreshInterval ?? DEFAULT_REFRESH_INTERVAL;
  const refreshIntervalMs = parseDuration(interval);
  if (refreshIntervalMs === undefined) return { invalid: `refreshInterval ${JSON.stringify(interval)} is not a duration such as 5m` };
  if (refreshIntervalMs < MIN_REFRESH_INTERVAL_MS) return { invalid: `refreshInterval ${interval} is shorter than the minimum 10s` };
  const template = spec.template;
  if (!template?.spec) return { invalid: 'template.spec is missing' };
  const hasDesired = template.spec.desiredState !== undefined;
  const hasSchedule = template.spec.scheduleRef !== undefined;
  if (hasDesired === hasSchedule) return { invalid: 'template.spec must set exactly one of desiredState and scheduleRef' };
  for (const key of Object.keys(template.metadata?.labels ?? {})) {
    if (!validLabelKey(key)) return { invalid: `template.metadata.labels: ${JSON.stringify(key)} is not a valid label key` };
  }
  const badValue = Object.entries(template.metadata?.labels ?? {}).find(([, v]) => !LABEL_VALUE.test(v));
  if (badValue) return { invalid: `template.metadata.labels: the value of ${badValue[0]} is not a valid label value` };
  for (const key of Object.keys(template.metadata?.annotations ?? {})) {
    if (!validLabelKey(key)) return { invalid: `template.metadata.annotations: ${JSON.stringify(key)} is not a valid annotation key` };
  }
  return { regionIds: [...new Set(regionIds)], tags: { ...tags }, excludeTagKey, refreshIntervalMs };
}

function validLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !LABEL_PREFIX.test(prefix))) return false;
  return LABEL_NAME.test(name);
}
