// The EcsPowerOverride status for (override, matched, now, --max-override-duration), and
// overridesInForce(): which overrides govern a resource's labels, newest first.
import assert from 'node:assert/strict';
import type { Condition } from '../../src/api/types.ts';
import { DEFAULT_MAX_OVERRIDE_DURATION_MS, type EcsPowerOverride, type EcsPowerOverrideSpec, type EcsPowerOverrideStatus } from '../../src/api/schedule-types.ts';
import { overrideStatus } from '../../src/controllers/override/status.ts';
import { countInForce, overridesInForce } from '../../src/controllers/override/in-force.ts';

const CREATED = '2026-11-29T20:00:00Z';
const MAX = DEFAULT_MAX_OVERRIDE_DURATION_MS;
const wake: EcsPowerOverrideSpec = { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: '2026-11-30T06:00:00+08:00', reason: 'INC-1234' };

function override(spec: unknown, meta: { name?: string; created?: string; generation?: number; deleting?: boolean } = {}, status?: EcsPowerOverrideStatus): EcsPowerOverride {
  return {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerOverride',
    metadata: {
      name: meta.name ?? 'inc-1234',
      namespace: 'team-a',
      generation: meta.generation ?? 2,
      // as the informer cache holds it: the API's string
      creationTimestamp: (meta.created ?? CREATED) as unknown as Date,
      ...(meta.deleting ? { deletionTimestamp: '2026-11-29T21:00:00Z' as unknown as Date } : {}),
    },
    spec: spec as EcsPowerOverrideSpec,
    ...(status ? { status } : {}),
  };
}
const cond = (s: EcsPowerOverrideStatus, type: Condition['type']) => s.conditions?.find((c) => c.type === type);
const summary = (s: EcsPowerOverrideStatus) => s.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration]);

