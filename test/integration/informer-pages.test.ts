// The informers' initial list comes in pages of 500 (client-go's reflector), each page one request
// under the client's timeout: a 10,000-resource list on a busy API server is not one request that
// times out and starts over.
import assert from 'node:assert/strict';
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { customResourceInformer, LIST_PAGE_SIZE } from '../../src/runtime/informer.ts';
import { makeTimedClient } from '../../src/kube/client.ts';
import { API_VERSION, GROUP, VERSION } from '../../src/api/types.ts';
import { createLogger } from '../../src/log.ts';

describe('informer: the initial list in pages', function () {
  this.timeout(120_000);
  const ns = 'informer-pages-test';
  const COUNT = 2 * LIST_PAGE_SIZE + 1;
  let cluster: TestCluster;

  before(async function () {
    this.timeout(180_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', ns]);
    const api = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    const names = Array.from({ length: COUNT }, (_, i) => `i-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map((name) =>
          api.createNamespacedCustomObject({
            group: GROUP, version: VERSION, plural: 'ecsinstancepowers', namespace: ns,
            body: { apiVersion: API_VERSION, kind: 'EcsInstancePower', metadata: { name }, spec: { instanceId: name, regionId: 'cn-hangzhou', desiredState: 'Stopped' } },
          }),
        ),
      );
    }
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it(`${COUNT} resources: three list requests of at most ${LIST_PAGE_SIZE}, every resource in the cache, and the watch goes on from the list`, async () => {
    const api = makeTimedClient(cluster.kubeConfig(), CustomObjectsApi, 30_000);
    const limits: Array<number | undefined> = [];
    const counting = new Proxy(api, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'listNamespacedCustomObject' || typeof value !== 'function') return value;
        return (request: { limit?: number }) => {
          limits.push(request.limit);
          return (value as (r: unknown) => Promise<unknown>).call(target, request);
        };
      },
    });
    const informer = customResourceInformer<KubernetesObject>(cluster.kubeConfig(), counting, createLogger({ level: 'error', format: 'json' }), {
      kind: 'EcsInstancePower',
      plural: 'ecsinstancepowers',
      namespace: ns,
    });
    const seen = new Set<string>();
    informer.on((event, obj) => {
      if (event !== 'delete') seen.add(obj.metadata?.name ?? '');
    });
    await informer.start();
    try {
      assert.deepEqual(limits, [LIST_PAGE_SIZE, LIST_PAGE_SIZE, LIST_PAGE_SIZE]);
      assert.equal(informer.list().length, COUNT);
      assert.equal(seen.size, COUNT);
      // A resource created after the list arrives through the watch that started at its resourceVersion.
      await cluster.kubectl(['-n', ns, 'create', '-f', '-'], { input: JSON.stringify({ apiVersion: API_VERSION, kind: 'EcsInstancePower', metadata: { name: 'after-list' }, spec: { instanceId: 'i-after', regionId: 'cn-hangzhou', desiredState: 'Running' } }) });
      const until = Date.now() + 10_000;
      while (!seen.has('after-list')) {
        assert.ok(Date.now() < until, 'the watch did not deliver a resource created after the list');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await informer.stop();
    }
  });
});
