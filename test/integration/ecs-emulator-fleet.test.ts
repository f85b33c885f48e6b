/**
 * What fleets need from the emulator: tags and the Tag.N filters of DescribeInstances, paging
 * with MaxResults/NextToken, Cpu/Memory/InstanceType, and released instances vanishing.
 */
import assert from 'node:assert/strict';
import * as $Ecs from '../support/ecs-emulator/sdk-requests.ts';
import { startEcsEmulator } from '../support/ecs-emulator/index.ts';
import type { EcsEmulator, EmulatorOptions } from '../support/ecs-emulator/index.ts';
import { expectEcsError, makeClient, sdkCalls } from '../support/ecs-emulator/test-client.ts';
import type { EcsClient } from '../support/ecs-emulator/test-client.ts';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

const REGION = 'cn-hangzhou';
const OTHER = 'cn-shanghai';

type Tags = Record<string, string | undefined>;

describe('ECS emulator: tags, paging, shapes, release (real SDK)', function () {
  this.timeout(20_000);
  let emu: EcsEmulator;
  let ecs: EcsClient;
  const sdk = sdkCalls(() => ecs);

  async function start(opts: EmulatorOptions = {}): Promise<void> {
    await emu?.close();
    emu = await startEcsEmulator({ acceptLagMs: 0, ...opts });
    ecs = makeClient(emu);
  }

  function tagRequest(tags: Tags): $Ecs.DescribeInstancesRequestTag[] {
    return Object.entries(tags).map(([key, value]) => new $Ecs.DescribeInstancesRequestTag(value === undefined ? { key } : { key, value }));
  }

  async function page(regionId: string, tags: Tags, maxResults?: number, nextToken?: string) {
    const r = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({ regionId, tag: tagRequest(tags), ...(maxResults !== undefined ? { maxResults } : {}), ...(nextToken ? { nextToken } : {}) }),
    );
    return { ids: (r.body?.instances?.instance ?? []).map((x) => x.instanceId ?? ''), nextToken: r.body?.nextToken ?? '', body: r.body };
  }

  /** Every matching id, paging with MaxResults 100 as a fleet discovery does; also counts the calls. */
  async function listAll(regionId: string, tags: Tags): Promise<{ ids: string[]; calls: number }> {
    const ids: string[] = [];
    let token = '';
    let calls = 0;
    do {
      const p = await page(regionId, tags, 100, token);
      ids.push(...p.ids);
      token = p.nextToken;
      calls++;
    } while (token);
    return { ids, calls };
  }

  afterEach(async () => {
    await emu?.close();
  });

  it('instances carry tags: Tags.Tag[] in DescribeInstances; update replaces them', async () => {
    await start();
    emu.addInstance({ instanceId: 'i-a', regionId: REGION, tags: { env: 'dev', team: 'a' } });
    emu.addInstance({ instanceId: 'i-b', regionId: REGION });
    assert.deepEqual((await sdk.described('i-a'))?.tags?.tag?.map((x) => [x.tagKey, x.tagValue]), [['env', 'dev'], ['team', 'a']]);
    assert.deepEqual((await sdk.described('i-b'))?.tags?.tag, []);
    emu.update('i-a', { tags: { env: 'prod' } });
    assert.deepEqual(emu.instance('i-a')?.tags, { env: 'prod' });
    assert.deepEqual((await sdk.described('i-a'))?.tags?.tag?.map((x) => [x.tagKey, x.tagValue]), [['env', 'prod']]);
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    assert.throws(() => emu.update('i-a', { tags: many }), /at most 20 tags/);
  });

  it('Tag.N filters: every tag must match, a Key without Value matches any value, within the RegionId', async () => {
    await start();
    emu.addInstance({ instanceId: 'i-dev-a', regionId: REGION, tags: { env: 'dev', team: 'a' } });
    emu.addInstance({ instanceId: 'i-dev-b', regionId: REGION, tags: { env: 'dev', team: 'b' } });
    emu.addInstance({ instanceId: 'i-prod-a', regionId: REGION, tags: { env: 'prod', team: 'a' } });
    emu.addInstance({ instanceId: 'i-untagged', regionId: REGION });
    emu.addInstance({ instanceId: 'i-empty', regionId: REGION, tags: { env: '' } });
    emu.addInstance({ instanceId: 'i-dev-far', regionId: OTHER, tags: { env: 'dev', team: 'a' } });
    assert.deepEqual((await page(REGION, { env: 'dev', team: 'a' })).ids, ['i-dev-a']);
    assert.deepEqual((await page(REGION, { env: 'dev' })).ids, ['i-dev-a', 'i-dev-b']);
    assert.deepEqual((await page(REGION, { team: undefined })).ids, ['i-dev-a', 'i-dev-b', 'i-prod-a']);
    assert.deepEqual((await page(REGION, { env: undefined })).ids, ['i-dev-a', 'i-dev-b', 'i-prod-a', 'i-empty']);
    assert.deepEqual((await page(REGION, { env: '' })).ids, ['i-empty'], 'an empty Value is a value');
    assert.deepEqual((await page(REGION, { env: 'dev', owner: undefined })).ids, []);
    assert.deepEqual((await page(OTHER, { env: 'dev' })).ids, ['i-dev-far']);
    const sent = emu.calls.at(-1)?.params ?? {};
    assert.deepEqual([sent['Tag.1.Key'], sent['Tag.1.Value'], sent.RegionId], ['env', 'dev', OTHER], 'the SDK sends Tag.N.Key / Tag.N.Value');
  });

  it('bad tag filters: Value without Key (InvalidTag.Mismatch), more than 20 (InvalidTagCount), empty Key', async () => {
    await start();
    const call = (tag: $Ecs.DescribeInstancesRequestTag[]) => ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, tag }));
    await expectEcsError(call([new $Ecs.DescribeInstancesRequestTag({ value: 'dev' })]), 'InvalidTag.Mismatch', 400);
    const tooMany = Array.from({ length: 21 }, (_, i) => new $Ecs.DescribeInstancesRequestTag({ key: `k${i}`, value: 'v' }));
    await expectEcsError(call(tooMany), 'InvalidTagCount', 400);
    await call(tooMany.slice(0, 20));
    await expectEcsError(call([new $Ecs.DescribeInstancesRequestTag({ key: '', value: 'v' })]), 'InvalidTagKey.Malformed', 400);
  });

  it('discovery pages: 230 tagged instances cost ceil(230/100) = 3 calls; untagged and other regions left out', async () => {
    await start();
    for (let i = 0; i < 250; i++) emu.addInstance({ instanceId: `i-h${String(i).padStart(3, '0')}`, regionId: REGION, ...(i % 25 < 23 ? { tags: { fleet: 'x' } } : {}) });
    for (let i = 0; i < 40; i++) emu.addInstance({ instanceId: `i-s${i}`, regionId: OTHER, tags: { fleet: 'x' } });
    const h = await listAll(REGION, { fleet: 'x' });
    assert.equal(h.ids.length, 230);
    assert.equal(h.calls, 3);
    assert.equal(new Set(h.ids).size, 230);
    const s = await listAll(OTHER, { fleet: 'x' });
    assert.deepEqual([s.ids.length, s.calls], [40, 1]);
    const first = await page(REGION, { fleet: 'x' }, 100);
    assert.match(first.nextToken, /^[0-9a-f]{32}$/, 'an opaque token like the ones ECS hands out');
    assert.equal(first.body?.totalCount, 100, 'TotalCount is documented as meaningless in token mode');
    assert.equal((await page(REGION, { fleet: 'x' }, 500)).ids.length, 100, 'MaxResults above 100 means 100');
    assert.equal((await page(REGION, { fleet: 'x' }, 0)).ids.length, 10, 'MaxResults below 10 means 10');
  });

  it('NextToken is a stable cursor: instances released or created between pages neither repeat nor shift the others', async () => {
    await start();
    for (let i = 0; i < 30; i++) emu.addInstance({ instanceId: `i-${i}`, regionId: REGION, tags: { fleet: 'x' } });
    const p1 = await page(REGION, { fleet: 'x' }, 10);
    assert.deepEqual(p1.ids, Array.from({ length: 10 }, (_, i) => `i-${i}`));
    emu.removeInstance('i-3'); // already listed
    emu.removeInstance('i-12'); // not yet listed
    emu.addInstance({ instanceId: 'i-new', regionId: REGION, tags: { fleet: 'x' } });
    const p2 = await page(REGION, { fleet: 'x' }, 10, p1.nextToken);
    assert.deepEqual(p2.ids, ['i-10', 'i-11', 'i-13', 'i-14', 'i-15', 'i-16', 'i-17', 'i-18', 'i-19', 'i-20']);
    const p3 = await page(REGION, { fleet: 'x' }, 10, p2.nextToken);
    assert.deepEqual(p3.ids, ['i-21', 'i-22', 'i-23', 'i-24', 'i-25', 'i-26', 'i-27', 'i-28', 'i-29', 'i-new']);
    assert.equal(p3.nextToken, '');
  });

  it('a NextToken the emulator did not issue answers 400 InvalidParameter.NextToken', async () => {
    await start();
    for (let i = 0; i < 15; i++) emu.addInstance({ instanceId: `i-${i}`, regionId: REGION });
    const { nextToken } = await page(REGION, {}, 10);
    const call = (token: string) => ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, nextToken: token }));
    assert.equal((await call(nextToken)).body?.instances?.instance?.length, 5);
    await expectEcsError(call('not-a-token'), 'InvalidParameter.NextToken', 400);
    const tampered = `${nextToken.slice(0, 15)}${nextToken[15] === '0' ? '1' : '0'}${nextToken.slice(16)}`;
    await expectEcsError(call(tampered), 'InvalidParameter.NextToken', 400);
    const other = await startEcsEmulator({});
    try {
      for (let i = 0; i < 15; i++) other.addInstance({ instanceId: `i-${i}`, regionId: REGION });
      const foreign = (await makeClient(other).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 10 }))).body?.nextToken ?? '';
      await expectEcsError(call(foreign), 'InvalidParameter.NextToken', 400);
    } finally {
      await other.close();
    }
  });

  it('a tag-filtered query matches at most tagFilterLimit instances (ECS documents 1,000)', async () => {
    await start();
    for (let i = 0; i < 1005; i++) emu.addInstance({ instanceId: `i-${i}`, regionId: REGION, tags: { fleet: 'x' } });
    const capped = await listAll(REGION, { fleet: 'x' });
    assert.deepEqual([capped.ids.length, capped.calls], [1000, 10]);
    assert.equal((await listAll(REGION, {})).ids.length, 1005, 'without tag filters there is no cap');
    await start({ tagFilterLimit: Infinity });
    for (let i = 0; i < 1005; i++) emu.addInstance({ instanceId: `i-${i}`, regionId: REGION, tags: { fleet: 'x' } });
    assert.equal((await listAll(REGION, { fleet: 'x' })).ids.length, 1005);
  });

  it('ListTagResources: rows of the filter\'s tags per matching instance, 50 a page, a stable NextToken, no 1,000 cap', async () => {
    await start();
    for (let i = 0; i < 1030; i++) emu.addInstance({ instanceId: `i-${i}`, regionId: REGION, tags: { fleet: 'x', team: i % 2 ? 'a' : 'b', other: 'y' } });
    emu.addInstance({ instanceId: 'i-far', regionId: OTHER, tags: { fleet: 'x' } });
    const list = (tag: Tags, nextToken?: string, resourceId?: string[]) =>
      ecs.listTagResources(
        new $Ecs.ListTagResourcesRequest({
          regionId: REGION,
          resourceType: 'instance',
          tag: Object.entries(tag).map(([key, value]) => new $Ecs.ListTagResourcesRequestTag({ key, value })),
          ...(resourceId ? { resourceId } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      );
    const ids = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    let rows = 0;
    do {
      const r = await list({ fleet: 'x', team: 'a' }, token);
      const page = r.body?.tagResources?.tagResource ?? [];
      rows += page.length;
      for (const row of page) {
        assert.equal(row.resourceType, 'instance');
        assert.ok(['fleet', 'team'].includes(row.tagKey ?? ''), 'only the filter\'s tags');
        ids.add(row.resourceId ?? '');
      }
      token = r.body?.nextToken || undefined;
      pages++;
    } while (token);
    assert.deepEqual([ids.size, rows, pages], [515, 1030, Math.ceil(1030 / 50)]);
    const sent = emu.calls.at(-1)?.params ?? {};
    assert.deepEqual([sent.ResourceType, sent['Tag.1.Key'], sent['Tag.2.Value']], ['instance', 'fleet', 'a']);
    const byId = await list({}, undefined, ['i-1', 'i-far']);
    assert.deepEqual(byId.body?.tagResources?.tagResource?.map((r) => [r.resourceId, r.tagKey]), [['i-1', 'fleet'], ['i-1', 'team'], ['i-1', 'other']], 'all tags, this region only');
    await expectEcsError(list({}), 'MissingParameter', 400);
    await expectEcsError(list({ fleet: 'x' }, 'f'.repeat(32)), 'InvalidParameter.NextToken', 400);
  });

  it('a fault can match query parameters: only tag-filtered DescribeInstances of one region fail', async () => {
    await start();
    emu.addInstance({ instanceId: 'i-a', regionId: REGION, tags: { fleet: 'x' } });
    emu.addInstance({ instanceId: 'i-b', regionId: OTHER, tags: { fleet: 'x' } });
    emu.injectFault({ action: 'DescribeInstances', params: { 'Tag.1.Key': 'fleet', RegionId: REGION }, code: 'Throttling.User', count: Infinity });
    await expectEcsError(page(REGION, { fleet: 'x' }), 'Throttling.User', 400);
    assert.deepEqual((await page(OTHER, { fleet: 'x' })).ids, ['i-b'], 'another region');
    assert.equal((await sdk.described('i-a'))?.instanceId, 'i-a', 'a describe by id');
    await expectEcsError(page(REGION, { fleet: 'x' }), 'Throttling.User', 400);
  });

  it('Cpu, Memory (MiB), InstanceType, InstanceTypeFamily and HibernationOptions per instance', async () => {
    await start();
    const cases: Array<[string, number, number]> = [
      ['ecs.g7.large', 2, 8192],
      ['ecs.g7.2xlarge', 8, 32768],
      ['ecs.c7.xlarge', 4, 8192],
      ['ecs.r7.large', 2, 16384],
      ['ecs.hfg7.4xlarge', 16, 65536],
      ['ecs.t6-c1m2.large', 2, 4096],
      ['ecs.i1.xlarge', 4, 16384],
      ['ecs.gn6i-c4g1.xlarge', 4, 15360],
      ['custom-type', 2, 8192],
    ];
    for (const [type] of cases) emu.addInstance({ instanceId: `i-${type}`, regionId: REGION, instanceType: type });
    emu.addInstance({ instanceId: 'i-own', regionId: REGION, cpu: 6, memoryMiB: 12_000, hibernationConfigured: true });
    const r = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 100 }));
    const byId = new Map((r.body?.instances?.instance ?? []).map((x) => [x.instanceId, x]));
    for (const [type, cpu, memory] of cases) {
      const x = byId.get(`i-${type}`);
      assert.deepEqual([x?.instanceType, x?.cpu, x?.memory], [type, cpu, memory], type);
      assert.equal(x?.hibernationOptions?.configured, false);
    }
    assert.equal(byId.get('i-ecs.g7.large')?.instanceTypeFamily, 'ecs.g7');
    const own = byId.get('i-own');
    assert.deepEqual([own?.instanceType, own?.cpu, own?.memory, own?.hibernationOptions?.configured], ['ecs.g7.large', 6, 12_000, true]);
    assert.deepEqual([emu.instance('i-own')?.cpu, emu.instance('i-own')?.memoryMiB], [6, 12_000]);
  });

  it('a released instance vanishes from every describe and is NotFound for calls (JS and admin DELETE)', async () => {
    await start();
    emu.addInstance({ instanceId: 'i-a', regionId: REGION, tags: { fleet: 'x' } });
    emu.addInstance({ instanceId: 'i-b', regionId: REGION, tags: { fleet: 'x' } });
    emu.addInstance({ instanceId: 'i-c', regionId: REGION, tags: { fleet: 'x' } });
    await sdk.stop('i-a');
    emu.removeInstance('i-a');
    assert.equal(emu.instance('i-a'), undefined);
    const del = await fetch(`${emu.url}/_emulator/instances/i-b`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((await fetch(`${emu.url}/_emulator/instances/i-b`, { method: 'DELETE' })).status, 404);
    assert.deepEqual((await page(REGION, { fleet: 'x' })).ids, ['i-c']);
    const byIds = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(['i-a', 'i-b', 'i-c']) }));
    assert.deepEqual(byIds.body?.instances?.instance?.map((x) => x.instanceId), ['i-c']);
    const statuses = await ecs.describeInstanceStatus(new $Ecs.DescribeInstanceStatusRequest({ regionId: REGION, instanceId: ['i-a', 'i-b', 'i-c'] }));
    assert.deepEqual(statuses.body?.instanceStatuses?.instanceStatus?.map((x) => x.instanceId), ['i-c']);
    await expectEcsError(sdk.start('i-a'), 'InvalidInstanceId.NotFound', 404);
    await expectEcsError(sdk.stop('i-b'), 'InvalidInstanceId.NotFound', 404);
  });

  it('admin API: instances created and patched with tags, capacity and hibernation', async () => {
    await start();
    const created = await fetch(`${emu.url}/_emulator/instances`, {
      method: 'POST',
      body: JSON.stringify({ instanceId: 'i-a', regionId: REGION, tags: { env: 'dev' }, instanceType: 'ecs.r7.xlarge', hibernationConfigured: true }),
    });
    assert.equal(created.status, 201);
    const view = (await created.json()) as { tags: Record<string, string>; cpu: number; memoryMiB: number; hibernationConfigured: boolean; describedStatus: string };
    assert.deepEqual([view.tags, view.cpu, view.memoryMiB, view.hibernationConfigured, view.describedStatus], [{ env: 'dev' }, 4, 32768, true, 'Running']);
    const patched = await fetch(`${emu.url}/_emulator/instances/i-a`, { method: 'POST', body: JSON.stringify({ tags: { env: 'prod', team: 'b' }, noStockAttempts: 2 }) });
    assert.equal(patched.status, 200);
    assert.deepEqual(emu.instance('i-a')?.tags, { env: 'prod', team: 'b' });
    assert.equal(emu.instance('i-a')?.noStockAttempts, 2);
    assert.deepEqual((await page(REGION, { team: 'b' })).ids, ['i-a']);
    const bad = await fetch(`${emu.url}/_emulator/instances/i-a`, { method: 'POST', body: JSON.stringify({ noStockAttempts: -1 }) });
    assert.equal(bad.status, 400);
  });
});
