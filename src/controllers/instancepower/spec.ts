import { DESIRED_STATES, DRIFT_POLICIES, STOPPED_MODES } from '../../api/types.ts';
import type { EcsInstancePowerSpec } from '../../api/types.ts';
import type { StartOptions, StopOptions } from '../../ecs/gateway.ts';

const INSTANCE_ID = /^i-[0-9a-z]+$/;
const REGION_ID = /^[a-z]{2,}(-[a-z0-9]+)+$/;
/** A DNS subdomain name (Secrets, EcsPowerSchedules). */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The controller's own check of the spec. The CRD schema refuses these at admission; this
 * catches objects stored before the schema existed or under an older CRD, so that nothing
 * malformed ever reaches ECS. Returns a message naming the field, or undefined.
 */
export function invalidSpec(spec: unknown): string | undefined {
  if (typeof spec !== 'object' || spec === null) return 'spec is missing';
  const s = spec as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof s[k] === 'string' ? (s[k] as string) : undefined);
  const id = str('instanceId');
  if (!id || id.length > 64 || !INSTANCE_ID.test(id)) return `spec.instanceId ${JSON.stringify(s['instanceId'] ?? null)} is not an ECS instance ID (i-[0-9a-z]+)`;
  const region = str('regionId');
  if (!region || region.length > 64 || !REGION_ID.test(region)) return `spec.regionId ${JSON.stringify(s['regionId'] ?? null)} is not a region ID`;
  const ref = s['scheduleRef'];
  if ((s['desiredState'] === undefined) === (ref === undefined)) return 'exactly one of spec.desiredState and spec.scheduleRef must be set';
  if (s['desiredState'] !== undefined && !(DESIRED_STATES as readonly unknown[]).includes(s['desiredState'])) return 'spec.desiredState must be Stopped or Running';
  if (ref !== undefined) {
    const name = typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>)['name'] : undefined;
    if (typeof name !== 'string' || name.length > 253 || !SECRET_NAME.test(name)) return 'spec.scheduleRef.name must name an EcsPowerSchedule in the resource\'s namespace';
  }
  if (s['stoppedMode'] !== undefined && !(STOPPED_MODES as readonly unknown[]).includes(s['stoppedMode'])) {
    return 'spec.stoppedMode must be StopCharging or KeepCharging';
  }
  if (s['driftPolicy'] !== undefined && !(DRIFT_POLICIES as readonly unknown[]).includes(s['driftPolicy'])) {
    return 'spec.driftPolicy must be Enforce or Observe';
  }
  for (const k of ['forceStop', 'confirmStop', 'hibernate', 'dryRun']) {
    if (s[k] !== undefined && typeof s[k] !== 'boolean') return `spec.${k} must be a boolean`;
  }
  const secretRef = s['credentialsSecretRef'];
  if (secretRef !== undefined) {
    const name = typeof secretRef === 'object' && secretRef !== null ? (secretRef as Record<string, unknown>)['name'] : undefined;
    if (typeof name !== 'string' || name.length > 253 || !SECRET_NAME.test(name)) {
      return 'spec.credentialsSecretRef.name must name a Secret in the resource\'s namespace';
    }
  }
  return undefined;
}

export function stopOptions(spec: EcsInstancePowerSpec): StopOptions {
  return {
    ...(spec.stoppedMode ? { stoppedMode: spec.stoppedMode } : {}),
    forceStop: spec.forceStop ?? false,
    confirmStop: spec.confirmStop ?? false,
    hibernate: spec.hibernate ?? false,
    dryRun: spec.dryRun ?? false,
  };
}

export function startOptions(spec: EcsInstancePowerSpec): StartOptions {
  return { dryRun: spec.dryRun ?? false };
}
