// Static checks of crds/ and deploy/: renders the kustomizations with `kubectl kustomize` (offline)
// and asserts the facts that users and the RBAC/e2e tests rely on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { setSettings } from '../../src/controllers/powerset/spec.ts';
import { validateSchedule } from '../../src/schedule/evaluate.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const deployDir = join(repo, 'deploy');

type Obj = Record<string, unknown>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// kustomize rendering

const kubectl = process.env['KUBECTL'] ?? 'kubectl';

/** Why `kubectl kustomize` cannot be used here, or undefined when it can. Components need kustomize v4+. */
function kustomizeUnavailable(): string | undefined {
  try {
    const out = execFileSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const version = (JSON.parse(out) as { kustomizeVersion?: string }).kustomizeVersion ?? '';
    const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? '0');
    if (major < 4) return `${kubectl} embeds kustomize ${version || '(unknown)'}, components need v4 or later (kubectl 1.21+)`;
    return undefined;
  } catch (err) {
    return `${kubectl} not runnable: ${(err as Error).message.split('\n')[0]}`;
  }
}

function render(dir: string): K8sObject[] {
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Renders deploy/ plus the given components through a temporary overlay, as a user would. */
function renderWithComponents(components: string[]): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-power-kustomize-'));
  try {
    // kustomize refuses absolute paths to other kustomizations: use relative ones.
    const rel = (p: string) => relative(dir, p);
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${rel(deployDir)}`,
        'components:',
        ...components.map((c) => `  - ${rel(join(deployDir, 'components', c))}`),
        '',
      ].join('\n'),
    );
    return render(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(hits.length, 1, `expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}`);
  return hits[0]!;
}

function get(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = Array.isArray(cur) ? cur[Number(part)] : (cur as Obj)[part];
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// A small validator for the subset of OpenAPI v3 / structural schema the CRD uses. Unknown fields
// are errors here (the API server would silently prune them, which hides typos in examples).

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  format?: string;
  default?: unknown;
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  maxItems?: number;
  minItems?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [key: string]: unknown;
}

function validate(value: unknown, schema: Schema, path = ''): string[] {
  const errs: string[] = [];
  const at = path || '<root>';
  if (schema.enum && !schema.enum.includes(value)) errs.push(`${at}: ${JSON.stringify(value)} not in enum ${JSON.stringify(schema.enum)}`);
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [...errs, `${at}: expected object`];
      const obj = value as Obj;
      for (const r of schema.required ?? []) if (!(r in obj)) errs.push(`${at}: missing required field ${r}`);
      if (schema.oneOf) {
        const matching = schema.oneOf.filter((alt) => (alt.required ?? []).every((r) => r in obj)).length;
        if (matching !== 1) errs.push(`${at}: must validate one and only one schema (oneOf), matches ${matching}`);
      }
      if (schema.properties && path !== '.metadata') {
        for (const [k, v] of Object.entries(obj)) {
          const sub = schema.properties[k];
          if (sub) errs.push(...validate(v, sub, `${path}.${k}`));
          else if (!schema['x-kubernetes-preserve-unknown-fields']) errs.push(`${path}.${k}: unknown field`);
        }
      }
      if (typeof schema.additionalProperties === 'object') {
        for (const [k, v] of Object.entries(obj)) errs.push(...validate(v, schema.additionalProperties, `${path}.${k}`));
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [...errs, `${at}: expected array`];
      if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(`${at}: more than ${schema.maxItems} items`);
      if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.items) value.forEach((v, i) => errs.push(...validate(v, schema.items!, `${path}[${i}]`)));
      break;
    case 'string':
      if (typeof value !== 'string') return [...errs, `${at}: expected string`];
      if (schema.maxLength !== undefined && value.length > schema.maxLength) errs.push(`${at}: longer than ${schema.maxLength}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) errs.push(`${at}: shorter than ${schema.minLength}`);
      if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) errs.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') errs.push(`${at}: expected boolean`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) errs.push(`${at}: expected integer`);
      else if (schema.minimum !== undefined && (value as number) < schema.minimum) errs.push(`${at}: below ${schema.minimum}`);
      break;
    default:
      errs.push(`${at}: schema without a supported type (${String(schema.type)})`);
  }
  return errs;
}

/** Walks every schema node with its path. */
function walk(schema: Schema, visit: (s: Schema, path: string) => void, path = ''): void {
  visit(schema, path);
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, visit, `${path}.${k}`);
  if (schema.items) walk(schema.items, visit, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, visit, `${path}.*`);
}

// ---------------------------------------------------------------------------------------------

interface LoadedCrd {
  file: string;
  crd: K8sObject;
  spec: Obj;
  version: Obj;
  schema: Schema;
}

function loadCrd(file: string): LoadedCrd {
  const crd = parse(readFileSync(join(repo, 'crds', file), 'utf8')) as K8sObject;
  const spec = crd['spec'] as Obj;
  const version = (spec['versions'] as Obj[])[0]!;
  return { file, crd, spec, version, schema: get(version, 'schema.openAPIV3Schema') as Schema };
}

/** The CRDs of API.md, SCHEDULES.md and FLEETS.md, with their kind and short name. */
const CRDS: { file: string; kind: string; plural: string; shortName: string }[] = [
  { file: 'ecspower.io_ecsinstancepowers.yaml', kind: 'EcsInstancePower', plural: 'ecsinstancepowers', shortName: 'ecspower' },
  { file: 'ecspower.io_ecspowerschedules.yaml', kind: 'EcsPowerSchedule', plural: 'ecspowerschedules', shortName: 'ecsschedule' },
  { file: 'ecspower.io_ecspoweroverrides.yaml', kind: 'EcsPowerOverride', plural: 'ecspoweroverrides', shortName: 'ecsoverride' },
  { file: 'ecspower.io_ecsinstancepowersets.yaml', kind: 'EcsInstancePowerSet', plural: 'ecsinstancepowersets', shortName: 'ecspowerset' },
];
const loadedCrds = CRDS.map((c) => loadCrd(c.file));
const { version, schema } = loadedCrds[0]!;
const specSchema = schema.properties!['spec']!;
const statusSchema = schema.properties!['status']!;

