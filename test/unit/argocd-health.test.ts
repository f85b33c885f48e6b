// Runs deploy/argocd/health.lua, the Argo CD health check for the ecspower.io kinds, in a real Lua
// interpreter against recorded objects. Argo CD embeds gopher-lua (Lua 5.1 semantics, numbers are
// floats); the script is run with every interpreter found among lua5.4 and lua5.1, and with
// numbers as integers and as floats.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECORDED } from '../support/recorded-statuses.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repo, 'deploy', 'argocd', 'health.lua');

/** A Lua string literal: printable ASCII as is, everything else as decimal byte escapes. */
function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (b >= 0x20 && b < 0x7f) out += c;
    else out += '\\' + String(b).padStart(3, '0');
  }
  return out + '"';
}

/** A JSON value as a Lua table constructor (JSON null becomes an absent key, as in Argo CD). */
export function toLua(v: unknown, floats = false): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return floats && Number.isInteger(v) ? `${v}.0` : String(v);
  if (typeof v === 'string') return luaString(v);
  if (Array.isArray(v)) return `{${v.map((x) => toLua(x, floats)).join(', ')}}`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== null && x !== undefined);
  return `{${entries.map(([k, x]) => `[${luaString(k)}] = ${toLua(x, floats)}`).join(', ')}}`;
}

function interpreters(): string[] {
  return ['lua5.4', 'lua5.1'].filter((bin) => spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0);
}

interface Health { status: string; message: string }

/** Runs health.lua once per object in one interpreter process. */
function runHealth(lua: string, objs: unknown[], floats: boolean): Health[] {
  const driver = [
    `local path = ${luaString(script)}`,
    'local chunk = assert(loadfile(path))',
    `local cases = {${objs.map((o) => toLua(o, floats)).join(',\n')}}`,
    'for i = 1, #cases do',
    '  obj = cases[i]',
    '  local hs = chunk()',
    '  local msg = hs.message or ""',
    '  msg = string.gsub(msg, "[\\r\\n\\t]", " ")',
    '  io.write(tostring(hs.status), "\\t", msg, "\\n")',
    'end',
  ].join('\n');
  const res = spawnSync(lua, ['-'], { input: driver, encoding: 'utf8' });
  assert.equal(res.status, 0, `${lua} failed: ${res.stderr}`);
  return res.stdout.trimEnd().split('\n').map((l) => {
    const [status = '', message = ''] = l.split('\t');
    return { status, message };
  });
}

const T = '2025-06-01T10:00:00Z';
function cond(type: string, status: string, reason: string, message = '', observedGeneration = 2) {
  return { type, status, reason, message, lastTransitionTime: T, observedGeneration };
}
function resource(status: unknown, generation = 2) {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePower',
    metadata: { name: 'dev-box', namespace: 'default', generation, uid: '8d1c7a4e-3f0b-4c59-9a57-0d2b3c4d5e6f', creationTimestamp: T },
    spec: { instanceId: 'i-demo000001', regionId: 'cn-hangzhou', desiredState: 'Stopped', stoppedMode: 'StopCharging', forceStop: false, confirmStop: false, hibernate: false, dryRun: false, driftPolicy: 'Enforce' },
    ...(status === undefined ? {} : { status }),
  };
}
const locked = 'InstanceLockedForSecurity: The specified operation is denied as your instance is locked for security reasons. (RequestId 7C3C8A2B-1D47-4E7B-9C0E-2F4F9E0B6A11)';