describe('overrideStatus()', () => {
  const table: { name: string; spec: unknown; now: string; matched: number; max?: number; want: [string, string][]; wantMatched: number; endsAt?: string; message: RegExp }[] = [
    {
      name: 'in force: Ready True Active, matched counted, requeued at until',
      spec: wake,
      now: '2026-11-29T21:00:00Z',
      matched: 3,
      want: [['True', 'Active'], ['False', 'Active'], ['False', 'Active']],
      wantMatched: 3,
      endsAt: '2026-11-29T22:00:00Z',
      message: /^Holds the selected EcsInstancePowers Running until 2026-11-29T22:00:00Z \(INC-1234\)$/,
    },
    {
      name: 'a millisecond before until: still in force',
      spec: wake,
      now: '2026-11-29T21:59:59.999Z',
      matched: 1,
      want: [['True', 'Active'], ['False', 'Active'], ['False', 'Active']],
      wantMatched: 1,
      endsAt: '2026-11-29T22:00:00Z',
      message: /until/,
    },
    { name: 'at until: Expired (Ready True, not an error), matched 0', spec: wake, now: '2026-11-29T22:00:00Z', matched: 3, want: [['True', 'Expired'], ['False', 'Expired'], ['False', 'Expired']], wantMatched: 0, message: /^Ended at 2026-11-29T22:00:00Z \(INC-1234\)$/ },
    {
      name: 'until beyond --max-override-duration: Stalled InvalidSpec, no effect',
      spec: { ...wake, until: '2026-12-06T20:00:01Z' },
      now: '2026-11-29T21:00:00Z',
      matched: 3,
      want: [['False', 'InvalidSpec'], ['False', 'InvalidSpec'], ['True', 'InvalidSpec']],
      wantMatched: 0,
      message: /^spec\.until: .*maximum override duration \(168h\)/,
    },
    { name: 'exactly the maximum is valid', spec: { ...wake, until: '2026-12-06T20:00:00Z' }, now: '2026-11-29T21:00:00Z', matched: 2, want: [['True', 'Active'], ['False', 'Active'], ['False', 'Active']], wantMatched: 2, endsAt: '2026-12-06T20:00:00Z', message: /Running until/ },
    { name: 'a shorter --max-override-duration', spec: wake, now: '2026-11-29T21:00:00Z', matched: 2, max: HOURS(1), want: [['False', 'InvalidSpec'], ['False', 'InvalidSpec'], ['True', 'InvalidSpec']], wantMatched: 0, message: /\(1h\)/ },
    {
      name: 'a bad selector',
      spec: { ...wake, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
      now: '2026-11-29T21:00:00Z',
      matched: 3,
      want: [['False', 'InvalidSpec'], ['False', 'InvalidSpec'], ['True', 'InvalidSpec']],
      wantMatched: 0,
      message: /^spec\.selector\.matchExpressions\[0\]\.values: /,
    },
    { name: 'no spec', spec: undefined, now: '2026-11-29T21:00:00Z', matched: 0, want: [['False', 'InvalidSpec'], ['False', 'InvalidSpec'], ['True', 'InvalidSpec']], wantMatched: 0, message: /^spec: / },
  ];
  for (const c of table) {
    it(c.name, () => {
      const { status, endsAt } = overrideStatus(override(c.spec), c.matched, new Date(c.now), c.max ?? MAX);
      assert.equal(status.observedGeneration, 2);
      assert.equal(status.matched, c.wantMatched);
      assert.deepEqual(summary(status), [['Ready', ...c.want[0]!, 2], ['Reconciling', ...c.want[1]!, 2], ['Stalled', ...c.want[2]!, 2]]);
      assert.equal(endsAt, c.endsAt ? Date.parse(c.endsAt) : undefined);
      assert.match(cond(status, c.want[2]![0] === 'True' ? 'Stalled' : 'Ready')!.message, c.message);
    });
  }

  it('Active -> Expired keeps Ready lastTransitionTime (it stays True); matched changes nothing else', () => {
    const s0 = overrideStatus(override(wake), 2, new Date('2026-11-29T20:00:05Z'), MAX).status;
    const s1 = overrideStatus(override(wake, {}, s0), 3, new Date('2026-11-29T21:00:00Z'), MAX).status;
    assert.deepEqual({ ...s1, matched: 2 }, s0);
    const s2 = overrideStatus(override(wake, {}, s1), 3, new Date('2026-11-29T22:00:00Z'), MAX).status;
    assert.equal(cond(s2, 'Ready')!.reason, 'Expired');
    assert.equal(cond(s2, 'Ready')!.lastTransitionTime, '2026-11-29T20:00:05Z');
  });
});

function HOURS(n: number): number {
  return n * 3600_000;
}

describe('overridesInForce()', () => {
  const now = Date.parse('2026-11-29T21:00:00Z');
  const batch = { app: 'batch', tier: 'worker' };
  const all = [
    override(wake, { name: 'old', created: '2026-11-29T19:00:00Z' }),
    override({ ...wake, desiredState: 'Stopped' }, { name: 'newest', created: '2026-11-29T20:30:00Z' }),
    override(wake, { name: 'b-same-second', created: '2026-11-29T20:00:00Z' }),
    override(wake, { name: 'a-same-second', created: '2026-11-29T20:00:00Z' }),
    override({ ...wake, until: '2026-11-29T20:59:59Z' }, { name: 'expired', created: '2026-11-29T20:45:00Z' }),
    override({ ...wake, until: '2026-12-30T00:00:00Z' }, { name: 'too-long', created: '2026-11-29T20:50:00Z' }),
    override(wake, { name: 'deleting', created: '2026-11-29T20:55:00Z', deleting: true }),
    override({ ...wake, selector: { matchLabels: { app: 'web' } } }, { name: 'other-app', created: '2026-11-29T20:56:00Z' }),
    override({ ...wake, selector: {} }, { name: 'everything', created: '2026-11-29T18:00:00Z' }),
    override({ ...wake, selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['worker'] }] } }, { name: 'not-workers', created: '2026-11-29T20:57:00Z' }),
  ];
  const table: [string, Record<string, string> | undefined, number | string, string[]][] = [
    ['newest creationTimestamp first; in the same second by name; invalid, expired, deleting and unselecting ones left out', batch, now, ['newest', 'a-same-second', 'b-same-second', 'old', 'everything']],
    ['a resource without labels: only {} and NotIn select it', undefined, now, ['not-workers', 'everything']],
    ['web: its own override and {}', { app: 'web' }, now, ['not-workers', 'other-app', 'everything']],
    ['after every until: none', batch, '2026-11-29T22:00:00Z', []],
    ['before its until an override is in force, ranked by its creation', batch, '2026-11-29T20:59:58Z', ['expired', 'newest', 'a-same-second', 'b-same-second', 'old', 'everything']],
  ];
  for (const [name, labels, at, want] of table) {
    it(name, () => {
      const instant = typeof at === 'string' ? new Date(at) : at;
      assert.deepEqual(overridesInForce(all, labels, instant, MAX).map((o) => o.metadata.name), want);
    });
  }

  it('countInForce() counts valid overrides before their until, whatever they select', () => {
    assert.equal(countInForce(all, now, MAX), 7);
    assert.equal(countInForce(all, Date.parse('2026-11-29T22:00:00Z'), MAX), 0);
    assert.equal(countInForce([], now, MAX), 0);
  });
});