/** The printer columns as [name, type, jsonPath]. */
const columns = (v: Obj): unknown[][] => (v['additionalPrinterColumns'] as Obj[]).map((c) => [c['name'], c['type'], c['jsonPath']]);

describe('CRDs in crds/', () => {
  it('crds/kustomization.yaml lists every CRD file', () => {
    const k = parse(readFileSync(join(repo, 'crds', 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    assert.deepEqual([...k.resources].sort(), CRDS.map((c) => c.file).sort());
  });

  CRDS.forEach((want, i) => {
    const { crd: c, spec, version: v, schema: sch } = loadedCrds[i]!;
    describe(want.file, () => {
      it('has the names, scope, version and subresource of the contract', () => {
        assert.equal(c.apiVersion, 'apiextensions.k8s.io/v1');
        assert.equal(c.metadata.name, `${want.plural}.ecspower.io`);
        assert.equal(spec['group'], 'ecspower.io');
        assert.equal(spec['scope'], 'Namespaced');
        assert.deepEqual(spec['names'], {
          kind: want.kind,
          listKind: `${want.kind}List`,
          plural: want.plural,
          singular: want.kind.toLowerCase(),
          shortNames: [want.shortName],
          categories: ['ecs', 'alibabacloud'],
        });
        assert.equal((spec['versions'] as Obj[]).length, 1);
        assert.equal(v['name'], 'v1alpha1');
        assert.equal(v['served'], true);
        assert.equal(v['storage'], true);
        assert.deepEqual(v['subresources'], { status: {} });
      });

      it('uses no CEL (Kubernetes 1.20) and is structural: every node has a type', () => {
        const known = new Set(['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type']);
        assert.ok(!JSON.stringify(c).includes('x-kubernetes-validations'));
        walk(sch, (s, path) => {
          assert.ok(typeof s.type === 'string', `${path || '<root>'} has no type`);
          for (const key of Object.keys(s)) {
            if (key.startsWith('x-kubernetes-')) assert.ok(known.has(key), `${path}: ${key} is not available on Kubernetes 1.20`);
          }
          // structural: oneOf/anyOf/allOf/not carry value validations only
          for (const alt of [...(s.oneOf ?? []), ...((s['anyOf'] as Schema[] | undefined) ?? []), ...((s['allOf'] as Schema[] | undefined) ?? [])]) {
            assert.deepEqual(Object.keys(alt), ['required'], `${path}: only required lists inside oneOf`);
          }
        });
      });

      it('documents every field (kubectl explain)', () => {
        walk(sch, (s, path) => {
          if (path === '.metadata') return; // the API server supplies ObjectMeta's documentation
          assert.ok(typeof s.description === 'string' && s.description.length > 10, `${path || '<root>'} has no description`);
        });
      });

      it('bounds every string with maxLength or an enum, every list with maxItems', () => {
        walk(sch, (s, path) => {
          if (s.type === 'string' && !['.apiVersion', '.kind'].includes(path) && s.format !== 'date-time') {
            assert.ok(s.maxLength !== undefined || s.enum !== undefined, `${path} is unbounded`);
          }
          if (s.type === 'array' && path !== '.status.conditions') assert.ok(s.maxItems !== undefined, `${path} has no maxItems`);
        });
      });

      it('conditions are metav1.Condition, listed by type', () => {
        const conds = sch.properties!['status']!.properties!['conditions']!;
        assert.equal(conds['x-kubernetes-list-type'], 'map');
        assert.deepEqual(conds['x-kubernetes-list-map-keys'], ['type']);
        // the same item schema in every kind
        assert.deepEqual(conds.items, statusSchema.properties!['conditions']!.items);
      });
    });
  });
});

describe('CRD crds/ecspower.io_ecsinstancepowers.yaml', () => {
  it('has the printer columns of API.md (Desired is the effective state, SCHEDULES.md)', () => {
    assert.deepEqual(columns(version), [
      ['Instance', 'string', '.spec.instanceId'],
      ['Region', 'string', '.spec.regionId'],
      ['Desired', 'string', '.status.desiredState'],
      ['Status', 'string', '.status.instanceStatus'],
      ['Ready', 'string', '.status.conditions[?(@.type=="Ready")].status'],
      ['Reason', 'string', '.status.conditions[?(@.type=="Ready")].reason'],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  it('has the spec fields, requirements, enums and defaults of API.md', () => {
    assert.deepEqual(schema.required, ['spec']);
    assert.deepEqual([...specSchema.required!].sort(), ['instanceId', 'regionId']);
    // exactly one of desiredState and scheduleRef (SCHEDULES.md)
    assert.deepEqual(specSchema.oneOf, [{ required: ['desiredState'] }, { required: ['scheduleRef'] }]);
    const p = specSchema.properties!;
    assert.deepEqual(Object.keys(p).sort(), [
      'confirmStop', 'credentialsSecretRef', 'desiredState', 'driftPolicy', 'dryRun', 'forceStop', 'hibernate', 'instanceId', 'regionId', 'scheduleRef', 'stoppedMode',
    ]);
    assert.equal(p['instanceId']!.pattern, '^i-[0-9a-z]+$');
    assert.equal(p['instanceId']!.maxLength, 64);
    assert.equal(p['regionId']!.pattern, '^[a-z]{2,}(-[a-z0-9]+)+$');
    assert.deepEqual(p['desiredState']!.enum, ['Stopped', 'Running']);
    assert.deepEqual(p['stoppedMode']!.enum, ['StopCharging', 'KeepCharging']);
    assert.equal(p['stoppedMode']!.default, undefined, 'stoppedMode unset must stay unset (ECS default)');
    for (const b of ['forceStop', 'confirmStop', 'hibernate', 'dryRun']) {
      assert.equal(p[b]!.type, 'boolean', b);
      assert.equal(p[b]!.default, false, b);
    }
    assert.deepEqual(p['driftPolicy']!.enum, ['Enforce', 'Observe']);
    assert.equal(p['driftPolicy']!.default, 'Enforce');
  });

  it('scheduleRef names an EcsPowerSchedule in the same namespace only', () => {
    const ref = specSchema.properties!['scheduleRef']!;
    assert.equal(ref.type, 'object');
    assert.deepEqual(ref.required, ['name']);
    assert.deepEqual(Object.keys(ref.properties!), ['name'], 'no namespace field');
    assert.equal(ref.properties!['name']!.maxLength, 253);
    const base = { instanceId: 'i-demo000001', regionId: 'cn-hangzhou' };
    assert.deepEqual(validate({ ...base, desiredState: 'Stopped' }, specSchema, '.spec'), []);
    assert.deepEqual(validate({ ...base, scheduleRef: { name: 'office-hours' } }, specSchema, '.spec'), []);
    assert.equal(validate({ ...base }, specSchema, '.spec').length, 1, 'neither');
    assert.equal(validate({ ...base, desiredState: 'Stopped', scheduleRef: { name: 'office-hours' } }, specSchema, '.spec').length, 1, 'both');
  });

  it('credentialsSecretRef names a Secret in the same namespace only', () => {
    const ref = specSchema.properties!['credentialsSecretRef']!;
    assert.equal(ref.type, 'object');
    assert.deepEqual(ref.required, ['name']);
    assert.deepEqual(Object.keys(ref.properties!), ['name'], 'no namespace field: another namespace can never be named');
    assert.equal(ref.properties!['name']!.maxLength, 253);
  });

  it('patterns accept and reject the right values', () => {
    const p = specSchema.properties!;
    const cases: [string, string, boolean][] = [
      ['instanceId', 'i-bp67acfmxazb4ph0xxxx', true],
      ['instanceId', 'i-demo000001', true],
      ['instanceId', 'I-ABC', false],
      ['instanceId', 'i-', false],
      ['instanceId', 'ins-123', false],
      ['regionId', 'cn-hangzhou', true],
      ['regionId', 'ap-southeast-1', true],
      ['regionId', 'cn-shanghai-finance-1', true],
      ['regionId', 'cn', false],
      ['regionId', 'CN-Hangzhou', false],
    ];
    for (const [field, value, ok] of cases) {
      assert.equal(validate(value, p[field]!).length === 0, ok, `${field}=${value}`);
    }
    const name = p['credentialsSecretRef']!.properties!['name']!;
    for (const [value, ok] of [['team-a-ecs-credentials', true], ['a.b-c', true], ['Team_A', false], ['-a', false], ['a'.repeat(254), false]] as const) {
      assert.equal(validate(value, name).length === 0, ok, `name=${value}`);
    }
  });

  it('has the status fields, with conditions as metav1.Condition', () => {
    const s = statusSchema.properties!;
    assert.deepEqual(Object.keys(s).sort(), ['conditions', 'convergedGeneration', 'desiredState', 'desiredStateSince', 'desiredStateSource', 'instanceStatus', 'lastRequest', 'lastRequestId', 'nextTransitionTime', 'observedGeneration']);
    assert.deepEqual(s['desiredState']!.enum, ['Stopped', 'Running']);
    for (const [source, ok] of [['spec', true], ['EcsPowerSchedule/office-hours', true], ['EcsPowerOverride/inc-1234', true], ['schedule', false], ['EcsPowerSchedule/', false]] as const) {
      assert.equal(validate(source, s['desiredStateSource']!).length === 0, ok, source);
    }
    assert.equal(s['observedGeneration']!.type, 'integer');
    assert.equal(s['observedGeneration']!.format, 'int64');
    const conds = s['conditions']!;
    assert.equal(conds['x-kubernetes-list-type'], 'map');
    assert.deepEqual(conds['x-kubernetes-list-map-keys'], ['type']);
    const item = conds.items!;
    assert.deepEqual([...item.required!].sort(), ['lastTransitionTime', 'message', 'reason', 'status', 'type']);
    const ip = item.properties!;
    assert.deepEqual(Object.keys(ip).sort(), ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
    assert.equal(ip['lastTransitionTime']!.format, 'date-time');
    assert.deepEqual(ip['status']!.enum, ['True', 'False', 'Unknown']);
    assert.equal(ip['reason']!.pattern, '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$');
    assert.equal(ip['reason']!.maxLength, 1024);
    assert.equal(ip['type']!.maxLength, 316);
    assert.equal(ip['observedGeneration']!.format, 'int64');
    // every reason of API.md fits the pattern
    for (const reason of [
      'Stopped', 'Running', 'DryRunSucceeded', 'Pending', 'Starting', 'Stopping', 'StopRequested', 'StartRequested', 'Drifted', 'InternalError',
      'ServiceUnavailable', 'Throttled', 'EcsUnreachable', 'IncorrectInstanceStatus', 'OperationConflict', 'IncorrectDiskStatus',
      'InstanceLockedForSecurity', 'InstanceNotFound', 'ConfirmStopRequired', 'InstanceExpiredOrInArrears', 'OperationNotSupported',
      'KMSUnauthorized', 'InvalidCredentials', 'Forbidden', 'InvalidSpec', 'EcsError',
      'ScheduleNotFound', 'InvalidSchedule', 'Active', 'Expired',
    ]) {
      assert.deepEqual(validate(reason, ip['reason']!), [], reason);
    }
  });

  it('accepts a complete recorded status', () => {
    const status = {
      observedGeneration: 3,
      desiredState: 'Stopped',
      desiredStateSource: 'EcsPowerSchedule/office-hours',
      instanceStatus: 'Stopped',
      lastRequestId: '473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E',
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Stopped', message: 'Instance i-demo000001 is Stopped', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 },
        { type: 'Reconciling', status: 'False', reason: 'Stopped', message: '', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 },
        { type: 'Stalled', status: 'False', reason: 'Stopped', message: '', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 },
      ],
    };
    assert.deepEqual(validate(status, statusSchema, '.status'), []);
  });
});

describe('CRDs of SCHEDULES.md: EcsPowerSchedule and EcsPowerOverride', () => {
  const schedule = loadedCrds[1]!;
  const override = loadedCrds[2]!;
  const scheduleSpec = schedule.schema.properties!['spec']!;
  const overrideSpec = override.schema.properties!['spec']!;
  const window = scheduleSpec.properties!['running']!.items!;
  const exception = scheduleSpec.properties!['exceptions']!.items!;

  it('have the printer columns of SCHEDULES.md', () => {
    const ready = '.status.conditions[?(@.type=="Ready")]';
    assert.deepEqual(columns(schedule.version), [
      ['TimeZone', 'string', '.spec.timeZone'],
      ['Desired', 'string', '.status.desiredState'],
      ['Next', 'string', '.status.nextTransition.time'],
      ['Ready', 'string', `${ready}.status`],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
    assert.deepEqual(columns(override.version), [
      ['Desired', 'string', '.spec.desiredState'],
      ['Until', 'string', '.spec.until'],
      ['Matched', 'integer', '.status.matched'],
      ['Ready', 'string', `${ready}.status`],
      ['Reason', 'string', `${ready}.reason`],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  it('EcsPowerSchedule: the fields, requirements and limits of SCHEDULES.md', () => {
    assert.deepEqual(scheduleSpec.required, ['timeZone']);
    assert.deepEqual(Object.keys(scheduleSpec.properties!).sort(), ['exceptions', 'running', 'timeZone']);
    assert.equal(scheduleSpec.properties!['running']!.maxItems, 50);
    assert.equal(scheduleSpec.properties!['exceptions']!.maxItems, 100);
    assert.deepEqual([...window.required!].sort(), ['from', 'to']);
    assert.deepEqual(window.properties!['days']!.items!.enum, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    assert.deepEqual([...exception.required!].sort(), ['desiredState', 'from', 'to']);
    assert.deepEqual(exception.properties!['desiredState']!.enum, ['Running', 'Stopped']);
    assert.equal(exception.properties!['reason']!.maxLength, 256);
    assert.equal(exception.properties!['from']!.format, 'date-time');
    assert.equal(exception.properties!['to']!.format, 'date-time');
    const status = schedule.schema.properties!['status']!.properties!;
    assert.deepEqual(Object.keys(status).sort(), ['conditions', 'desiredState', 'nextTransition', 'observedGeneration']);
    assert.deepEqual(Object.keys(status['nextTransition']!.properties!).sort(), ['desiredState', 'time']);
    assert.equal(status['nextTransition']!.properties!['time']!.format, 'date-time');
  });

  it('EcsPowerOverride: the fields, requirements and limits of SCHEDULES.md', () => {
    assert.deepEqual([...overrideSpec.required!].sort(), ['desiredState', 'selector', 'until']);
    assert.deepEqual(Object.keys(overrideSpec.properties!).sort(), ['desiredState', 'reason', 'selector', 'until']);
    assert.deepEqual(Object.keys(overrideSpec.properties!['selector']!.properties!).sort(), ['matchExpressions', 'matchLabels']);
    assert.equal(overrideSpec.properties!['until']!.format, 'date-time');
    assert.equal(overrideSpec.properties!['reason']!.maxLength, 256);
    const status = override.schema.properties!['status']!.properties!;
    assert.deepEqual(Object.keys(status).sort(), ['conditions', 'matched', 'observedGeneration']);
    assert.equal(status['matched']!.type, 'integer');
  });

  it('patterns accept and refuse the right times', () => {
    const cases: [Schema, string, boolean][] = [
      [window.properties!['from']!, '08:00', true],
      [window.properties!['from']!, '23:59', true],
      [window.properties!['from']!, '00:00', true],
      [window.properties!['from']!, '24:00', false],
      [window.properties!['from']!, '8:00', false],
      [window.properties!['from']!, '12:60', false],
      [window.properties!['to']!, '24:00', true],
      [window.properties!['to']!, '06:00', true],
      [window.properties!['to']!, '24:01', false],
      [window.properties!['to']!, '25:00', false],
      [exception.properties!['from']!, '2026-10-01T00:00:00+08:00', true],
      [exception.properties!['from']!, '2026-10-01T00:00:00Z', true],
      [exception.properties!['from']!, '2026-10-01T00:00:00.5Z', true],
      [exception.properties!['from']!, '2026-10-01T00:00:00', false],
      [exception.properties!['from']!, '2026-10-01', false],
      [scheduleSpec.properties!['timeZone']!, 'Asia/Shanghai', true],
      [scheduleSpec.properties!['timeZone']!, 'America/Argentina/Buenos_Aires', true],
      [scheduleSpec.properties!['timeZone']!, 'Etc/GMT+8', true],
      [scheduleSpec.properties!['timeZone']!, 'UTC', true],
      [scheduleSpec.properties!['timeZone']!, '+08:00', false],
      [scheduleSpec.properties!['timeZone']!, 'Asia/', false],
    ];
    for (const [sch, value, ok] of cases) assert.equal(validate(value, sch).length === 0, ok, value);
  });

  it('the examples of SCHEDULES.md validate', () => {
    const scheduleExample = {
      apiVersion: 'ecspower.io/v1alpha1',
      kind: 'EcsPowerSchedule',
      metadata: { name: 'office-hours', namespace: 'team-a' },
      spec: {
        timeZone: 'Asia/Shanghai',
        running: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '08:00', to: '20:00' }],
        exceptions: [{ from: '2026-10-01T00:00:00+08:00', to: '2026-10-08T00:00:00+08:00', desiredState: 'Stopped', reason: 'National Day' }],
      },
    };
    const overrideExample = {
      apiVersion: 'ecspower.io/v1alpha1',
      kind: 'EcsPowerOverride',
      metadata: { name: 'inc-1234', namespace: 'team-a' },
      spec: { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: '2026-12-01T22:00:00+08:00', reason: 'INC-1234 needs the batch hosts tonight' },
    };
    assert.deepEqual(validate(scheduleExample, schedule.schema), []);
    assert.deepEqual(validate(overrideExample, override.schema), []);
    assert.deepEqual(validate({ ...overrideExample, spec: { ...overrideExample.spec, selector: {} } }, override.schema), [], 'an empty selector selects all');
  });
});

describe('CRD of FLEETS.md: EcsInstancePowerSet', () => {
  const set = loadedCrds[3]!;
  const setSpec = set.schema.properties!['spec']!;
  const template = setSpec.properties!['template']!;
  const templateSpec = template.properties!['spec']!;

  it('has the printer columns of FLEETS.md', () => {
    const ready = '.status.conditions[?(@.type=="Ready")]';
    assert.deepEqual(columns(set.version), [
      ['Regions', 'string', '.spec.regionIds'],
      ['Instances', 'integer', '.status.instances'],
      ['Ready', 'integer', '.status.ready'],
      ['Status', 'string', `${ready}.status`],
      ['Reason', 'string', `${ready}.reason`],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  it('the fields, requirements, defaults and limits of FLEETS.md', () => {
    assert.deepEqual([...setSpec.required!].sort(), ['regionIds', 'tags', 'template']);
    assert.deepEqual(Object.keys(setSpec.properties!).sort(), ['excludeTagKey', 'refreshInterval', 'regionIds', 'tags', 'template']);
    const p = setSpec.properties!;
    assert.deepEqual([p['regionIds']!.minItems, p['regionIds']!.maxItems], [1, 20]);
    assert.equal(p['regionIds']!.items!.pattern, specSchema.properties!['regionId']!.pattern, 'the pattern of regionId');
    assert.deepEqual([p['tags']!['minProperties'], p['tags']!['maxProperties']], [1, 20]);
    assert.equal(p['excludeTagKey']!.default, 'ecspower.io/exclude');
    assert.equal(p['refreshInterval']!.default, '5m');
    assert.deepEqual(template.required, ['spec']);
    assert.deepEqual(Object.keys(template.properties!['metadata']!.properties!).sort(), ['annotations', 'labels']);
  });

  it('template.spec is the EcsInstancePower spec without instanceId and regionId, the same schema field by field', () => {
    const member = { ...specSchema.properties! };
    delete member['instanceId'];
    delete member['regionId'];
    assert.deepEqual(templateSpec.properties, member);
    assert.deepEqual(templateSpec.oneOf, specSchema.oneOf);
    assert.equal(templateSpec.required, undefined);
  });

  it('refreshInterval takes Go durations; regionIds the region pattern', () => {
    const interval = setSpec.properties!['refreshInterval']!;
    for (const [value, ok] of [['5m', true], ['10s', true], ['1h30m', true], ['1.5h', true], ['500ms', true], ['5', false], ['5 m', false], ['-5m', false], ['', false]] as const) {
      assert.equal(validate(value, interval).length === 0, ok, value);
    }
  });

  it('the example of FLEETS.md and a complete recorded status validate; the set reasons fit the condition pattern', () => {
    const example = {
      apiVersion: 'ecspower.io/v1alpha1',
      kind: 'EcsInstancePowerSet',
      metadata: { name: 'dev-fleet', namespace: 'team-a' },
      spec: {
        regionIds: ['cn-hangzhou', 'cn-shanghai'],
        tags: { env: 'dev', team: 'a' },
        excludeTagKey: 'ecspower.io/exclude',
        refreshInterval: '5m',
        template: {
          metadata: { labels: { tier: 'batch' } },
          spec: { scheduleRef: { name: 'office-hours' }, stoppedMode: 'StopCharging', credentialsSecretRef: { name: 'team-a-ecs' } },
        },
      },
      status: {
        observedGeneration: 2,
        instances: 300,
        ready: 298,
        stalled: 2,
        conflicts: 1,
        lastDiscoveryTime: '2026-01-05T08:00:00Z',
        conditions: [
          { type: 'Ready', status: 'False', reason: 'MembersStalled', message: '2 of 300 members are Stalled: dev-fleet-i-a, dev-fleet-i-b', lastTransitionTime: '2026-01-05T08:00:00Z', observedGeneration: 2 },
          { type: 'Reconciling', status: 'False', reason: 'MembersStalled', message: '-', lastTransitionTime: '2026-01-05T08:00:00Z', observedGeneration: 2 },
          { type: 'Stalled', status: 'True', reason: 'MembersStalled', message: '2 of 300 members are Stalled', lastTransitionTime: '2026-01-05T08:00:00Z', observedGeneration: 2 },
        ],
      },
    };
    assert.deepEqual(validate(example, set.schema), []);
    assert.equal(validate({ ...example, spec: { ...example.spec, regionIds: [] } }, set.schema).length, 1);
    const reason = set.schema.properties!['status']!.properties!['conditions']!.items!.properties!['reason']!;
    for (const r of ['AllReady', 'NoInstances', 'Progressing', 'MembersStalled', 'InsufficientCapacity', 'InvalidCredentials', 'Forbidden', 'InvalidSpec']) {
      assert.deepEqual(validate(r, reason), [], r);
    }
  });
});

const unavailable = kustomizeUnavailable();

describe('deploy/ (kubectl kustomize)', function () {
  let objs: K8sObject[] = [];
  before(function () {
    // A missing tool is a failure, never a skip.
    if (unavailable) throw new Error(unavailable);
    objs = render(deployDir);
  });

  const ns = 'ecs-power-system';
  const podLabels = { 'app.kubernetes.io/name': 'ecs-power', 'app.kubernetes.io/component': 'controller' };

  it('installs the namespace, the CRD and the controller objects', () => {
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ClusterRole/ecs-power-controller',
      'ClusterRole/ecs-power-edit',
      'ClusterRole/ecs-power-override-creator',
      'ClusterRole/ecs-power-view',
      'ClusterRoleBinding/ecs-power-controller',
      'CustomResourceDefinition/ecsinstancepowers.ecspower.io',
      'CustomResourceDefinition/ecsinstancepowersets.ecspower.io',
      'CustomResourceDefinition/ecspoweroverrides.ecspower.io',
      'CustomResourceDefinition/ecspowerschedules.ecspower.io',
      'Deployment/ecs-power-controller',
      'Namespace/ecs-power-system',
      'PodDisruptionBudget/ecs-power-controller',
      'Role/ecs-power-leader-election',
      'RoleBinding/ecs-power-leader-election',
      'Service/ecs-power-controller-metrics',
      'ServiceAccount/ecs-power-controller',
    ]);
    for (const o of objs) {
      if (['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) assert.equal(o.metadata.namespace, undefined, o.kind);
      else assert.equal(o.metadata.namespace, ns, `${o.kind} ${o.metadata.name}`);
    }
    // the CRDs shipped in deploy/ are the ones in crds/
    for (const c of loadedCrds) assert.deepEqual(find(objs, 'CustomResourceDefinition', c.crd.metadata.name)['spec'], c.crd['spec'], c.file);
  });

  it('ClusterRole is exactly the least-privilege set', () => {
    const rules = find(objs, 'ClusterRole', 'ecs-power-controller')['rules'];
    assert.deepEqual(rules, [
      // exactly the calls the controller makes; test/e2e/rbac.test.ts shows each one is needed
      { apiGroups: ['ecspower.io'], resources: ['ecsinstancepowers', 'ecspowerschedules', 'ecspoweroverrides', 'ecsinstancepowersets'], verbs: ['list', 'watch'] },
      { apiGroups: ['ecspower.io'], resources: ['ecsinstancepowers'], verbs: ['create', 'patch', 'delete'] },
      { apiGroups: ['ecspower.io'], resources: ['ecsinstancepowers/status', 'ecspowerschedules/status', 'ecspoweroverrides/status', 'ecsinstancepowersets/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    const all = JSON.stringify(rules);
    assert.ok(!all.includes('*'), 'no wildcards');
    assert.ok(!/"resourceNames"/.test(all));
  });

  it('leader election Role covers only the Lease, in ecs-power-system', () => {
    const role = find(objs, 'Role', 'ecs-power-leader-election');
    assert.equal(role.metadata.namespace, ns);
    assert.deepEqual(role['rules'], [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
  });

  it('bindings grant the roles to the controller ServiceAccount', () => {
    const subject = [{ kind: 'ServiceAccount', name: 'ecs-power-controller', namespace: ns }];
    const crb = find(objs, 'ClusterRoleBinding', 'ecs-power-controller');
    assert.deepEqual(crb['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ecs-power-controller' });
    assert.deepEqual(crb['subjects'], subject);
    const rb = find(objs, 'RoleBinding', 'ecs-power-leader-election');
    assert.deepEqual(rb['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ecs-power-leader-election' });
    assert.deepEqual(rb['subjects'], subject);
  });

  it('Deployment: 2 replicas with leader election, the image and the flags of API.md', () => {
    const d = find(objs, 'Deployment', 'ecs-power-controller');
    assert.equal(get(d, 'spec.replicas'), 2);
    assert.deepEqual(get(d, 'spec.selector.matchLabels'), podLabels);
    assert.deepEqual(get(d, 'spec.template.metadata.labels'), { ...podLabels, 'app.kubernetes.io/part-of': 'ecs-power' });
    assert.equal(get(d, 'spec.template.spec.serviceAccountName'), 'ecs-power-controller');
    assert.equal(get(d, 'spec.template.spec.terminationGracePeriodSeconds'), 30);
    const containers = get(d, 'spec.template.spec.containers') as Obj[];
    assert.equal(containers.length, 1);
    const c = containers[0]!;
    assert.equal(c['image'], `ghcr.io/ecs-power/ecs-power:v${(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version}`);
    assert.equal(c['command'], undefined, 'the image ENTRYPOINT runs node dist/main.js');
    // no --leader-election-namespace: the Lease is in POD_NAMESPACE, so the base is relocatable
    assert.deepEqual(c['args'], [
      '--leader-elect',
      '--metrics-bind-address=:8080',
      '--health-probe-bind-address=:8081',
      '--max-concurrent-reconciles=100',
    ]);
    assert.deepEqual(c['ports'], [
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
  });

  it('Deployment: the pod identity from the downward API, credentials from the optional Secret ecs-power-credentials, nothing test-only', () => {
    const c = (get(find(objs, 'Deployment'), 'spec.template.spec.containers') as Obj[])[0]!;
    const env = c['env'] as Obj[];
    assert.deepEqual(env, [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'NODE_OPTIONS', value: '--max-old-space-size=192 --max-semi-space-size=8' },
      { name: 'ALIBABA_CLOUD_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'ecs-power-credentials', key: 'accessKeyId', optional: true } } },
      { name: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', valueFrom: { secretKeyRef: { name: 'ecs-power-credentials', key: 'accessKeySecret', optional: true } } },
    ]);
    assert.ok(!JSON.stringify(find(objs, 'Deployment')).includes('ALIBABA_CLOUD_ECS_METADATA_DISABLED'));
  });

  it('Deployment: restricted security context', () => {
    const d = find(objs, 'Deployment');
    const pod = get(d, 'spec.template.spec.securityContext') as Obj;
    assert.equal(pod['runAsNonRoot'], true);
    assert.equal(pod['runAsUser'], 65532);
    assert.deepEqual(pod['seccompProfile'], { type: 'RuntimeDefault' });
    const sc = get(d, 'spec.template.spec.containers.0.securityContext') as Obj;
    assert.equal(sc['runAsNonRoot'], true);
    assert.equal(sc['runAsUser'], 65532);
    assert.equal(sc['readOnlyRootFilesystem'], true);
    assert.equal(sc['allowPrivilegeEscalation'], false);
    assert.equal(sc['privileged'], false);
    assert.deepEqual(sc['capabilities'], { drop: ['ALL'] });
    assert.deepEqual(sc['seccompProfile'], { type: 'RuntimeDefault' });
    assert.equal(get(d, 'spec.template.spec.hostNetwork'), undefined);
    // the namespace enforces the restricted Pod Security Standard
    assert.equal(find(objs, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('Deployment: probes on the health endpoints, resources, spread across nodes', () => {
    const d = find(objs, 'Deployment');
    const c = get(d, 'spec.template.spec.containers.0') as Obj;
    assert.deepEqual(get(c, 'livenessProbe.httpGet'), { path: '/healthz', port: 'health' });
    assert.deepEqual(get(c, 'readinessProbe.httpGet'), { path: '/readyz', port: 'health' });
    const requests = get(c, 'resources.requests') as Obj;
    const limits = get(c, 'resources.limits') as Obj;
    assert.ok(requests['cpu'] && requests['memory'], 'cpu and memory requests');
    assert.ok(limits['memory'], 'memory limit');
    const spread = get(d, 'spec.template.spec.topologySpreadConstraints') as Obj[] | undefined;
    const anti = get(d, 'spec.template.spec.affinity.podAntiAffinity');
    assert.ok(spread?.some((s) => s['topologyKey'] === 'kubernetes.io/hostname') || anti, 'replicas spread across nodes');
    assert.deepEqual(get(d, 'spec.strategy.rollingUpdate'), { maxSurge: 1, maxUnavailable: 0 });
  });

  it('metrics Service targets the pods on port 8080 named metrics', () => {
    const s = find(objs, 'Service', 'ecs-power-controller-metrics');
    assert.deepEqual(get(s, 'spec.selector'), podLabels);
    assert.deepEqual(get(s, 'spec.ports'), [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
  });

  it('PodDisruptionBudget keeps one replica', () => {
    const pdb = find(objs, 'PodDisruptionBudget');
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(get(pdb, 'spec.minAvailable'), 1);
    assert.deepEqual(get(pdb, 'spec.selector.matchLabels'), podLabels);
  });

  it('component kubernetes-1.20 swaps the PDB to policy/v1beta1', () => {
    const out = renderWithComponents(['kubernetes-1.20']);
    const pdbs = out.filter((o) => o.kind === 'PodDisruptionBudget');
    assert.equal(pdbs.length, 1);
    assert.equal(pdbs[0]!.apiVersion, 'policy/v1beta1');
    assert.equal(pdbs[0]!.metadata.namespace, ns);
    assert.deepEqual(get(pdbs[0], 'spec'), get(find(objs, 'PodDisruptionBudget'), 'spec'));
  });

  it('component rrsa: ServiceAccount annotation, OIDC variables and projected token', () => {
    const out = renderWithComponents(['rrsa']);
    const sa = find(out, 'ServiceAccount', 'ecs-power-controller');
    assert.ok(sa.metadata.annotations?.['pod-identity.alibabacloud.com/role-name']);
    const spec = get(find(out, 'Deployment'), 'spec.template.spec') as Obj;
    const c = (spec['containers'] as Obj[])[0]!;
    const env = Object.fromEntries((c['env'] as Obj[]).map((e) => [e['name'], e]));
    assert.match(String(env['ALIBABA_CLOUD_ROLE_ARN']?.['value']), /^acs:ram::[^:]+:role\/.+/);
    assert.match(String(env['ALIBABA_CLOUD_OIDC_PROVIDER_ARN']?.['value']), /^acs:ram::[^:]+:oidc-provider\/.+/);
    const tokenFile = String(env['ALIBABA_CLOUD_OIDC_TOKEN_FILE']?.['value']);
    // the AccessKey variables from the optional Secret stay
    assert.ok(env['ALIBABA_CLOUD_ACCESS_KEY_ID']);
    const vol = (spec['volumes'] as Obj[]).find((v) => v['projected']);
    assert.ok(vol, 'projected volume');
    const source = (get(vol, 'projected.sources') as Obj[]).find((s) => s['serviceAccountToken'])!['serviceAccountToken'] as Obj;
    assert.equal(source['audience'], 'sts.aliyuncs.com');
    const mount = (c['volumeMounts'] as Obj[]).find((m) => m['name'] === vol['name']);
    assert.ok(mount, 'token volume mounted');
    assert.equal(`${String(mount['mountPath'])}/${String(source['path'])}`, tokenFile);
    assert.equal(mount['readOnly'], true);
    // the rest of the hardening is untouched
    assert.equal(get(c, 'securityContext.readOnlyRootFilesystem'), true);
  });
});

describe('deploy/examples', function () {
  let objs: K8sObject[] = [];
  const exDir = join(deployDir, 'examples');
  before(function () {
    // A missing tool is a failure, never a skip.
    if (unavailable) throw new Error(unavailable);
    objs = render(exDir);
  });

  it('lists one file per example, each a single document', () => {
    const k = parse(readFileSync(join(exDir, 'kustomization.yaml'), 'utf8')) as { resources: string[]; namespace: string };
    assert.equal(k.namespace, 'default');
    assert.ok(k.resources.length >= 7);
    for (const f of k.resources) {
      assert.ok(existsSync(join(exDir, f)), f);
      assert.equal(parseAllDocuments(readFileSync(join(exDir, f), 'utf8')).length, 1, `${f} holds one object`);
    }
    assert.equal(objs.length, k.resources.length);
  });

  it('every EcsInstancePower validates against the CRD schema, in namespace default', () => {
    // (EcsPowerSchedule and EcsPowerOverride examples are checked below.)
    const powers = objs.filter((o) => o.kind === 'EcsInstancePower');
    assert.ok(powers.length >= 6);
    for (const o of powers) {
      assert.equal(o.apiVersion, 'ecspower.io/v1alpha1');
      assert.equal(o.metadata.namespace, 'default');
      assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.deepEqual(validate(o, schema), [], o.metadata.name);
      assert.equal(get(o, 'spec.regionId'), 'cn-hangzhou');
      assert.match(String(get(o, 'spec.instanceId')), /^i-demo\d{6}$/);
    }
    const ids = powers.map((o) => get(o, 'spec.instanceId'));
    assert.equal(new Set(ids).size, ids.length, 'one instance per example');
  });

  it('covers the documented cases', () => {
    const specs = objs.filter((o) => o.kind === 'EcsInstancePower').map((o) => o['spec'] as Obj);
    const has = (what: string, pred: (s: Obj) => boolean) => assert.ok(specs.some(pred), what);
    has('stop with StopCharging', (s) => s['desiredState'] === 'Stopped' && s['stoppedMode'] === 'StopCharging' && !s['dryRun']);
    has('force stop', (s) => s['desiredState'] === 'Stopped' && s['forceStop'] === true);
    has('dry run', (s) => s['dryRun'] === true);
    has('start', (s) => s['desiredState'] === 'Running');
    has('observe only', (s) => s['driftPolicy'] === 'Observe');
    has('credentials Secret', (s) => s['credentialsSecretRef'] !== undefined);
    has('on a schedule', (s) => (s['scheduleRef'] as Obj | undefined)?.['name'] === 'office-hours');
    assert.ok(objs.some((o) => o.kind === 'EcsPowerSchedule' && o.metadata.name === 'office-hours'), 'the schedule it names');
    assert.ok(objs.some((o) => o.kind === 'EcsPowerOverride'), 'an override');
  });

  it('schedules and overrides validate against their CRD schemas and the controller\'s own checks', () => {
    const scheduleSchema = loadedCrds[1]!.schema;
    const overrideSchema = loadedCrds[2]!.schema;
    for (const o of objs.filter((x) => x.kind === 'EcsPowerSchedule')) {
      assert.deepEqual(validate(o, scheduleSchema), [], o.metadata.name);
      assert.equal(validateSchedule(o['spec']), undefined, o.metadata.name);
    }
    for (const o of objs.filter((x) => x.kind === 'EcsPowerOverride')) assert.deepEqual(validate(o, overrideSchema), [], o.metadata.name);
  });

  it('a fleet by tag (EcsInstancePowerSet) validates against its CRD schema and the controller\'s own checks, and names the schedule there', () => {
    const fleets = objs.filter((x) => x.kind === 'EcsInstancePowerSet');
    assert.equal(fleets.length, 1);
    for (const o of fleets) {
      assert.deepEqual(validate(o, loadedCrds[3]!.schema), [], o.metadata.name);
      assert.ok(!('invalid' in setSettings(o['spec'] as never)), JSON.stringify(setSettings(o['spec'] as never)));
      const schedule = get(o, 'spec.template.spec.scheduleRef.name');
      assert.ok(objs.some((x) => x.kind === 'EcsPowerSchedule' && x.metadata.name === schedule), `the schedule ${String(schedule)}`);
    }
  });

  it('the named credentials Secret is there, in the same namespace, with the keys of API.md', () => {
    for (const o of objs.filter((x) => x.kind === 'EcsInstancePower' && get(x, 'spec.credentialsSecretRef'))) {
      const name = get(o, 'spec.credentialsSecretRef.name') as string;
      const secret = find(objs, 'Secret', name);
      assert.equal(secret.metadata.namespace, o.metadata.namespace);
      const data = (secret['stringData'] ?? secret['data']) as Obj;
      assert.deepEqual(Object.keys(data).sort(), ['accessKeyId', 'accessKeySecret']);
      assert.match(JSON.stringify(data), /PLACEHOLDER/, 'placeholder values only');
    }
  });
});
