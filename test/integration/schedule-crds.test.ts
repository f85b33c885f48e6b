// The CRDs of SCHEDULES.md on the real API server (Kubernetes 1.20): valid schedules, overrides
// and scheduleRef resources are accepted; invalid ones are refused at admission with the field
// named; `kubectl explain` shows the descriptions; `kubectl get` shows the printer columns.
// kubectl runs with --validate=false so that the API server, not kubectl, is what refuses.
import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

const NS = 'it-schedule-crds';
const API_VERSION = 'ecspower.io/v1alpha1';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: unknown };

const schedule = (name: string, spec: Record<string, unknown>): Manifest => ({ apiVersion: API_VERSION, kind: 'EcsPowerSchedule', metadata: { name }, spec });
const override = (name: string, spec: Record<string, unknown>): Manifest => ({ apiVersion: API_VERSION, kind: 'EcsPowerOverride', metadata: { name }, spec });
const power = (name: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: API_VERSION,
  kind: 'EcsInstancePower',
  metadata: { name, labels: { app: 'batch' } },
  spec: { instanceId: 'i-sched000001', regionId: 'cn-hangzhou', ...spec },
});

const officeHours = {
  timeZone: 'Asia/Shanghai',
  running: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '08:00', to: '20:00' }],
  exceptions: [{ from: '2026-10-01T00:00:00+08:00', to: '2026-10-08T00:00:00+08:00', desiredState: 'Stopped', reason: 'National Day' }],
};
const wakeUp = { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: '2026-12-01T22:00:00+08:00', reason: 'INC-1234 needs the batch hosts tonight' };
const window = (w: Record<string, unknown>) => ({ ...officeHours, running: [{ from: '08:00', to: '20:00', ...w }] });
const exception = (e: Record<string, unknown>) => ({ ...officeHours, exceptions: [{ ...officeHours.exceptions[0], ...e }] });

