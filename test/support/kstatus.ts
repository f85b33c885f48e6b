// A TypeScript port of kstatus' status computation (sigs.k8s.io/cli-utils pkg/kstatus/status:
// status.go Compute, generic.go checkGenericProperties/checkGeneration, util.go) for custom
// resources, which is what Flux (kustomize-controller and helm-controller health checks) and
// `kubectl wait`-like tools built on kstatus compute for an EcsInstancePower.
//
// What kstatus does for a resource that is not one of its built-in kinds, in order:
//  1. metadata.deletionTimestamp set (non-empty string)        -> Terminating
//  2. metadata.generation and status.observedGeneration both present and different
//                                                              -> InProgress (LatestGenerationNotObserved)
//     (an absent observedGeneration skips this check)
//  3. walking status.conditions in list order, the first condition that is
//       Reconciling=True                                       -> InProgress (its message)
//       Stalled=True                                           -> Failed (its message)
//  4. otherwise                                                -> Current ("Resource is current")
//
// Consequences for EcsInstancePower:
//  - The Ready condition is never read: Ready=False with Reconciling=False and Stalled=False
//    (Drifted under driftPolicy Observe, or a first visit with Unknown conditions) is Current.
//  - A resource with no status at all is Current (kstatus cannot tell "not yet seen" apart
//    from "needs no status"): the controller must write observedGeneration promptly.
//  - Ready=True together with Reconciling=True (a transient error being retried on a converged
//    resource) is InProgress.
//  - Reconciling and Stalled must not both be True; if they were, the one listed first wins.
// The built-in kinds (Deployment, Pod, ...) have type-specific rules in core.go that are not
// ported; computeStatus refuses them.
//
// Errors mirror the Go code: unstructured.NestedString / NestedInt64 fail when a field has the
// wrong type (JSON numbers decoded by apimachinery are int64 only when integral), and
// runtime.DefaultUnstructuredConverter fails when status.conditions is not a list of objects
// with string fields.

export type Status = 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
export type ConditionType = 'Reconciling' | 'Stalled';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface Result {
  status: Status;
  message: string;
  conditions: Condition[];
}

type Unstructured = Record<string, unknown>;

const LEGACY_KINDS = new Set([
  'Service', 'Pod', 'Secret', 'PersistentVolumeClaim', 'apps/StatefulSet', 'apps/DaemonSet', 'extensions/DaemonSet', 'apps/Deployment',
  'extensions/Deployment', 'apps/ReplicaSet', 'extensions/ReplicaSet', 'policy/PodDisruptionBudget', 'batch/CronJob', 'ConfigMap', 'batch/Job',
  'apiextensions.k8s.io/CustomResourceDefinition',
]);

function isMap(v: unknown): v is Unstructured {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** unstructured.NestedFieldNoCopy: [value, found]; throws when an intermediate is not a map. */
function nestedField(obj: Unstructured, ...fields: string[]): [unknown, boolean] {
  let cur: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (cur === null || cur === undefined) return [undefined, false];
    if (!isMap(cur)) {
      throw new Error(`${fields.slice(0, i).join('.')} accessor error: ${JSON.stringify(cur)} is of the type ${typeof cur}, expected map[string]interface{}`);
    }
    if (!(fields[i]! in cur)) return [undefined, false];
    cur = cur[fields[i]!];
  }
  return [cur, true];
}

function nestedString(obj: Unstructured, ...fields: string[]): [string, boolean] {
  const [v, found] = nestedField(obj, ...fields);
  if (!found) return ['', false];
  if (typeof v !== 'string') throw new Error(`${fields.join('.')} accessor error: ${JSON.stringify(v)} is of the type ${typeof v}, expected string`);
  return [v, true];
}

function nestedInt64(obj: Unstructured, ...fields: string[]): [number, boolean] {
  const [v, found] = nestedField(obj, ...fields);
  if (!found) return [0, false];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${fields.join('.')} accessor error: ${JSON.stringify(v)} is of the type ${typeof v}, expected int64`);
  return [v, true];
}

interface BasicCondition { type: string; status: string; reason: string; message: string }

/** GetObjectWithConditions: status.conditions decoded into BasicCondition structs. */
function objectConditions(obj: Unstructured): BasicCondition[] {
  const status = obj['status'];
  if (status === undefined || status === null) return [];
  if (!isMap(status)) throw new Error('status: expected an object');
  const conds = status['conditions'];
  if (conds === undefined || conds === null) return [];
  if (!Array.isArray(conds)) throw new Error('status.conditions: expected a list');
  return conds.map((c, i) => {
    if (!isMap(c)) throw new Error(`status.conditions[${i}]: expected an object`);
    const field = (name: string): string => {
      const v = c[name];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw new Error(`status.conditions[${i}].${name}: expected a string`);
      return v;
    };
    return { type: field('type'), status: field('status'), reason: field('reason'), message: field('message') };
  });
}

function checkGeneration(u: Unstructured): Result | undefined {
  const [generation, found] = nestedInt64(u, 'metadata', 'generation');
  if (!found) return undefined;
  const [observedGeneration, observedFound] = nestedInt64(u, 'status', 'observedGeneration');
  if (observedFound && observedGeneration !== generation) {
    const kind = typeof u['kind'] === 'string' ? u['kind'] : '';
    const message = `${kind} generation is ${generation}, but latest observed generation is ${observedGeneration}`;
    return { status: 'InProgress', message, conditions: [{ type: 'Reconciling', status: 'True', reason: 'LatestGenerationNotObserved', message }] };
  }
  return undefined;
}

function checkGenericProperties(u: Unstructured): Result | undefined {
  const [deletionTimestamp, found] = nestedString(u, 'metadata', 'deletionTimestamp');
  if (found && deletionTimestamp !== '') {
    return { status: 'Terminating', message: 'Resource scheduled for deletion', conditions: [] };
  }
  const res = checkGeneration(u);
  if (res) return res;
  for (const c of objectConditions(u)) {
    if (c.type === 'Reconciling' && c.status === 'True') {
      return { status: 'InProgress', message: c.message, conditions: [{ type: 'Reconciling', status: 'True', reason: c.reason, message: c.message }] };
    }
    if (c.type === 'Stalled' && c.status === 'True') {
      return { status: 'Failed', message: c.message, conditions: [{ type: 'Stalled', status: 'True', reason: c.reason, message: c.message }] };
    }
  }
  return undefined;
}

/** status.Compute for a custom resource (an object as returned by the API server, in JSON form). */
export function computeStatus(u: Unstructured): Result {
  const apiVersion = typeof u['apiVersion'] === 'string' ? u['apiVersion'] : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = typeof u['kind'] === 'string' ? u['kind'] : '';
  const res = checkGenericProperties(u);
  if (res) return res;
  if (LEGACY_KINDS.has(group === '' ? kind : `${group}/${kind}`)) {
    throw new Error(`kstatus has type-specific rules for ${kind}; only the generic rules are ported`);
  }
  return { status: 'Current', message: 'Resource is current', conditions: [] };
}
