// LeaderElector: the fence (leadership is bounded in time, even while a Lease call hangs) and the
// health of the election loop, on a fake clock and a fake Lease API that can hang.
import assert from 'node:assert/strict';
import { ApiException, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { silentLogger } from '../../src/log.ts';
import { NotLeaderError } from '../../src/runtime/fence.ts';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.ts';

const LEASE_MS = 15_000;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;

/** An in-memory Lease; `hang` makes every call from then on never answer (a half-open connection). */
class FakeLeases {
  lease: V1Lease | undefined;
  hang = false;
  calls = 0;
  private version = 0;

  api(): CoordinationV1Api {
    const self = this;
    const maybeHang = async (): Promise<void> => {
      self.calls++;
      if (self.hang) await new Promise<never>(() => undefined);
    };
    return {
      async readNamespacedLease(): Promise<V1Lease> {
        await maybeHang();
        if (!self.lease) throw new ApiException(404, 'Not Found', {}, {});
        return structuredClone(self.lease);
      },
      async createNamespacedLease({ body }: { body: V1Lease }): Promise<V1Lease> {
        await maybeHang();
        self.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++self.version) } };
        return self.lease;
      },
      async replaceNamespacedLease({ body }: { body: V1Lease }): Promise<V1Lease> {
        await maybeHang();
        if (body.metadata?.resourceVersion !== self.lease?.metadata?.resourceVersion) throw new ApiException(409, 'Conflict', {}, {});
        self.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++self.version) } };
        return self.lease;
      },
    } as unknown as CoordinationV1Api;
  }
}

function elector(clock: FakeClock, leases: FakeLeases, identity = 'me') {
  const changes: string[] = [];
  const e = new LeaderElector(
    leases.api(),
    { name: 'lease', namespace: 'ns', identity, leaseDurationMs: LEASE_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_MS, clock },
    silentLogger,
    { onStartedLeading: () => changes.push('started'), onStoppedLeading: () => changes.push('stopped') },
  );
  return { e, changes };
}

describe('LeaderElector', () => {
  it('leads after the first attempt and stays leader while renewals succeed', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const { e, changes } = elector(clock, leases);
    e.start();
    await flushMicrotasks(5);
    assert.equal(e.isLeader(), true);
    for (let i = 0; i < 10; i++) await clock.advanceAsync(RETRY_MS);
    assert.equal(e.isLeader(), true);
    assert.equal(e.isHealthy(), true);
    assert.deepEqual(changes, ['started']);
  });

  const table = [
    { at: RENEW_DEADLINE_MS - 1, leading: true },
    { at: RENEW_DEADLINE_MS, leading: false },
    { at: LEASE_MS, leading: false },
  ];
  for (const row of table) {
    it(`with every Lease call hanging since the last renewal, ${row.at} ms after it sent: isLeader() = ${row.leading}`, async () => {
      const clock = new FakeClock();
      const leases = new FakeLeases();
      const { e, changes } = elector(clock, leases);
      e.start();
      await flushMicrotasks(5);
      const renewedAt = clock.now();
      leases.hang = true;
      // Only the timers run: the hanging calls never return, as over a frozen connection.
      await clock.advanceAsync(row.at);
      assert.equal(clock.now() - renewedAt, row.at);
      assert.equal(e.isLeader(), row.leading);
      if (row.leading) e.assertLeading('ECS StopInstance');
      else {
        assert.throws(() => e.assertLeading('ECS StopInstance'), NotLeaderError);
        assert.deepEqual(changes, ['started', 'stopped'], 'leadership must end by the deadline timer, not after a call returns');
      }
    });
  }

  it('the standby cannot take over before the old leader is fenced: takeover >= lease duration > renew deadline', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const old = elector(clock, leases, 'old');
    old.e.start();
    await flushMicrotasks(5);
    const standby = elector(clock, leases, 'standby');
    standby.e.start();
    await flushMicrotasks(5);
    // The old leader's path hangs from now on (its own calls only).
    const oldApi = (old.e as unknown as { api: CoordinationV1Api }).api;
    (old.e as unknown as { api: CoordinationV1Api }).api = { ...oldApi, readNamespacedLease: () => new Promise(() => undefined) } as unknown as CoordinationV1Api;
    let fencedAt: number | undefined;
    let tookOverAt: number | undefined;
    const start = clock.now();
    for (let t = 0; t < 2 * LEASE_MS; t += 250) {
      await clock.advanceAsync(250);
      if (fencedAt === undefined && !old.e.isLeader()) fencedAt = clock.now() - start;
      if (tookOverAt === undefined && standby.e.isLeader()) tookOverAt = clock.now() - start;
    }
    assert.ok(fencedAt !== undefined && tookOverAt !== undefined, `fenced ${fencedAt}, took over ${tookOverAt}`);
    assert.ok(fencedAt < tookOverAt, `fenced at ${fencedAt} ms, standby led at ${tookOverAt} ms`);
  });

  it('/healthz: unhealthy when no attempt completed within the lease duration', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    leases.hang = true;
    const { e } = elector(clock, leases, 'standby');
    e.start();
    await clock.advanceAsync(LEASE_MS);
    assert.equal(e.isHealthy(), true, 'within the lease duration');
    await clock.advanceAsync(1);
    assert.equal(e.isHealthy(), false);
  });

  it('/healthz: healthy while attempts complete, even failing ones', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const { e } = elector(clock, leases, 'standby');
    const api = (e as unknown as { api: CoordinationV1Api }).api;
    (e as unknown as { api: CoordinationV1Api }).api = {
      ...api,
      readNamespacedLease: async () => {
        throw new ApiException(503, 'Service Unavailable', {}, {});
      },
    } as unknown as CoordinationV1Api;
    e.start();
    for (let i = 0; i < 20; i++) await clock.advanceAsync(RETRY_MS);
    assert.equal(e.isHealthy(), true);
    assert.equal(e.isLeader(), false);
  });
});