describe('schedule CRDs on the API server (Kubernetes 1.20)', function () {
  this.timeout(60_000);
  let cluster: TestCluster;

  before(async function () {
    this.timeout(180_000);
    cluster = await sharedCluster();
    const created = await cluster.kubectl(['create', 'namespace', NS]);
    assert.equal(created.code, 0, created.stderr);
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  /** One kubectl call for many objects: it goes on past refused ones and reports each on stderr. */
  const createAll = (items: Manifest[]) =>
    cluster.kubectl(['create', '--validate=false', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  const kubectl = async (args: string[]): Promise<string> => {
    const r = await cluster.kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it('accepts the examples of SCHEDULES.md, edge values, and EcsInstancePower with desiredState or scheduleRef', async () => {
    const valid: Manifest[] = [
      schedule('office-hours', officeHours),
      schedule('always-stopped', { timeZone: 'UTC' }),
      schedule('empty-running', { timeZone: 'Europe/Berlin', running: [], exceptions: [] }),
      schedule('edges', { timeZone: 'America/Argentina/Buenos_Aires', running: [{ from: '00:00', to: '24:00' }, { days: ['Sun'], from: '22:00', to: '06:00' }, { from: '23:59', to: '23:59' }] }),
      schedule('fifty-windows', { timeZone: 'UTC', running: Array.from({ length: 50 }, () => ({ from: '08:00', to: '20:00' })) }),
      schedule('long-reason', exception({ reason: 'x'.repeat(256), from: '2026-10-01T00:00:00.5Z' })),
      override('inc-1234', wakeUp),
      override('select-all', { ...wakeUp, selector: {}, desiredState: 'Stopped' }),
      override('expressions', { ...wakeUp, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['batch'] }, { key: 'tier', operator: 'Exists' }] } }),
      power('by-spec', { desiredState: 'Stopped' }),
      power('by-schedule', { scheduleRef: { name: 'office-hours' } }),
    ];
    const r = await createAll(valid);
    assert.equal(r.code, 0, r.stderr);
    for (const m of valid) assert.match(r.stdout, new RegExp(`^${m.kind.toLowerCase()}\\.ecspower\\.io/${m.metadata.name} created$`, 'm'));
  });

  // [what, manifest, a pattern the API server's message must contain (it names the field)]
  const invalid: [string, Manifest, RegExp][] = [
    ['from without a leading zero', schedule('bad-from', window({ from: '8:00' })), /spec\.running(\[0\])?\.from/],
    ['to 24:01', schedule('bad-to', window({ to: '24:01' })), /spec\.running(\[0\])?\.to/],
    ['a day spelled out', schedule('bad-day', window({ days: ['Monday'] })), /spec\.running(\[0\])?\.days(\[0\])?: Unsupported value: "Monday"/],
    ['a day twice', schedule('twice', window({ days: ['Mon', 'Mon'] })), /spec\.running(\[0\])?\.days(\[1\])?: Duplicate value: "Mon"/],
    ['an empty list of days', schedule('no-days', window({ days: [] })), /spec\.running(\[0\])?\.days/],
    ['51 windows', schedule('too-many-windows', { timeZone: 'UTC', running: Array.from({ length: 51 }, () => ({ from: '08:00', to: '20:00' })) }), /spec\.running: (Too many: 51: must have at most 50 items|Invalid value: 51: spec\.running in body should have at most 50 items)/],
    ['101 exceptions', schedule('too-many-exceptions', { timeZone: 'UTC', exceptions: Array.from({ length: 101 }, () => officeHours.exceptions[0]) }), /spec\.exceptions: (Too many: 101: must have at most 100 items|Invalid value: 101: spec\.exceptions in body should have at most 100 items)/],
    ['a reason of 257 characters', schedule('long-reason-2', exception({ reason: 'x'.repeat(257) })), /spec\.exceptions(\[0\])?\.reason: (Too long|Invalid value: .* should be at most 256 chars long)/],
    ['an exception without an offset', schedule('no-offset', exception({ from: '2026-10-01T00:00:00' })), /spec\.exceptions(\[0\])?\.from/],
    ['an exception state Off', schedule('state-off', exception({ desiredState: 'Off' })), /spec\.exceptions(\[0\])?\.desiredState: Unsupported value: "Off"/],
    ['no time zone', schedule('no-zone', { running: [] }), /spec\.timeZone: Required value/],
    ['an offset as time zone', schedule('offset-zone', { timeZone: '+08:00' }), /spec\.timeZone/],
    ['an override without selector', override('no-selector', { desiredState: 'Running', until: wakeUp.until }), /spec\.selector: Required value/],
    ['an override until that is no date-time', override('bad-until', { ...wakeUp, until: 'tonight' }), /spec\.until/],
    ['an override reason of 257 characters', override('long-reason', { ...wakeUp, reason: 'x'.repeat(257) }), /spec\.reason: (Too long|Invalid value: .* should be at most 256 chars long)/],
    ['an override operator Equals', override('bad-operator', { ...wakeUp, selector: { matchExpressions: [{ key: 'app', operator: 'Equals' }] } }), /spec\.selector\.matchExpressions(\[0\])?\.operator: Unsupported value: "Equals"/],
    // Kubernetes 1.20 words it: <nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives
    ['both desiredState and scheduleRef', power('both', { desiredState: 'Running', scheduleRef: { name: 'office-hours' } }), /"?spec"?:? .*must validate one and only one schema \(oneOf\)\. Found 2 valid alternatives/],
    ['neither desiredState nor scheduleRef', power('neither', {}), /"?spec"?:? .*must validate one and only one schema \(oneOf\)\. Found none valid/],
    ['a scheduleRef without a name', power('ref-no-name', { scheduleRef: {} }), /spec\.scheduleRef\.name: Required value/],
  ];
  describe('refuses at admission, naming the field', () => {
    /** The API server's answer per object name. */
    const refusals = new Map<string, string>();
    let created = '';
    before(async () => {
      const r = await createAll(invalid.map(([, m]) => m));
      created = r.stdout;
      for (const chunk of r.stderr.split(/^(?=Error from server)/m)) {
        const name = /"([a-z0-9-]+)" is invalid/.exec(chunk)?.[1];
        if (name) refusals.set(name, chunk);
      }
    });
    for (const [what, manifest, message] of invalid) {
      it(what, () => {
        const answer = refusals.get(manifest.metadata.name);
        assert.ok(answer !== undefined, `${manifest.kind} ${manifest.metadata.name} was not refused: ${created}`);
        assert.match(answer, message);
      });
    }
  });

  it('kubectl explain shows the descriptions', async function () {
    this.timeout(120_000);
    // `kubectl explain X` prints the description of X and of each of its fields
    const cases: [string, RegExp[]][] = [
      ['ecspowerschedule.spec', [/timeZone\b.*IANA time zone name/, /running\b.*Windows in which the desired state is Running/, /exceptions\b.*the last one in the list wins/]],
      ['ecspowerschedule.spec.running', [/days\b.*The days on which the window starts/, /from\b.*Local wall-clock start/, /to\b.*HH:MM or 24:00/]],
      ['ecspowerschedule.status', [/nextTransition\b.*absent when it never changes/]],
      ['ecspoweroverride.spec', [/selector\b.*selects all of them/, /until\b.*ends by itself/]],
      ['ecspoweroverride.status', [/matched\b.*0 once it has ended/]],
      ['ecsinstancepower.spec', [/scheduleRef\b.*EcsPowerSchedule in the same namespace/]],
      ['ecsinstancepower.status', [/desiredStateSource\b.*EcsPowerOverride\/<name>/]],
    ];
    // The API server publishes a new CRD's schema in its OpenAPI document up to a minute after
    // the CRD is established (the aggregator refreshes it periodically); a cluster that has just
    // started may not have it yet.
    await eventually('the OpenAPI document to describe the schedule CRDs', async () => (await cluster.kubectl(['explain', 'ecspowerschedule'])).code === 0, 90_000, undefined, 2_000);
    const outputs = await Promise.all(cases.map(([field]) => kubectl(['explain', field])));
    cases.forEach(([field, descriptions], i) => {
      const text = outputs[i]!.replace(/\s+/g, ' '); // kubectl wraps the text
      for (const d of descriptions) assert.match(text, d, field);
    });
  });

  it('kubectl get shows the printer columns, by short name and by category', async () => {
    const condition = (reason: string) => ({ type: 'Ready', status: 'True', reason, message: 'm', lastTransitionTime: '2026-11-01T00:00:00Z', observedGeneration: 1 });
    const patchStatus = (resource: string, status: unknown) =>
      kubectl(['patch', resource, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    await patchStatus('ecspowerschedule/office-hours', {
      observedGeneration: 1,
      desiredState: 'Stopped',
      nextTransition: { time: '2026-11-09T00:00:00Z', desiredState: 'Running' },
      conditions: [condition('Active')],
    });
    await patchStatus('ecspoweroverride/inc-1234', { observedGeneration: 1, matched: 2, conditions: [condition('Active')] });
    await patchStatus('ecsinstancepower/by-schedule', { desiredState: 'Stopped', desiredStateSource: 'EcsPowerSchedule/office-hours' });

    const table = async (args: string[]): Promise<string[][]> =>
      (await kubectl(['get', ...args, '-n', NS])).trim().split('\n').map((line) => line.trim().split(/\s{2,}/));
    const [scheduleHeader, scheduleRow] = await table(['ecsschedule', 'office-hours']);
    assert.deepEqual(scheduleHeader, ['NAME', 'TIMEZONE', 'DESIRED', 'NEXT', 'READY', 'AGE']);
    assert.deepEqual(scheduleRow!.slice(0, 5), ['office-hours', 'Asia/Shanghai', 'Stopped', '2026-11-09T00:00:00Z', 'True']);
    const [overrideHeader, overrideRow] = await table(['ecsoverride', 'inc-1234']);
    assert.deepEqual(overrideHeader, ['NAME', 'DESIRED', 'UNTIL', 'MATCHED', 'READY', 'REASON', 'AGE']);
    assert.deepEqual(overrideRow!.slice(0, 6), ['inc-1234', 'Running', '2026-12-01T22:00:00+08:00', '2', 'True', 'Active']);
    const [powerHeader, powerRow] = await table(['ecspower', 'by-schedule']);
    assert.deepEqual(powerHeader!.slice(0, 4), ['NAME', 'INSTANCE', 'REGION', 'DESIRED']);
    assert.deepEqual(powerRow!.slice(0, 4), ['by-schedule', 'i-sched000001', 'cn-hangzhou', 'Stopped']);

    const names = await kubectl(['get', 'ecs', '-n', NS, '-o', 'name']);
    for (const n of ['ecspowerschedule.ecspower.io/office-hours', 'ecspoweroverride.ecspower.io/inc-1234', 'ecsinstancepower.ecspower.io/by-schedule']) {
      assert.ok(names.split('\n').includes(n), `category ecs lists ${n}: ${names}`);
    }
  });
});
