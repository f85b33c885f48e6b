// The pure parts of the EcsInstancePowerSet controller: member naming, the settings the schema
// cannot check, and the plan of desired against existing members (table-driven).
import assert from 'node:assert/strict';
import type { EcsInstancePowerSet } from '../../src/api/powerset-types.ts';
import type { EcsInstancePower } from '../../src/api/types.ts';
import type { DiscoveredInstance } from '../../src/ecs/discovery.ts';
import { memberName, setLabelValue, templateHash } from '../../src/controllers/powerset/naming.ts';
import { desiredMember, planMembers, type Claimant, type PlanInput } from '../../src/controllers/powerset/plan.ts';
import { setSettings, type SetSettings } from '../../src/controllers/powerset/spec.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

describe('member names', () => {
  const cases: Array<{ set: string; instance: string; want?: string; length?: number }> = [
    { set: 'dev-fleet', instance: 'i-bp1abc', want: 'dev-fleet-i-bp1abc' },
    { set: 'a', instance: 'i-0', want: 'a-i-0' },
    { set: 'x'.repeat(240), instance: 'i-bp1abcdefghijk', length: 253 },
    { set: `${'a'.repeat(243)}.bcd`, instance: 'i-bp1abcdefghijk', length: 253 },
    { set: 'y'.repeat(253), instance: 'i-bp1abcdefghijk', length: 253 },
  ];
  for (const c of cases) {
    it(`${c.set.length}-character set, ${c.instance}: ${c.want ?? `cut to ${c.length} with a hash`}`, () => {
      const name = memberName(c.set, c.instance);
      if (c.want) assert.equal(name, c.want);
      if (c.length) {
        assert.ok(name.length <= c.length && name.length >= c.length - 9, `${name.length} characters`);
        assert.match(name, /-[0-9a-f]{8}$/);
      }
      assert.match(name, DNS_SUBDOMAIN);
    });
  }

  it('names cut to the same prefix still differ (the hash is of the whole name)', () => {
    const set = 'z'.repeat(250);
    assert.notEqual(memberName(set, 'i-aaaaaaaaaaaaaaaa1'), memberName(set, 'i-aaaaaaaaaaaaaaaa2'));
  });

  it('the set label is the set name, cut with a hash beyond 63 characters; a cut before a dot stays valid', () => {
    assert.equal(setLabelValue('dev-fleet'), 'dev-fleet');
    for (const name of ['s'.repeat(64), `${'s'.repeat(53)}.-x${'y'.repeat(20)}`, `${'a'.repeat(54)}.bcd.efgh.ijk`]) {
      const v = setLabelValue(name);
      assert.equal(v.length <= 63, true, v);
      assert.match(v, LABEL_VALUE);
    }
  });

  it('the template hash ignores key order and changes with any value', () => {
    const a = { metadata: { labels: { a: '1', b: '2' } }, spec: { desiredState: 'Stopped' } };
    const b = { spec: { desiredState: 'Stopped' }, metadata: { labels: { b: '2', a: '1' } } };
    assert.equal(templateHash(a), templateHash(b));
    assert.notEqual(templateHash(a), templateHash({ ...a, metadata: { labels: { a: '1' } } }));
  });
});

