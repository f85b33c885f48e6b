// metav1.LabelSelector as apimachinery reads it: validation (metav1validation.ValidateLabelSelector
// with the label key and value rules of ValidateLabels) and matching (LabelSelectorAsSelector).
import type { V1LabelSelector } from '@kubernetes/client-node';

export type Labels = Readonly<Record<string, string>>;

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

const QUALIFIED_NAME_MAX = 63;
const DNS_SUBDOMAIN_MAX = 253;
const LABEL_VALUE_MAX = 63;
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validation.IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `${JSON.stringify(key)} is not a label key: at most one '/' (an optional DNS subdomain prefix and a name)`;
  const name = parts.at(-1)!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') return `${JSON.stringify(key)} is not a label key: the prefix part must be non-empty`;
    if (prefix.length > DNS_SUBDOMAIN_MAX) return `${JSON.stringify(key)} is not a label key: the prefix part must be no more than ${DNS_SUBDOMAIN_MAX} characters`;
    if (!DNS_SUBDOMAIN.test(prefix)) {
      return `${JSON.stringify(key)} is not a label key: the prefix part must be a lowercase DNS subdomain (alphanumerics, '-' and '.', starting and ending with an alphanumeric)`;
    }
  }
  if (name === '') return `${JSON.stringify(key)} is not a label key: the name part must be non-empty`;
  if (name.length > QUALIFIED_NAME_MAX) return `${JSON.stringify(key)} is not a label key: the name part must be no more than ${QUALIFIED_NAME_MAX} characters`;
  if (!NAME_PART.test(name)) {
    return `${JSON.stringify(key)} is not a label key: the name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

/** validation.IsValidLabelValue: empty, or up to 63 characters like a key's name part. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX) return `${JSON.stringify(value)} is not a label value: must be no more than ${LABEL_VALUE_MAX} characters`;
  if (value !== '' && !NAME_PART.test(value)) {
    return `${JSON.stringify(value)} is not a label value: must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

/**
 * A message naming the offending field (under `field`, default `selector`), or undefined when the
 * selector is valid. Objects read from the API may predate a schema, so every type is checked.
 */
export function validateSelector(selector: V1LabelSelector, field = 'selector'): string | undefined {
  if (!isObject(selector)) return `${field}: must be a label selector object ({} selects everything)`;
  const { matchLabels, matchExpressions } = selector as Record<string, unknown>;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isObject(matchLabels)) return `${field}.matchLabels: must be a map of label keys to values`;
    for (const [key, value] of Object.entries(matchLabels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) return `${field}.matchLabels: ${keyProblem}`;
      if (typeof value !== 'string') return `${field}.matchLabels.${key}: must be a string`;
      const valueProblem = labelValueProblem(value);
      if (valueProblem) return `${field}.matchLabels.${key}: ${valueProblem}`;
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) return `${field}.matchExpressions: must be a list`;
    for (const [i, requirement] of matchExpressions.entries()) {
      const at = `${field}.matchExpressions[${i}]`;
      if (!isObject(requirement)) return `${at}: must be an object with key and operator`;
      const { key, operator } = requirement;
      if (typeof key !== 'string' || key === '') return `${at}.key: required`;
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) return `${at}.key: ${keyProblem}`;
      if (typeof operator !== 'string' || !(SELECTOR_OPERATORS as readonly string[]).includes(operator)) {
        return `${at}.operator: ${JSON.stringify(operator)} is not one of ${SELECTOR_OPERATORS.join(', ')}`;
      }
      const values: unknown = requirement['values'] ?? [];
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return `${at}.values: must be a list of strings`;
      const needsValues = operator === 'In' || operator === 'NotIn';
      if (needsValues && values.length === 0) return `${at}.values: must be specified when operator is ${operator}`;
      if (!needsValues && values.length > 0) return `${at}.values: may not be specified when operator is ${operator}`;
      for (const [j, value] of (values as string[]).entries()) {
        const valueProblem = labelValueProblem(value);
        if (valueProblem) return `${at}.values[${j}]: ${valueProblem}`;
      }
    }
  }
  return undefined;
}

/**
 * Whether an object with these labels is selected, as apimachinery's LabelSelectorAsSelector
 * matches: every matchLabels pair and every requirement must hold; `{}` matches everything; no
 * selector at all (null) matches nothing, and so does a requirement with an unknown operator.
 * Validity of keys and values is validateSelector's job.
 */
export function matchesSelector(selector: V1LabelSelector | null | undefined, labels: Labels | null | undefined): boolean {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) return false;
  const own = labels ?? {};
  const has = (key: string): boolean => Object.hasOwn(own, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || own[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const { key, operator } = requirement;
    const values = requirement.values ?? [];
    switch (operator) {
      case 'In':
        if (!has(key) || !values.includes(own[key]!)) return false;
        break;
      case 'NotIn':
        if (has(key) && values.includes(own[key]!)) return false;
        break;
      case 'Exists':
        if (!has(key)) return false;
        break;
      case 'DoesNotExist':
        if (has(key)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Two label sets with the same pairs. */
export function sameLabels(a: Labels | null | undefined, b: Labels | null | undefined): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((key) => Object.hasOwn(y, key) && x[key] === y[key]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
