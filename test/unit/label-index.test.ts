// LabelIndex: objects by namespace and label, kept up to date from informer events, answering a
// selector like a scan with matchesSelector would, from the smallest candidate set it can.
import assert from 'node:assert/strict';
import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import { LabelIndex } from '../../src/runtime/label-index.ts';
import { matchesSelector } from '../../src/runtime/label-selector.ts';

const obj = (namespace: string, name: string, labels?: Record<string, string>): KubernetesObject => ({
  metadata: { namespace, name, ...(labels ? { labels } : {}) },
});

function indexOf(objects: KubernetesObject[]): LabelIndex<KubernetesObject> {
  const index = new LabelIndex<KubernetesObject>();
  for (const o of objects) index.handle('add', o);
  return index;
}

const objects = [
  obj('team-a', 'batch-1', { app: 'batch', tier: 'worker' }),
  obj('team-a', 'batch-2', { app: 'batch', tier: 'db' }),
  obj('team-a', 'web-1', { app: 'web' }),
  obj('team-a', 'bare'),
  obj('team-b', 'batch-1', { app: 'batch', tier: 'worker' }),
];

describe('LabelIndex.select()', () => {
  const index = indexOf(objects);
  const table: [string, string, V1LabelSelector | null, string[], number][] = [
    // name, namespace, selector, selected keys, candidates looked at
    ['{} selects the whole namespace', 'team-a', {}, ['team-a/bare', 'team-a/batch-1', 'team-a/batch-2', 'team-a/web-1'], 4],
    ['null selects nothing', 'team-a', null, [], 0],
    ['matchLabels narrows to its pair, in this namespace only', 'team-a', { matchLabels: { app: 'batch' } }, ['team-a/batch-1', 'team-a/batch-2'], 2],
    ['the smallest matchLabels pair is the candidate set', 'team-a', { matchLabels: { app: 'batch', tier: 'db' } }, ['team-a/batch-2'], 1],
    ['a pair nobody has', 'team-a', { matchLabels: { app: 'cron' } }, [], 0],
    ['In narrows to the union of its values', 'team-a', { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'batch'] }] }, ['team-a/batch-1', 'team-a/batch-2', 'team-a/web-1'], 3],
    ['Exists narrows to the objects with the key', 'team-a', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, ['team-a/batch-1', 'team-a/batch-2'], 2],
    ['NotIn walks the namespace', 'team-a', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['batch'] }] }, ['team-a/bare', 'team-a/web-1'], 4],
    ['DoesNotExist walks the namespace', 'team-a', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, ['team-a/bare'], 4],
    ['matchLabels narrows, expressions filter', 'team-a', { matchLabels: { app: 'batch' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, ['team-a/batch-1'], 2],
    ['another namespace', 'team-b', { matchLabels: { app: 'batch' } }, ['team-b/batch-1'], 1],
    ['an empty namespace', 'team-c', {}, [], 0],
  ];
  for (const [name, namespace, selector, want, candidates] of table) {
    it(`${name}`, () => {
      assert.deepEqual(index.select(namespace, selector).sort(), want);
      assert.equal(index.count(namespace, selector), want.length);
      assert.equal(index.candidateCount(namespace, selector), candidates);
    });
  }

  it('answers like a scan with matchesSelector (every selector of a table, every namespace)', () => {
    const selectors: (V1LabelSelector | null)[] = [
      {},
      null,
      ...table.map((row) => row[2]),
      { matchLabels: { app: 'batch' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['worker', 'nope'] }, { key: 'x', operator: 'DoesNotExist' }] },
    ];
    for (const namespace of ['team-a', 'team-b', 'team-c']) {
      for (const selector of selectors) {
        const scan = objects.filter((o) => o.metadata!.namespace === namespace && matchesSelector(selector, o.metadata!.labels)).map((o) => `${namespace}/${o.metadata!.name}`);
        assert.deepEqual(index.select(namespace, selector).sort(), scan.sort(), `${namespace} ${JSON.stringify(selector)}`);
      }
    }
  });

  it('a selective matchLabels looks at its few candidates among many objects', () => {
    const big = new LabelIndex<KubernetesObject>();
    for (let i = 0; i < 20_000; i++) big.handle('add', obj('fleet', `r${i}`, { app: i % 1000 === 0 ? 'rare' : 'common', shard: String(i % 10) }));
    assert.equal(big.count('fleet', { matchLabels: { app: 'rare' } }), 20);
    assert.equal(big.candidateCount('fleet', { matchLabels: { app: 'rare', shard: '0' } }), 20);
    assert.equal(big.candidateCount('fleet', { matchLabels: { shard: '3' } }), 2_000);
  });
});

describe('LabelIndex kept up to date from informer events', () => {
  type Step = [event: 'add' | 'update' | 'delete', o: KubernetesObject];
  const selector = { matchLabels: { app: 'batch' } };
  const table: [string, Step[], string[], Record<string, string> | undefined][] = [
    // name, events, selected in team-a by app=batch, labels of team-a/x as last seen
    ['add', [['add', obj('team-a', 'x', { app: 'batch' })]], ['team-a/x'], { app: 'batch' }],
    ['a label changes away', [['add', obj('team-a', 'x', { app: 'batch' })], ['update', obj('team-a', 'x', { app: 'web' })]], [], { app: 'web' }],
    ['a label changes to match', [['add', obj('team-a', 'x', { app: 'web' })], ['update', obj('team-a', 'x', { app: 'batch', more: 'y' })]], ['team-a/x'], { app: 'batch', more: 'y' }],
    ['labels removed', [['add', obj('team-a', 'x', { app: 'batch' })], ['update', obj('team-a', 'x')]], [], {}],
    ['delete', [['add', obj('team-a', 'x', { app: 'batch' })], ['delete', obj('team-a', 'x', { app: 'batch' })]], [], undefined],
    ['delete with stale labels in the event', [['add', obj('team-a', 'x', { app: 'batch' })], ['delete', obj('team-a', 'x', { app: 'web' })]], [], undefined],
    ['an update with the same labels', [['add', obj('team-a', 'x', { app: 'batch' })], ['update', obj('team-a', 'x', { app: 'batch' })]], ['team-a/x'], { app: 'batch' }],
    ['an update first seen (missed add)', [['update', obj('team-a', 'x', { app: 'batch' })]], ['team-a/x'], { app: 'batch' }],
  ];
  for (const [name, steps, want, labels] of table) {
    it(name, () => {
      const index = new LabelIndex<KubernetesObject>();
      for (const [event, o] of steps) index.handle(event, o);
      assert.deepEqual(index.select('team-a', selector), want);
      assert.deepEqual(index.labelsOf('team-a/x'), labels);
      // nothing stale is left behind: the namespace holds exactly the live object
      assert.equal(index.candidateCount('team-a', {}), labels === undefined ? 0 : 1);
      assert.equal(index.candidateCount('team-a', { matchLabels: { app: 'web' } }), labels?.['app'] === 'web' ? 1 : 0);
    });
  }

  it('keeps its own copy of the labels (a mutated event object does not change the index)', () => {
    const o = obj('team-a', 'x', { app: 'batch' });
    const index = indexOf([o]);
    o.metadata!.labels!['app'] = 'web';
    assert.deepEqual(index.select('team-a', selector), ['team-a/x']);
  });
});