describe('setSettings(): what the schema cannot check', () => {
  const template = { spec: { desiredState: 'Stopped' as const } };
  const base = { regionIds: ['cn-hangzhou'], tags: { env: 'dev' }, template };
  const cases: Array<{ what: string; spec: object; invalid?: RegExp; settings?: Partial<SetSettings> }> = [
    { what: 'defaults', spec: base, settings: { excludeTagKey: 'ecspower.io/exclude', refreshIntervalMs: 300_000, regionIds: ['cn-hangzhou'] } },
    { what: 'duplicate regions once', spec: { ...base, regionIds: ['cn-hangzhou', 'cn-hangzhou', 'cn-shanghai'] }, settings: { regionIds: ['cn-hangzhou', 'cn-shanghai'] } },
    { what: '10s is the minimum', spec: { ...base, refreshInterval: '10s' }, settings: { refreshIntervalMs: 10_000 } },
    { what: 'a shorter interval', spec: { ...base, refreshInterval: '9s' }, invalid: /refreshInterval 9s is shorter than the minimum 10s/ },
    { what: 'not a duration', spec: { ...base, refreshInterval: '5 minutes' }, invalid: /not a duration/ },
    { what: 'no regions', spec: { ...base, regionIds: [] }, invalid: /regionIds must name 1 to 20 regions/ },
    { what: 'a bad region', spec: { ...base, regionIds: ['Hangzhou'] }, invalid: /"Hangzhou" is not a region ID/ },
    { what: 'no tags', spec: { ...base, tags: {} }, invalid: /tags must hold 1 to 20 entries/ },
    { what: 'a tag key too long', spec: { ...base, tags: { ['k'.repeat(129)]: 'v' } }, invalid: /must be 1 to 128 characters/ },
    { what: 'the exclude key among the tags', spec: { ...base, tags: { 'ecspower.io/exclude': 'x' } }, invalid: /nothing could match/ },
    { what: 'both desiredState and scheduleRef', spec: { ...base, template: { spec: { desiredState: 'Stopped', scheduleRef: { name: 's' } } } }, invalid: /exactly one of desiredState and scheduleRef/ },
    { what: 'a bad label key', spec: { ...base, template: { ...template, metadata: { labels: { 'bad key': 'x' } } } }, invalid: /"bad key" is not a valid label key/ },
    { what: 'a bad label value', spec: { ...base, template: { ...template, metadata: { labels: { tier: 'no spaces' } } } }, invalid: /value of tier is not a valid label value/ },
    { what: 'prefixed keys', spec: { ...base, template: { ...template, metadata: { labels: { 'example.com/tier': 'a' }, annotations: { 'example.com/note': 'free text' } } } }, settings: {} },
    { what: 'no spec', spec: undefined as unknown as object, invalid: /spec is missing/ },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const got = setSettings(c.spec as never);
      if (c.invalid) {
        assert.ok('invalid' in got, JSON.stringify(got));
        assert.match(got.invalid, c.invalid);
      } else {
        assert.ok(!('invalid' in got), JSON.stringify(got));
        for (const [k, v] of Object.entries(c.settings ?? {})) assert.deepEqual(got[k as keyof SetSettings], v, k);
      }
    });
  }
});

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const SET: EcsInstancePowerSet = {
  apiVersion: 'ecspower.io/v1alpha1',
  kind: 'EcsInstancePowerSet',
  metadata: { name: 'fleet', namespace: 'team-a', uid: 'set-uid', generation: 1 },
  spec: {
    regionIds: [HZ, SH],
    tags: { env: 'dev' },
    template: { metadata: { labels: { tier: 'batch' } }, spec: { desiredState: 'Stopped', stoppedMode: 'StopCharging' } },
  },
};
const SETTINGS = setSettings(SET.spec) as SetSettings;

const found = (instanceId: string, tags: Record<string, string> = { env: 'dev' }): DiscoveredInstance => ({ instanceId, status: 'Running', tags });

