/**
 * ListTagResources: the tags of ECS resources, filtered by `ResourceId.N` and/or `Tag.N`, paged
 * with `NextToken`. The way out that ECS documents when a tag-filtered DescribeInstances would
 * match more than 1,000 instances.
 *
 * ECS does not let the caller choose the page size of this call and does not document it; the
 * emulator answers 50 rows a page. A row is one (resource, tag) pair: with a `Tag.N` filter the
 * rows of a matching instance are the filter's tags, without one all of its tags. The cursor is
 * on creation order (like DescribeInstances), so instances released between pages shift nothing.
 */
import { createHmac } from 'node:crypto';
import type { DescribeContext } from './describe.ts';
import { tagFilters } from './describe.ts';
import { ecsError, invalidParameter, missingParameter } from './errors.ts';
import { repeatList, required } from './params.ts';
import type { Params } from './params.ts';
import type { InstanceStore } from './state.ts';

type Body = Record<string, unknown>;

export const TAG_ROWS_PER_PAGE = 50;
const MAX_RESOURCE_IDS = 50;

interface Row {
  seq: number;
  index: number;
  ResourceId: string;
  ResourceType: string;
  TagKey: string;
  TagValue: string;
}

// 12 hex digits of the instance's creation sequence, 4 of the row's index within it, 16 of HMAC.
function encodeToken(key: Buffer, seq: number, index: number): string {
  const cursor = seq.toString(16).padStart(12, '0') + index.toString(16).padStart(4, '0');
  return cursor + createHmac('sha256', key).update(`tags:${cursor}`).digest('hex').slice(0, 16);
}

function decodeToken(key: Buffer, token: string): { seq: number; index: number } {
  const m = /^([0-9a-f]{12})([0-9a-f]{4})[0-9a-f]{16}$/.exec(token);
  const seq = m ? parseInt(m[1] as string, 16) : NaN;
  const index = m ? parseInt(m[2] as string, 16) : NaN;
  if (!m || encodeToken(key, seq, index) !== token) throw ecsError('InvalidParameter.NextToken');
  return { seq, index };
}

export function listTagResources(params: Params, store: InstanceStore, context: DescribeContext): Body {
  const regionId = required(params, 'RegionId');
  const resourceType = required(params, 'ResourceType');
  const ids = repeatList(params, 'ResourceId');
  if (ids.length > MAX_RESOURCE_IDS) throw invalidParameter('ResourceId', `At most ${MAX_RESOURCE_IDS} resource IDs.`);
  const filters = tagFilters(params);
  if (ids.length === 0 && filters.length === 0) throw missingParameter('ResourceId.N or Tag.N');
  const wanted = ids.length ? new Set(ids) : undefined;

  const rows: Row[] = [];
  if (resourceType.toLowerCase() === 'instance') {
    for (const r of store.list()) {
      if (r.regionId !== regionId || (wanted && !wanted.has(r.instanceId))) continue;
      if (!filters.every((f) => Object.hasOwn(r.tags, f.key) && (f.value === undefined || r.tags[f.key] === f.value))) continue;
      const keys = filters.length ? filters.map((f) => f.key) : Object.keys(r.tags);
      keys.forEach((key, index) =>
        rows.push({ seq: r.seq, index, ResourceId: r.instanceId, ResourceType: 'instance', TagKey: key, TagValue: r.tags[key] ?? '' }),
      );
    }
  }
  const after = params.NextToken ? decodeToken(context.tokenKey, params.NextToken) : undefined;
  const rest = after ? rows.filter((r) => r.seq > after.seq || (r.seq === after.seq && r.index > after.index)) : rows;
  const page = rest.slice(0, TAG_ROWS_PER_PAGE);
  const last = page.at(-1);
  return {
    NextToken: rest.length > TAG_ROWS_PER_PAGE && last ? encodeToken(context.tokenKey, last.seq, last.index) : '',
    TagResources: { TagResource: page.map(({ ResourceId, ResourceType, TagKey, TagValue }) => ({ ResourceId, ResourceType, TagKey, TagValue })) },
  };
}