/** An EcsInstancePowerSet (FLEETS.md) as the controller records it. */
function fleet(status: unknown, generation = 2) {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePowerSet',
    metadata: { name: 'dev-fleet', namespace: 'team-a', generation, uid: '5e0f3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b', creationTimestamp: T },
    spec: { regionIds: ['cn-hangzhou', 'cn-shanghai'], tags: { env: 'dev', team: 'a' }, excludeTagKey: 'ecspower.io/exclude', refreshInterval: '5m', template: { spec: { scheduleRef: { name: 'office-hours' }, stoppedMode: 'StopCharging', forceStop: false, confirmStop: false, hibernate: false, dryRun: false, driftPolicy: 'Enforce' } } },
    ...(status === undefined ? {} : { status }),
  };
}
const all = (reason: string, message: string, readyStatus = 'True', g = 2) => [cond('Ready', readyStatus, reason, message, g), cond('Reconciling', 'False', reason, message, g), cond('Stalled', 'False', reason, message, g)];
const counts = (instances: number, ready: number, stalled = 0, conflicts = 0) => ({ observedGeneration: 2, instances, ready, stalled, conflicts, lastDiscoveryTime: T });
const forbidden = 'Forbidden.RAM: User not authorized to operate on the specified resource, or this API doesn\'t support RAM. (RequestId F6) (discovery in cn-shanghai)';

const setCases: { name: string; obj: unknown; status: string; message?: RegExp }[] = [
  { name: 'set: every member Ready (AllReady)', obj: fleet({ ...counts(300, 300, 0, 1), conditions: all('AllReady', '300 members Ready; 1 matching instance is managed by other resources (InstanceConflict events)') }), status: 'Healthy', message: /^AllReady: 300 members Ready/ },
  { name: 'set: nothing matches (NoInstances)', obj: fleet({ ...counts(0, 0), conditions: all('NoInstances', 'no instance matches the tags in the regions') }), status: 'Healthy', message: /^NoInstances: / },
  {
    name: 'set: members converging (Progressing)',
    obj: fleet({ ...counts(300, 120), conditions: [cond('Ready', 'False', 'Progressing', '120 of 300 members Ready, 180 converging'), cond('Reconciling', 'True', 'Progressing', '120 of 300 members Ready, 180 converging'), cond('Stalled', 'False', 'Progressing', '120 of 300 members Ready, 180 converging')] }),
    status: 'Progressing',
    message: /^Progressing: 120 of 300 members Ready, 180 converging$/,
  },
  {
    name: 'set: the only members not Ready are Stalled (MembersStalled)',
    obj: fleet({ ...counts(300, 298, 2), conditions: [cond('Ready', 'False', 'MembersStalled', '2 of 300 members are Stalled: dev-fleet-i-bp1a, dev-fleet-i-bp1b'), cond('Reconciling', 'False', 'MembersStalled', '2 of 300 members are Stalled: dev-fleet-i-bp1a, dev-fleet-i-bp1b'), cond('Stalled', 'True', 'MembersStalled', '2 of 300 members are Stalled: dev-fleet-i-bp1a, dev-fleet-i-bp1b')] }),
    status: 'Degraded',
    message: /^MembersStalled: 2 of 300 members are Stalled: dev-fleet-i-bp1a, dev-fleet-i-bp1b$/,
  },
  { name: 'set: discovery refused (Forbidden)', obj: fleet({ ...counts(120, 120), conditions: [cond('Ready', 'False', 'Forbidden', forbidden), cond('Reconciling', 'False', 'Forbidden', forbidden), cond('Stalled', 'True', 'Forbidden', forbidden)] }), status: 'Degraded', message: /^Forbidden: Forbidden\.RAM: .*discovery in cn-shanghai/ },
  { name: 'set: first discovery failed transiently (every condition Unknown)', obj: fleet({ observedGeneration: 2, instances: 0, ready: 0, stalled: 0, conflicts: 0, conditions: [cond('Ready', 'Unknown', 'Initializing', 'Not discovered yet'), cond('Reconciling', 'Unknown', 'Initializing', 'Not discovered yet'), cond('Stalled', 'Unknown', 'Initializing', 'Not discovered yet')] }), status: 'Progressing' },
  { name: 'set: the template changed and discovery is throttled (conditions kept, generation behind)', obj: fleet({ ...counts(300, 300), conditions: all('AllReady', '300 members Ready') }, 3), status: 'Progressing', message: /generation 3 .*generation 2/ },
  { name: 'set: no status yet', obj: fleet(undefined), status: 'Progressing', message: /status/ },
];

