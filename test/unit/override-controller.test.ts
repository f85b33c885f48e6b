// The EcsPowerOverride controller on a fake clock: `matched` follows the labels of the
// EcsInstancePowers of its namespace (only label changes, creation and deletion requeue it), the
// override expires by itself at `until`, and ecspower_overrides_active counts what is in force.
import assert from 'node:assert/strict';
import type { EcsPowerOverride, EcsPowerOverrideSpec, EcsPowerOverrideStatus } from '../../src/api/schedule-types.ts';
import type { EcsInstancePower } from '../../src/api/types.ts';
import { OVERRIDE_CONTROLLER_NAME, setUpOverrideController } from '../../src/controllers/override/setup.ts';
import { silentLogger } from '../../src/log.ts';
import { keyOf } from '../../src/runtime/informer.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import type { StatusWriter } from '../../src/runtime/status-writer.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { FakeInformer } from '../support/fake-informer.ts';

const START = Date.parse('2026-11-29T20:00:00Z');
const MINUTE = 60_000;

function harness() {
  const clock = new FakeClock(START);
  const overrides = new FakeInformer<EcsPowerOverride>();
  const powers = new FakeInformer<EcsInstancePower>();
  const writes: { at: number; key: string; status: EcsPowerOverrideStatus }[] = [];
  const status: StatusWriter<EcsPowerOverrideStatus> = {
    write: async (obj, next) => {
      writes.push({ at: clock.now(), key: keyOf(obj), status: next });
      overrides.emit('update', { ...(obj as EcsPowerOverride), status: next });
    },
  };
  const metrics = new Metrics({ defaultMetrics: false });
  const runner = setUpOverrideController({
    overrides: overrides.asInformer(),
    powers: powers.asInformer(),
    status,
    maxOverrideDurationMs: 168 * 3600_000,
    workers: 2,
    metrics,
    clock,
    log: silentLogger,
  });
  const reconciles = async (): Promise<number> =>
    (await metrics.reconcileTotal.get()).values.filter((v) => v.labels['controller'] === OVERRIDE_CONTROLLER_NAME).reduce((n, v) => n + v.value, 0);
  const active = async (): Promise<number> => (await metrics.overridesActive.get()).values[0]?.value ?? NaN;
  const power = (namespace: string, name: string, labels: Record<string, string>, extra: Partial<EcsInstancePower> = {}): EcsInstancePower => ({
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsInstancePower',
    metadata: { namespace, name, labels, generation: 1 },
    spec: { instanceId: `i-${name}`, regionId: 'cn-hangzhou', desiredState: 'Stopped' },
    ...extra,
  });
  const override = (name: string, spec: Partial<EcsPowerOverrideSpec>, createdAt = clock.now()): EcsPowerOverride => ({
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerOverride',
    metadata: { namespace: 'team-a', name, generation: 1, creationTimestamp: new Date(createdAt).toISOString() as unknown as Date },
    spec: { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: new Date(createdAt + 30 * MINUTE).toISOString(), ...spec },
  });
  const last = (key: string) => writes.filter((w) => w.key === key).at(-1)?.status;
  const ready = (key: string) => last(key)?.conditions?.find((c) => c.type === 'Ready')?.reason;
  return { clock, overrides, powers, writes, runner, reconciles, active, power, override, last, ready };
}

