// Fleet discovery through the controller's own ECS stack (client registry, shared rate limiter,
// retries, metrics, the real SDK) against the emulator, which caps a tag-filtered
// DescribeInstances at 1,000 instances as ECS documents.
import assert from 'node:assert/strict';
import { discoverTagged } from '../../src/ecs/discovery.ts';
import { EcsClientRegistry } from '../../src/ecs/clients.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import { noFence } from '../../src/runtime/fence.ts';
import { startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator } from '../support/ecs-emulator/index.ts';
import { metricValue, useDefaultTestCredentials } from '../support/operator-harness.ts';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const FLEET = { env: 'dev', team: 'a' };

describe('fleet discovery through the ECS client stack (emulator, real SDK)', function () {
  this.timeout(60_000);
  let emu: EcsEmulator;
  let metrics: Metrics;
  let registry: EcsClientRegistry;

  beforeEach(async () => {
    useDefaultTestCredentials();
    emu = await startEcsEmulator({ acceptLagMs: 0 });
    metrics = new Metrics();
    registry = new EcsClientRegistry({
      endpoint: emu.url,
      timeoutMs: 5_000,
      qps: 1000,
      burst: 1000,
      retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 50 },
      metrics,
      fence: noFence,
    });
  });
  afterEach(async () => {
    await emu?.close();
  });

  const calls = (action: string, region: string) => emu.calls.filter((c) => c.action === action && c.params.RegionId === region).length;

  it('2,500 tagged instances in one region and 300 in another: every one found, ceil(n/100) DescribeInstances per region', async () => {
    for (let i = 0; i < 2600; i++) emu.addInstance({ instanceId: `i-h${i}`, regionId: HZ, ...(i % 26 === 25 ? {} : { tags: { ...FLEET } }) });
    for (let i = 0; i < 300; i++) emu.addInstance({ instanceId: `i-s${i}`, regionId: SH, tags: { ...FLEET, extra: 'y' } });
    for (let i = 0; i < 50; i++) emu.addInstance({ instanceId: `i-b${i}`, regionId: SH, tags: { env: 'dev', team: 'b' } });

    const hz = await discoverTagged(registry.apiFor({ regionId: HZ }), FLEET);
    assert.equal(hz.instances.length, 2500);
    assert.equal(calls('DescribeInstances', HZ), 25, 'ceil(2500/100), the first 1,000 by tag, the rest by id');
    // two rows per instance (one per filter tag), 50 rows a page
    assert.equal(calls('ListTagResources', HZ), 100);
    assert.deepEqual(hz.calls, { describeInstances: 25, listTagResources: 100 });

    const sh = await discoverTagged(registry.apiFor({ regionId: SH }), FLEET);
    assert.equal(sh.instances.length, 300);
    assert.deepEqual(sh.instances.find((i) => i.instanceId === 'i-s7')?.tags, { ...FLEET, extra: 'y' });
    assert.equal(calls('DescribeInstances', SH), 3);
    assert.equal(calls('ListTagResources', SH), 0, 'below the cap no ListTagResources');
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'ecs_api_requests_total', { action: 'ListTagResources', region: HZ, code: 'OK' }), 100);
    assert.equal(metricValue(text, 'ecs_api_requests_total', { action: 'DescribeInstances', region: SH, code: 'OK' }), 3);
  });

  it('a page answered 5xx is retried in-call; a page that keeps failing rejects the discovery', async () => {
    for (let i = 0; i < 250; i++) emu.addInstance({ instanceId: `i-${i}`, regionId: HZ, tags: { ...FLEET } });
    emu.injectFault({ action: 'DescribeInstances', kind: 'error', code: 'InternalError' });
    assert.equal((await discoverTagged(registry.apiFor({ regionId: HZ }), FLEET)).instances.length, 250);
    emu.injectFault({ action: 'DescribeInstances', kind: 'error', code: 'ServiceUnavailable', count: Infinity });
    await assert.rejects(discoverTagged(registry.apiFor({ regionId: HZ }), FLEET), /ServiceUnavailable/);
  });
});