const cases: { name: string; obj: unknown; status: string; message?: RegExp }[] = [
  {
    name: 'Ready True (Stopped) for the current generation',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Stopped', lastRequestId: 'A1', conditions: [cond('Ready', 'True', 'Stopped', 'Instance i-demo000001 is Stopped'), cond('Reconciling', 'False', 'Stopped'), cond('Stalled', 'False', 'Stopped')] }),
    status: 'Healthy',
    message: /^Stopped: Instance i-demo000001 is Stopped$/,
  },
  {
    name: 'Ready True with DryRunSucceeded',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'True', 'DryRunSucceeded', 'DryRunOperation: Request validation has been passed with DryRun flag set. (RequestId B2)'), cond('Reconciling', 'False', 'DryRunSucceeded'), cond('Stalled', 'False', 'DryRunSucceeded')] }),
    status: 'Healthy',
    message: /DryRunSucceeded/,
  },
  {
    name: 'Ready True kept during a retried describe error (no flapping)',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Running', conditions: [cond('Ready', 'True', 'Running'), cond('Reconciling', 'True', 'Throttled', 'Throttling.User: Request was denied due to user flow control. (RequestId C3)'), cond('Stalled', 'False', 'Running')] }),
    status: 'Healthy',
  },
  {
    name: 'Stalled True with InstanceLockedForSecurity',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Running', conditions: [cond('Ready', 'False', 'InstanceLockedForSecurity', locked), cond('Reconciling', 'False', 'InstanceLockedForSecurity'), cond('Stalled', 'True', 'InstanceLockedForSecurity', locked)] }),
    status: 'Degraded',
    message: /^InstanceLockedForSecurity: InstanceLockedForSecurity: .*RequestId 7C3C8A2B/,
  },
  {
    name: 'Stalled True with InvalidCredentials, Ready still True from before',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'True', 'Stopped'), cond('Reconciling', 'False', 'InvalidCredentials'), cond('Stalled', 'True', 'InvalidCredentials', 'InvalidAccessKeyId.NotFound: Specified access key is not found. (RequestId D4)')] }),
    status: 'Degraded',
    message: /InvalidCredentials/,
  },
  {
    name: 'Reconciling True while the instance is Stopping',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Stopping', conditions: [cond('Ready', 'False', 'Stopping', 'Instance is Stopping'), cond('Reconciling', 'True', 'Stopping', 'Waiting for i-demo000001 to stop'), cond('Stalled', 'False', 'Stopping')] }),
    status: 'Progressing',
    message: /^Stopping: Waiting for i-demo000001 to stop$/,
  },
  {
    name: 'transient error retried (Reconciling True, Ready False)',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'False', 'ServiceUnavailable', 'ServiceUnavailable: The request has failed due to a temporary failure of the server. (RequestId E5)'), cond('Reconciling', 'True', 'ServiceUnavailable', 'ServiceUnavailable: The request has failed due to a temporary failure of the server. (RequestId E5)'), cond('Stalled', 'False', 'ServiceUnavailable')] }),
    status: 'Progressing',
    message: /ServiceUnavailable/,
  },
  {
    name: 'no status yet',
    obj: resource(undefined),
    status: 'Progressing',
    message: /status/,
  },
  {
    name: 'first visit: every condition Unknown',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'Unknown', 'Reconciling'), cond('Reconciling', 'Unknown', 'Reconciling'), cond('Stalled', 'Unknown', 'Reconciling')] }),
    status: 'Progressing',
  },
  {
    name: 'observedGeneration lags generation (Ready True describes the old spec)',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Stopped', conditions: [cond('Ready', 'True', 'Stopped'), cond('Reconciling', 'False', 'Stopped'), cond('Stalled', 'False', 'Stopped')] }, 3),
    status: 'Progressing',
    message: /generation 3 .*generation 2/,
  },
  {
    name: 'observedGeneration lags generation (Stalled True is about the old spec)',
    obj: resource({ observedGeneration: 1, conditions: [cond('Ready', 'False', 'InvalidSpec', 'x', 1), cond('Reconciling', 'False', 'InvalidSpec', '', 1), cond('Stalled', 'True', 'InvalidSpec', 'x', 1)] }, 2),
    status: 'Progressing',
  },
  {
    name: 'status without observedGeneration',
    obj: resource({ conditions: [cond('Ready', 'True', 'Stopped')] }),
    status: 'Progressing',
  },
  {
    name: 'Ready condition set for an older generation',
    obj: resource({ observedGeneration: 3, conditions: [cond('Ready', 'True', 'Stopped', '', 2), cond('Reconciling', 'False', 'Stopped', '', 2), cond('Stalled', 'False', 'Stopped', '', 2)] }, 3),
    status: 'Progressing',
  },
  {
    name: 'drift reported under driftPolicy Observe',
    obj: resource({ observedGeneration: 2, instanceStatus: 'Running', conditions: [cond('Ready', 'False', 'Drifted', 'Instance is Running, desired Stopped (driftPolicy Observe)'), cond('Reconciling', 'False', 'Drifted'), cond('Stalled', 'False', 'Drifted')] }),
    status: 'Progressing',
    message: /^Drifted: /,
  },
  {
    name: 'message with quotes, backslashes and non-ASCII',
    obj: resource({ observedGeneration: 2, conditions: [cond('Ready', 'False', 'EcsError', 'Unknown: "实例" \\ failed\nnext line'), cond('Reconciling', 'True', 'EcsError', 'Unknown: "实例" \\ failed\nnext line'), cond('Stalled', 'False', 'EcsError')] }),
    status: 'Progressing',
    message: /^EcsError: Unknown: "实例" \\ failed next line$/,
  },
];