describe('EcsPowerOverride controller (fake clock)', () => {
  it('matched follows creation, relabelling and deletion of the resources of its namespace only', async () => {
    const h = harness();
    h.powers.emit('add', h.power('team-a', 'b1', { app: 'batch' }));
    h.powers.emit('add', h.power('team-a', 'b2', { app: 'batch' }));
    h.powers.emit('add', h.power('team-a', 'w1', { app: 'web' }));
    h.powers.emit('add', h.power('team-b', 'b1', { app: 'batch' }));
    h.runner.start();
    h.overrides.emit('add', h.override('wake', {}));
    await h.clock.advanceAsync(0);
    assert.deepEqual([h.last('team-a/wake')?.matched, h.ready('team-a/wake')], [2, 'Active']);

    const steps: [string, () => void, number][] = [
      ['w1 relabelled to batch', () => h.powers.emit('update', h.power('team-a', 'w1', { app: 'batch' })), 3],
      ['b1 loses its label', () => h.powers.emit('update', h.power('team-a', 'b1', {})), 2],
      ['a new batch resource', () => h.powers.emit('add', h.power('team-a', 'b3', { app: 'batch', extra: 'x' })), 3],
      ['b2 deleted', () => h.powers.emit('delete', h.power('team-a', 'b2', { app: 'batch' })), 2],
      ['a batch resource in another namespace', () => h.powers.emit('add', h.power('team-b', 'b9', { app: 'batch' })), 2],
    ];
    for (const [name, step, matched] of steps) {
      step();
      await h.clock.advanceAsync(0);
      assert.equal(h.last('team-a/wake')?.matched, matched, name);
    }
  });

  it('status-only updates of resources, and label changes it does not care about, reconcile nothing', async () => {
    const h = harness();
    h.powers.emit('add', h.power('team-a', 'b1', { app: 'batch' }));
    h.powers.emit('add', h.power('team-a', 'w1', { app: 'web' }));
    h.runner.start();
    h.overrides.emit('add', h.override('wake', {}));
    await h.clock.advanceAsync(0);
    const before = await h.reconciles();
    h.powers.emit('update', h.power('team-a', 'b1', { app: 'batch' }, { status: { observedGeneration: 1, instanceStatus: 'Running' } }));
    h.powers.emit('update', h.power('team-a', 'w1', { app: 'web', tier: 'front' })); // selected neither before nor after
    h.powers.emit('add', h.power('team-b', 'b1', { app: 'batch' }));
    await h.clock.advanceAsync(MINUTE);
    assert.equal(await h.reconciles(), before);
  });

  it('expires by itself at until (matched 0), not before, then nothing more; ecspower_overrides_active follows', async () => {
    const h = harness();
    h.powers.emit('add', h.power('team-a', 'b1', { app: 'batch' }));
    h.runner.start();
    assert.equal(await h.active(), 0, 'exists at 0 from start-up');
    h.overrides.emit('add', h.override('wake', {}));
    await h.clock.advanceAsync(0);
    assert.equal(await h.active(), 1);
    await h.clock.advanceAsync(30 * MINUTE - 1);
    assert.deepEqual([h.ready('team-a/wake'), h.last('team-a/wake')?.matched], ['Active', 1]);
    assert.equal(await h.reconciles(), 1, 'no polling while in force');
    await h.clock.advanceAsync(1);
    assert.deepEqual([h.ready('team-a/wake'), h.last('team-a/wake')?.matched], ['Expired', 0]);
    assert.equal(h.writes.at(-1)!.at, START + 30 * MINUTE);
    assert.equal(await h.active(), 0);
    h.powers.emit('add', h.power('team-a', 'b2', { app: 'batch' }));
    await h.clock.advanceAsync(24 * 60 * MINUTE);
    assert.equal(h.writes.length, 2, 'an expired override is written once');
    assert.equal(h.clock.pending(), 0);
  });

  it('an until beyond --max-override-duration is Stalled InvalidSpec, never requeued, not counted active', async () => {
    const h = harness();
    h.runner.start();
    h.overrides.emit('add', h.override('forever', { until: new Date(START + 169 * 60 * MINUTE).toISOString() }));
    await h.clock.advanceAsync(0);
    const s = h.last('team-a/forever')!;
    assert.deepEqual([s.matched, h.ready('team-a/forever'), s.conditions?.find((c) => c.type === 'Stalled')?.status], [0, 'InvalidSpec', 'True']);
    assert.equal(await h.active(), 0);
    assert.equal(h.clock.pending(), 0);
  });

  it('a deleted override is forgotten: its timer is cancelled', async () => {
    const h = harness();
    h.runner.start();
    h.overrides.emit('add', h.override('wake', {}));
    await h.clock.advanceAsync(0);
    h.overrides.emit('delete', h.overrides.get('team-a/wake')!);
    await h.clock.advanceAsync(0);
    assert.equal(h.clock.pending(), 0);
    await h.clock.advanceAsync(60 * MINUTE);
    assert.equal(h.writes.length, 1);
  });
});
