// EcsClientRegistry: one client and rate limiter per (region, AccessKeyId), built from one key
// function, evicted when unused; memory stays flat across credential rotations.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EcsClientRegistry } from '../../src/ecs/clients.ts';
import type { EcsApi, EcsTarget } from '../../src/ecs/gateway.ts';
import { signingKey } from '../../src/ecs/target.ts';
import { noFence } from '../../src/runtime/fence.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import { FakeEcsApi } from '../support/fake-ecs.ts';
import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { SecretCredentials } from '../../src/kube/credentials.ts';
import { FakeClock } from '../support/fake-clock.ts';

const HOUR = 3_600_000;
const key = (accessKeyId: string, accessKeySecret = 'secret', securityToken?: string): EcsTarget['accessKey'] => ({
  accessKeyId,
  accessKeySecret,
  ...(securityToken ? { securityToken } : {}),
});

function registry(clock: FakeClock, raw?: (target: EcsTarget) => EcsApi) {
  const built: EcsTarget[] = [];
  const clients = new EcsClientRegistry({
    timeoutMs: 1000,
    qps: 10,
    burst: 10,
    retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 },
    metrics: new Metrics({ defaultMetrics: false }),
    fence: noFence,
    clock,
    ...(raw
      ? {
          rawApi: (target: EcsTarget) => {
            built.push(target);
            return raw(target);
          },
        }
      : {}),
  });
  return { clients, built };
}

describe('EcsClientRegistry', () => {
  it('two Secrets holding the same AccessKey share one client, one limiter and one batch', () => {
    const { clients, built } = registry(new FakeClock(), (t) => new FakeEcsApi(t.regionId));
    const fromSecretA: EcsTarget = { regionId: 'cn-hangzhou', accessKey: key('AK1') };
    const fromSecretB: EcsTarget = { regionId: 'cn-hangzhou', accessKey: key('AK1') };
    assert.equal(clients.apiFor(fromSecretA), clients.apiFor(fromSecretB));
    assert.equal(signingKey(fromSecretA), signingKey(fromSecretB));
    assert.equal(built.length, 1);
    assert.equal(clients.size, 1);
  });

  it('a Secret fixed in place (same AccessKeyId, new secret) gets a new SDK client under the same entry', () => {
    const { clients, built } = registry(new FakeClock(), (t) => new FakeEcsApi(t.regionId));
    const before = clients.apiFor({ regionId: 'cn-hangzhou', accessKey: key('AK1', 'wrong') });
    const after = clients.apiFor({ regionId: 'cn-hangzhou', accessKey: key('AK1', 'right') });
    assert.notEqual(before, after);
    assert.equal(built.length, 2);
    assert.equal(clients.size, 1);
    assert.notEqual(signingKey({ regionId: 'cn-hangzhou', accessKey: key('AK1', 'wrong') }), signingKey({ regionId: 'cn-hangzhou', accessKey: key('AK1', 'right') }));
  });

  it('regions and AccessKeyIds are kept apart; the default chain is one account per region', () => {
    const { clients } = registry(new FakeClock(), (t) => new FakeEcsApi(t.regionId));
    const apis = new Set([
      clients.apiFor({ regionId: 'cn-hangzhou' }),
      clients.apiFor({ regionId: 'cn-shanghai' }),
      clients.apiFor({ regionId: 'cn-hangzhou', accessKey: key('AK1') }),
      clients.apiFor({ regionId: 'cn-hangzhou', accessKey: key('AK2') }),
      clients.apiFor({ regionId: 'cn-hangzhou' }),
    ]);
    assert.equal(apis.size, 4);
    assert.equal(clients.size, 4);
  });

  it('500 hourly STS rotations: entries of retired AccessKeyIds are evicted, the registry stays small', () => {
    const clock = new FakeClock();
    const { clients } = registry(clock, (t) => new FakeEcsApi(t.regionId));
    let largest = 0;
    for (let i = 0; i < 500; i++) {
      // Every pass of the hour uses the current token; each rotation brings a new STS AccessKeyId.
      for (let minute = 0; minute < 60; minute += 5) {
        clients.apiFor({ regionId: 'cn-hangzhou', accessKey: key(`STS.rotation${i}`, `s${i}`, `token${i}`) });
        clock.advance(5 * 60_000);
      }
      largest = Math.max(largest, clients.size);
    }
    assert.ok(largest <= 2, `the registry held ${largest} entries`);
  });

  it('500 rotations with real SDK clients: the heap stays flat', function () {
    this.timeout(60_000);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clock = new FakeClock();
    const { clients } = registry(clock);
    const rotate = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        clients.apiFor({ regionId: 'cn-hangzhou', accessKey: key(`STS.rotation${i}`, `s${i}`, `token${i}`) });
        clock.advance(HOUR);
      }
    };
    const heap = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    rotate(0, 50);
    const after50 = heap();
    rotate(50, 500);
    const after500 = heap();
    const grewMb = (after500 - after50) / 2 ** 20;
    this.test!.title += ` [heap ${(after50 / 2 ** 20).toFixed(1)} MB after 50, ${(after500 / 2 ** 20).toFixed(1)} MB after 500; ${clients.size} entries]`;
    assert.ok(grewMb < 1, `the heap grew ${grewMb.toFixed(1)} MB over 450 rotations`);
  });
});

describe('SecretCredentials cache', () => {
  /** A Secret store the test edits: `secrets[name]` is the AccessKeyId, or absent. */
  function secretApi(secrets: Map<string, string>): CoreV1Api {
    return {
      readNamespacedSecret: async ({ name }: { name: string }) => {
        const id = secrets.get(name);
        if (!id) throw new ApiException(404, 'Not Found', {}, {});
        const b64 = (v: string): string => Buffer.from(v).toString('base64');
        return { data: { accessKeyId: b64(id), accessKeySecret: b64(`secret-of-${id}`) } };
      },
    } as unknown as CoreV1Api;
  }

  it('a rotated Secret replaces its entry; Secrets gone or no longer used are pruned', async () => {
    const clock = new FakeClock();
    const secrets = new Map<string, string>();
    const source = new SecretCredentials(secretApi(secrets), { clock, ttlMs: 30_000 });
    for (let i = 0; i < 500; i++) {
      secrets.set('team-a', `STS.rotation${i}`);
      const resolved = await source.resolve('ns', 'team-a');
      assert.equal(resolved.accessKey?.accessKeyId, `STS.rotation${i}`);
      clock.advance(60_000);
    }
    assert.equal(source.size, 1, 'one Secret, one entry, however often it rotates');
    for (let i = 0; i < 50; i++) {
      secrets.set(`short-lived-${i}`, `AK${i}`);
      await source.resolve('ns', `short-lived-${i}`);
      secrets.delete(`short-lived-${i}`);
    }
    assert.equal(source.size, 51);
    clock.advance(11 * 60_000);
    await source.resolve('ns', 'team-a');
    assert.equal(source.size, 1, 'entries unused for 10 minutes are dropped');
  });
});