describe('deploy/argocd/health.lua (Argo CD health check)', function () {
  const luas = interpreters();
  before(function () {
    // A missing tool is a failure, never a skip: .ci/run installs lua5.4.
    if (luas.length === 0) throw new Error('no Lua interpreter: apt-get install lua5.4 (.ci/run installs it)');
  });

  for (const floats of [false, true]) {
    it(`maps recorded statuses to Healthy / Degraded / Progressing (numbers as ${floats ? 'floats, like gopher-lua' : 'integers'})`, () => {
      for (const lua of luas) {
        const all = [...cases, ...setCases];
        const got = runHealth(lua, all.map((c) => c.obj), floats);
        assert.equal(got.length, all.length);
        all.forEach((c, i) => {
          const h = got[i]!;
          assert.equal(h.status, c.status, `${lua}: ${c.name} (message: ${h.message})`);
          assert.ok(h.message.length > 0 || c.status === 'Healthy', `${lua}: ${c.name} has a message`);
          if (c.message) assert.match(h.message, c.message, `${lua}: ${c.name}`);
        });
      }
    });
  }

  it('EcsPowerSchedule and EcsPowerOverride: Active and Expired are Healthy, InvalidSpec is Degraded', () => {
    for (const lua of luas) {
      for (const floats of [false, true]) {
        const got = runHealth(lua, RECORDED.map((c) => c.obj), floats);
        RECORDED.forEach((c, i) => {
          const h = got[i]!;
          assert.equal(h.status, c.health, `${lua}: ${c.name} (message: ${h.message})`);
          assert.ok(h.message.length > 0, `${lua}: ${c.name} has a message`);
          if (c.message) assert.match(h.message, c.message, `${lua}: ${c.name}`);
        });
      }
    }
  });

  it('converts JSON to Lua literals (test helper)', () => {
    assert.equal(toLua({ a: [1, 'x"\\'], b: null, c: true }), '{["a"] = {1, "x\\"\\\\"}, ["c"] = true}');
    assert.equal(toLua({ g: 2 }, true), '{["g"] = 2.0}');
    assert.equal(toLua('é\n'), '"\\195\\169\\010"');
  });
});
