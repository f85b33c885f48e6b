/**
 * Reading ECS query parameters: booleans, integers, repeat lists (`Name.N`), with the errors ECS
 * answers for bad values (400 `InvalidParameter`) and missing ones (400 `MissingParameter`).
 */
import { invalidParameter, missingParameter } from './errors.ts';

export type Params = Record<string, string>;

export const MAX_IDS = 100;

export function bool(params: Params, name: string): boolean | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  const l = v.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  throw invalidParameter(name, 'Expected true or false.');
}

export function required(params: Params, name: string): string {
  const v = params[name];
  if (v === undefined || v === '') throw missingParameter(name);
  return v;
}

export function int(params: Params, name: string, min: number, max: number, dflt: number): number {
  const v = params[name];
  if (v === undefined || v === '') return dflt;
  if (!/^-?\d+$/.test(v)) throw invalidParameter(name, 'Expected an integer.');
  const n = Number(v);
  if (n < min || n > max) throw invalidParameter(name, `Expected ${min} to ${max}.`);
  return n;
}

/** `Name.1`, `Name.2`, … in index order (empty values skipped). */
export function repeatList(params: Params, name: string): string[] {
  const re = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)$`);
  const found: Array<[number, string]> = [];
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (m && v !== '') found.push([Number(m[1]), v]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

export function stoppedModeParam(params: Params): 'KeepCharging' | 'StopCharging' | undefined {
  const v = params.StoppedMode;
  if (v === undefined || v === '') return undefined;
  if (v === 'KeepCharging' || v === 'StopCharging') return v;
  throw invalidParameter('StoppedMode', 'Expected KeepCharging or StopCharging.');
}

export function batchOptimization(params: Params): 'AllTogether' | 'SuccessFirst' {
  const v = params.BatchOptimization;
  if (v === undefined || v === '' || v === 'AllTogether') return 'AllTogether';
  if (v === 'SuccessFirst') return 'SuccessFirst';
  throw invalidParameter('BatchOptimization', 'Expected SuccessFirst or AllTogether.');
}

export function idList(params: Params): string[] {
  const ids = repeatList(params, 'InstanceId');
  if (ids.length === 0) throw missingParameter('InstanceId.1');
  if (ids.length > MAX_IDS) throw invalidParameter('InstanceId', `At most ${MAX_IDS} instance IDs.`);
  return ids;
}

/** Instance IDs a call names (for fault matching and the throttling region). */
export function instanceIdsOf(params: Params): string[] {
  const ids: string[] = [];
  if (params.InstanceId) ids.push(params.InstanceId);
  ids.push(...repeatList(params, 'InstanceId'));
  if (params.InstanceIds) {
    try {
      const parsed: unknown = JSON.parse(params.InstanceIds);
      if (Array.isArray(parsed)) for (const x of parsed) if (typeof x === 'string') ids.push(x);
    } catch {
      /* not a JSON array: names nothing */
    }
  }
  return ids;
}
