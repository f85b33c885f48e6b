import type { Condition, ConditionStatus, ConditionType } from './types.ts';
import { CONDITION_TYPES } from './types.ts';

export const MAX_MESSAGE_LENGTH = 1024;

export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/**
 * apimachinery's meta.SetStatusCondition: lastTransitionTime moves only when status moves;
 * reason, message and observedGeneration are updated in place.
 */
export function setCondition(conditions: readonly Condition[], input: ConditionInput, now: Date): Condition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: boundMessage(input.message),
    lastTransitionTime:
      existing && existing.status === input.status ? existing.lastTransitionTime : toRfc3339(now),
    ...(input.observedGeneration !== undefined ? { observedGeneration: input.observedGeneration } : {}),
  };
  const others = conditions.filter((c) => c.type !== input.type);
  return sortConditions([...others, next]);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Fixed order (Ready, Reconciling, Stalled, then anything else) so that equal sets compare equal. */
function sortConditions(conditions: Condition[]): Condition[] {
  const rank = (t: string): number => {
    const i = (CONDITION_TYPES as readonly string[]).indexOf(t);
    return i === -1 ? CONDITION_TYPES.length : i;
  };
  return conditions.sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function toRfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Condition messages come partly from ECS; keep them valid UTF-8 text without control
 * characters and within the API's bound, whatever ECS sent.
 */
export function boundMessage(message: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = message.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ' ').toWellFormed();
  if (clean === '') return '-';
  if (clean.length <= MAX_MESSAGE_LENGTH) return clean;
  return clean.slice(0, MAX_MESSAGE_LENGTH - 1).toWellFormed() + '…';
}

/** A condition's status, reason and message. */
export type ConditionValue = readonly [status: ConditionStatus, reason: string, message: string];

/**
 * Sets the three kstatus conditions at once, each with observedGeneration (for kinds whose
 * conditions are all recomputed on every pass, unlike EcsInstancePower's).
 */
export function setKstatusConditions(
  conditions: readonly Condition[],
  values: { ready: ConditionValue; reconciling: ConditionValue; stalled: ConditionValue },
  generation: number,
  now: Date,
): Condition[] {
  let out = [...conditions];
  const set = (type: ConditionType, [status, reason, message]: ConditionValue): void => {
    out = setCondition(out, { type, status, reason, message, observedGeneration: generation }, now);
  };
  set('Ready', values.ready);
  set('Reconciling', values.reconciling);
  set('Stalled', values.stalled);
  return out;
}
