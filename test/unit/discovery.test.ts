// Fleet discovery (src/ecs/discovery.ts) against the FakeEcsApi, which caps a tag-filtered
// DescribeInstances at 1,000 as ECS documents: which instances are found and what it costs.
import assert from 'node:assert/strict';
import { discoverTagged, TAG_FILTER_LIMIT } from '../../src/ecs/discovery.ts';
import { FAKE_TAG_ROWS_PER_PAGE, FakeEcsApi, ecsError } from '../support/fake-ecs.ts';

const FLEET = { env: 'dev', team: 'a' };

function fleet(matching: number, extra: { untagged?: number; otherTeam?: number } = {}): FakeEcsApi {
  const api = new FakeEcsApi();
  for (let i = 0; i < matching; i++) api.addInstance(`i-m${String(i).padStart(5, '0')}`, i % 2 ? 'Running' : 'Stopped', [], { ...FLEET, extra: 'x' });
  for (let i = 0; i < (extra.untagged ?? 0); i++) api.addInstance(`i-u${i}`);
  for (let i = 0; i < (extra.otherTeam ?? 0); i++) api.addInstance(`i-o${i}`, 'Running', [], { env: 'dev', team: 'b' });
  return api;
}

describe('discoverTagged()', () => {
  const cases: Array<{ n: number; describes: number; listTagPages: number }> = [
    { n: 0, describes: 1, listTagPages: 0 },
    { n: 1, describes: 1, listTagPages: 0 },
    { n: 230, describes: 3, listTagPages: 0 },
    { n: 999, describes: 10, listTagPages: 0 },
    // at the documented cap the list may be cut: ids from ListTagResources (two rows per instance)
    { n: 1000, describes: 10, listTagPages: Math.ceil((1000 * 2) / FAKE_TAG_ROWS_PER_PAGE) },
    { n: 1001, describes: 11, listTagPages: Math.ceil((1001 * 2) / FAKE_TAG_ROWS_PER_PAGE) },
    { n: 2500, describes: 25, listTagPages: Math.ceil((2500 * 2) / FAKE_TAG_ROWS_PER_PAGE) },
  ];
  for (const c of cases) {
    it(`${c.n} matching instances: all found, ${c.describes} DescribeInstances (ceil(n/100)), ${c.listTagPages} ListTagResources`, async () => {
      const api = fleet(c.n, { untagged: 30, otherTeam: 20 });
      const result = await discoverTagged(api, FLEET);
      assert.equal(result.instances.length, c.n);
      assert.equal(new Set(result.instances.map((i) => i.instanceId)).size, c.n);
      assert.ok(result.instances.every((i) => i.instanceId.startsWith('i-m')));
      assert.deepEqual(result.calls, { describeInstances: c.describes, listTagResources: c.listTagPages });
      assert.equal(api.callsOf('DescribeInstances').length, Math.max(1, Math.ceil(c.n / 100)));
      assert.equal(api.callsOf('ListTagResources').length, c.n >= TAG_FILTER_LIMIT ? c.listTagPages : 0);
    });
  }

  it('reports status, tags, vCPUs and StoppedMode as described', async () => {
    const api = fleet(2);
    const result = await discoverTagged(api, FLEET);
    assert.deepEqual(
      result.instances.map((i) => [i.instanceId, i.status, i.tags]),
      [
        ['i-m00000', 'Stopped', { ...FLEET, extra: 'x' }],
        ['i-m00001', 'Running', { ...FLEET, extra: 'x' }],
      ],
    );
  });

  it('an instance whose tags changed between ListTagResources and DescribeInstances is left out', async () => {
    const api = fleet(1200);
    const real = api.describeInstancesPage.bind(api);
    api.describeInstancesPage = async (query) => {
      if (query.instanceIds) api.instances.get('i-m01100')!.tags = { env: 'prod' };
      return real(query);
    };
    const result = await discoverTagged(api, FLEET);
    assert.equal(result.instances.length, 1199);
    assert.ok(!result.instances.some((i) => i.instanceId === 'i-m01100'));
  });

  const failures: Array<{ what: string; action: 'DescribeInstances' | 'ListTagResources'; n: number }> = [
    { what: 'a DescribeInstances page', action: 'DescribeInstances', n: 250 },
    { what: 'a ListTagResources page', action: 'ListTagResources', n: 1100 },
  ];
  for (const f of failures) {
    it(`a failed ${f.what} rejects the whole discovery (never a partial fleet)`, async () => {
      const api = fleet(f.n);
      api.failNext(f.action, ecsError('Throttling.User', 'throttled', { httpStatus: 400 }));
      await assert.rejects(discoverTagged(api, FLEET), /Throttling\.User/);
    });
  }
});