/** A member as the API server stores it (defaults filled in), in line with the template unless changed. */
function member(instanceId: string, regionId: string, change: (m: EcsInstancePower) => void = () => undefined): EcsInstancePower {
  const d = desiredMember(SET, regionId, instanceId);
  const m: EcsInstancePower = {
    apiVersion: d.apiVersion,
    kind: d.kind,
    metadata: { ...structuredClone(d.metadata), uid: `uid-${instanceId}`, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
    spec: { forceStop: false, confirmStop: false, hibernate: false, dryRun: false, driftPolicy: 'Enforce', ...structuredClone(d.spec) },
  };
  change(m);
  return m;
}

function plan(over: Partial<PlanInput>) {
  return planMembers({
    set: SET,
    settings: SETTINGS,
    owned: [],
    discovered: new Map(),
    failed: new Set(),
    foreignClaimants: () => [],
    foreignByName: () => undefined,
    ...over,
  });
}

const names = (p: ReturnType<typeof plan>) => ({
  apply: p.apply.map((m) => m.metadata.name).sort(),
  delete: p.delete.map((m) => m.name).sort(),
  conflicts: p.conflicts.map((c) => `${c.regionId}/${c.instanceId}<${c.owner}`),
  members: p.members,
});

describe('planMembers(): desired against existing members', () => {
  const older: Claimant = { key: 'team-a/hand-written', creationTimestamp: '2025-06-01T00:00:00Z' };
  const newer: Claimant = { key: 'team-a/late', creationTimestamp: '2026-06-01T00:00:00Z' };
  const cases: Array<{ what: string; input: Partial<PlanInput>; want: ReturnType<typeof names> }> = [
    {
      what: 'new instances get members',
      input: { discovered: new Map([[HZ, [found('i-a'), found('i-b')]], [SH, [found('i-c')]]]) },
      want: { apply: ['fleet-i-a', 'fleet-i-b', 'fleet-i-c'], delete: [], conflicts: [], members: ['fleet-i-a', 'fleet-i-b', 'fleet-i-c'] },
    },
    {
      what: 'members in line with the template are left alone',
      input: { owned: [member('i-a', HZ)], discovered: new Map([[HZ, [found('i-a')]]]) },
      want: { apply: [], delete: [], conflicts: [], members: ['fleet-i-a'] },
    },
    {
      what: 'an instance carrying the exclude tag gets no member, and loses its member',
      input: { owned: [member('i-a', HZ)], discovered: new Map([[HZ, [found('i-a', { env: 'dev', 'ecspower.io/exclude': '' }), found('i-b', { env: 'dev', 'ecspower.io/exclude': 'yes' })]]]) },
      want: { apply: [], delete: ['fleet-i-a'], conflicts: [], members: [] },
    },
    {
      what: 'a member whose instance was not found (released, tag removed) is deleted',
      input: { owned: [member('i-a', HZ), member('i-b', HZ)], discovered: new Map([[HZ, [found('i-b')]]]) },
      want: { apply: [], delete: ['fleet-i-a'], conflicts: [], members: ['fleet-i-b'] },
    },
    {
      what: 'a failed region changes nothing there, not even a member out of line; the other region goes on',
      input: {
        owned: [member('i-a', HZ, (m) => (m.spec.stoppedMode = 'KeepCharging')), member('i-s', SH)],
        discovered: new Map([[SH, []]]),
        failed: new Set([HZ]),
      },
      want: { apply: [], delete: ['fleet-i-s'], conflicts: [], members: ['fleet-i-a'] },
    },
    {
      what: 'without discovery (a member changed), members are only brought in line with the template',
      input: { owned: [member('i-a', HZ, (m) => (m.spec.desiredState = 'Running')), member('i-b', SH)] },
      want: { apply: ['fleet-i-a'], delete: [], conflicts: [], members: ['fleet-i-a', 'fleet-i-b'] },
    },
    {
      what: 'a member of a region the set no longer names is deleted',
      input: { owned: [member('i-x', 'cn-beijing')] },
      want: { apply: [], delete: ['fleet-i-x'], conflicts: [], members: [] },
    },
    {
      what: 'a label removed by hand, the owner reference lost, or an older template: applied again',
      input: {
        owned: [
          member('i-a', HZ, (m) => delete m.metadata.labels!['tier']),
          member('i-b', HZ, (m) => (m.metadata.ownerReferences = [])),
          member('i-c', HZ, (m) => (m.metadata.annotations!['ecspower.io/template-hash'] = 'older')),
          member('i-d', HZ, (m) => (m.metadata.labels!['hold'] = 'true')),
        ],
        discovered: new Map([[HZ, ['i-a', 'i-b', 'i-c', 'i-d'].map((i) => found(i))]]),
      },
      want: { apply: ['fleet-i-a', 'fleet-i-b', 'fleet-i-c'], delete: [], conflicts: [], members: ['fleet-i-a', 'fleet-i-b', 'fleet-i-c', 'fleet-i-d'] },
    },
    {
      what: 'an instance named by an older resource of someone else: a conflict, no member (an existing newer member goes)',
      input: {
        owned: [member('i-b', HZ)],
        discovered: new Map([[HZ, [found('i-a'), found('i-b')]]]),
        foreignClaimants: (_r, i) => (i === 'i-a' || i === 'i-b' ? [older] : []),
      },
      want: { apply: [], delete: ['fleet-i-b'], conflicts: [`${HZ}/i-a<team-a/hand-written`, `${HZ}/i-b<team-a/hand-written`], members: [] },
    },
    {
      what: 'a resource newer than the member does not take the instance away',
      input: { owned: [member('i-a', HZ)], discovered: new Map([[HZ, [found('i-a')]]]), foreignClaimants: () => [newer] },
      want: { apply: [], delete: [], conflicts: [], members: ['fleet-i-a'] },
    },
    {
      what: 'a resource of the member\'s name that the set does not own: a conflict',
      input: { discovered: new Map([[SH, [found('i-n')]]]), foreignByName: (n) => (n === 'fleet-i-n' ? newer : undefined) },
      want: { apply: [], delete: [], conflicts: [`${SH}/i-n<team-a/late`], members: [] },
    },
  ];
  for (const c of cases) it(c.what, () => assert.deepEqual(names(plan(c.input)), c.want));

  it('a desired member: template labels plus the set label, annotations, owner reference, template spec plus instance and region', () => {
    const d = desiredMember(SET, SH, 'i-q');
    assert.deepEqual(d.metadata.labels, { tier: 'batch', 'ecspower.io/set': 'fleet' });
    assert.equal(d.metadata.annotations['ecspower.io/template-hash'], templateHash(SET.spec.template));
    assert.deepEqual(d.metadata.ownerReferences, [{ apiVersion: 'ecspower.io/v1alpha1', kind: 'EcsInstancePowerSet', name: 'fleet', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(d.spec, { desiredState: 'Stopped', stoppedMode: 'StopCharging', instanceId: 'i-q', regionId: SH });
    assert.equal(d.metadata.namespace, 'team-a');
  });
});
