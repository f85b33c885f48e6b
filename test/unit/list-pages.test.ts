import assert from 'node:assert/strict';
import { ApiException, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { listInPages, LIST_PAGE_SIZE } from '../../src/runtime/informer.ts';

type Page = { limit?: number; _continue?: string };
const obj = (name: string): KubernetesObject => ({ metadata: { name } });
const page = (names: string[], next?: string, rv = '100'): KubernetesListObject<KubernetesObject> => ({
  apiVersion: 'v1',
  kind: 'List',
  metadata: { resourceVersion: rv, ...(next ? { _continue: next, remainingItemCount: 1 } : {}) },
  items: names.map(obj),
});

describe('listInPages (the informers initial list)', () => {
  it('joins the pages, keeps the first page resourceVersion, and drops the continue token', async () => {
    const asked: Page[] = [];
    const pages: Record<string, KubernetesListObject<KubernetesObject>> = { '': page(['a', 'b'], 't1', '100'), t1: page(['c'], 't2', '100'), t2: page(['d'], undefined, '100') };
    const list = await listInPages(async (p) => (asked.push(p), pages[p._continue ?? '']!));
    assert.deepEqual(list.items.map((o) => o.metadata?.name), ['a', 'b', 'c', 'd']);
    assert.deepEqual(list.metadata, { resourceVersion: '100' });
    assert.deepEqual(asked, [{ limit: LIST_PAGE_SIZE }, { limit: LIST_PAGE_SIZE, _continue: 't1' }, { limit: LIST_PAGE_SIZE, _continue: 't2' }]);
  });

  it('custom object lists are plain JSON: their token is metadata.continue', async () => {
    const asked: Page[] = [];
    const raw = (names: string[], next?: string): KubernetesListObject<KubernetesObject> =>
      ({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '7', ...(next ? { continue: next } : {}) }, items: names.map(obj) }) as KubernetesListObject<KubernetesObject>;
    const list = await listInPages(async (p) => (asked.push(p), p._continue ? raw(['b']) : raw(['a'], 'raw-token')));
    assert.deepEqual(list.items.map((o) => o.metadata?.name), ['a', 'b']);
    assert.deepEqual(list.metadata, { resourceVersion: '7' });
    assert.equal(asked[1]?._continue, 'raw-token');
  });

  it('an expired continue token (410) lists again in one request', async () => {
    const asked: Page[] = [];
    const list = await listInPages(async (p) => {
      asked.push(p);
      if (p._continue) throw new ApiException(410, 'Gone', { message: 'continue token expired' }, {});
      return p.limit ? page(['a'], 't1') : page(['a', 'b', 'c'], undefined, '200');
    });
    assert.deepEqual(list.items.map((o) => o.metadata?.name), ['a', 'b', 'c']);
    assert.equal(list.metadata?.resourceVersion, '200');
    assert.deepEqual(asked, [{ limit: LIST_PAGE_SIZE }, { limit: LIST_PAGE_SIZE, _continue: 't1' }, {}]);
  });

  it('other failures of a page fail the list (the informer retries it with backoff)', async () => {
    await assert.rejects(
      listInPages(async (p) => {
        if (p._continue) throw new ApiException(500, 'boom', {}, {});
        return page(['a'], 't1');
      }),
      (err: unknown) => err instanceof ApiException && err.code === 500,
    );
  });
});
