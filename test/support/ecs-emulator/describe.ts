/**
 * DescribeInstanceStatus and DescribeInstances: what they report (the described power state,
 * see `state.ts`), their filters (RegionId, InstanceIds, Tag.N) and their paging.
 *
 * DescribeInstances pages two ways. Token paging (`MaxResults` or `NextToken` given): MaxResults
 * below 10 means 10 and above 100 means 100 (as the SDK documents it, no error); NextToken is an
 * opaque cursor on the creation order, so instances added or released between two pages neither
 * shift nor repeat the others; a token this emulator did not issue answers 400
 * `InvalidParameter.NextToken`; `TotalCount` is documented as meaningless in this mode and is
 * the number of instances on the page. Legacy paging: `PageSize` (1-100, default 10) and
 * `PageNumber`, `TotalCount` exact.
 */
import { createHmac } from 'node:crypto';
import { ecsError, invalidParameter } from './errors.ts';
import { familyOf } from './instance-types.ts';
import { MAX_IDS, int, repeatList, required } from './params.ts';
import type { Params } from './params.ts';
import { reportedStoppedMode, shapeOfRecord } from './state.ts';
import type { InstanceRecord, InstanceStore } from './state.ts';

type Body = Record<string, unknown>;

export interface DescribeContext {
  /** At most this many instances match a tag-filtered DescribeInstances. */
  tagFilterLimit: number;
  /** Signs NextToken values. */
  tokenKey: Buffer;
}

const MAX_TAG_FILTERS = 20;

export function describeInstanceStatus(params: Params, store: InstanceStore): Body {
  const regionId = required(params, 'RegionId');
  const ids = repeatList(params, 'InstanceId');
  if (ids.length > MAX_IDS) throw invalidParameter('InstanceId', `At most ${MAX_IDS} instance IDs.`);
  const pageSize = int(params, 'PageSize', 1, 50, 10);
  const pageNumber = int(params, 'PageNumber', 1, Number.MAX_SAFE_INTEGER, 1);
  const wanted = ids.length ? new Set(ids) : undefined;
  const all = store.list().filter((r) => r.regionId === regionId && (!wanted || wanted.has(r.instanceId)));
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    TotalCount: all.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    InstanceStatuses: { InstanceStatus: page.map((r) => ({ InstanceId: r.instanceId, Status: store.describedStateOf(r).status })) },
  };
}

function describeInstance(store: InstanceStore, r: InstanceRecord): Body {
  const state = store.describedStateOf(r);
  const shape = shapeOfRecord(r);
  return {
    InstanceId: r.instanceId,
    InstanceName: r.instanceId,
    HostName: r.instanceId,
    RegionId: r.regionId,
    ZoneId: `${r.regionId}-a`,
    Status: state.status,
    InstanceChargeType: r.chargeType,
    SpotStrategy: r.spot ? 'SpotAsPriceGo' : 'NoSpot',
    InstanceNetworkType: r.networkType,
    StoppedMode: reportedStoppedMode(state),
    InstanceType: r.instanceType,
    InstanceTypeFamily: familyOf(r.instanceType),
    Cpu: shape.cpu,
    Memory: shape.memoryMiB,
    HibernationOptions: { Configured: r.hibernationConfigured },
    Tags: { Tag: Object.entries(r.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
    OperationLocks: { LockReason: r.locks.map((l) => ({ LockReason: l })) },
    CreationTime: '2024-01-01T00:00Z',
    ExpiredTime: '2099-12-31T15:59Z',
  };
}

interface TagFilter {
  key: string;
  /** Undefined: any value. */
  value: string | undefined;
}

/** `Tag.N.Key` / `Tag.N.Value` (and the deprecated lower-case `key` / `value`), N = 1..20. */
export function tagFilters(params: Params): TagFilter[] {
  const byIndex = new Map<number, { key?: string; value?: string }>();
  for (const [name, v] of Object.entries(params)) {
    const m = /^Tag\.(\d+)\.(Key|Value|key|value)$/.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    if (n < 1 || n > MAX_TAG_FILTERS) throw ecsError('InvalidTagCount');
    const entry = byIndex.get(n) ?? {};
    if (m[2]?.toLowerCase() === 'key') entry.key = v;
    else entry.value = v;
    byIndex.set(n, entry);
  }
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, e]) => {
      if (e.key === undefined) throw ecsError('InvalidTag.Mismatch');
      if (e.key === '') throw ecsError('InvalidTagKey.Malformed');
      return { key: e.key, value: e.value };
    });
}

function matchesTags(r: InstanceRecord, filters: TagFilter[]): boolean {
  return filters.every((f) => Object.hasOwn(r.tags, f.key) && (f.value === undefined || r.tags[f.key] === f.value));
}

function instanceIdsFilter(params: Params): Set<string> | undefined {
  if (params.InstanceIds === undefined || params.InstanceIds === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(params.InstanceIds);
  } catch {
    throw invalidParameter('InstanceIds', 'Expected a JSON array of instance IDs.');
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
    throw invalidParameter('InstanceIds', 'Expected a JSON array of instance IDs.');
  }
  if (parsed.length > MAX_IDS) throw invalidParameter('InstanceIds', `At most ${MAX_IDS} instance IDs.`);
  // An empty array is a filter too: it matches nothing.
  return new Set(parsed as string[]);
}

// A token: 16 hex digits of the cursor (creation sequence of the last instance returned) and
// 16 hex digits of its HMAC, 32 hex digits in all like the tokens ECS hands out.
function encodeToken(key: Buffer, seq: number): string {
  const cursor = seq.toString(16).padStart(16, '0');
  return cursor + createHmac('sha256', key).update(cursor).digest('hex').slice(0, 16);
}

function decodeToken(key: Buffer, token: string): number {
  const m = /^([0-9a-f]{16})([0-9a-f]{16})$/.exec(token);
  if (!m || encodeToken(key, parseInt(m[1] as string, 16)) !== token) throw ecsError('InvalidParameter.NextToken');
  return parseInt(m[1] as string, 16);
}

function maxResults(params: Params): number {
  const v = params.MaxResults;
  if (v === undefined || v === '') return 10;
  if (!/^-?\d+$/.test(v)) throw invalidParameter('MaxResults', 'Expected an integer.');
  return Math.min(100, Math.max(10, Number(v)));
}

export function describeInstances(params: Params, store: InstanceStore, context: DescribeContext): Body {
  const regionId = required(params, 'RegionId');
  const wanted = instanceIdsFilter(params);
  const tags = tagFilters(params);
  let all = store.list().filter((r) => r.regionId === regionId && (!wanted || wanted.has(r.instanceId)) && matchesTags(r, tags));
  if (tags.length > 0) all = all.slice(0, context.tagFilterLimit);

  const tokenMode = (params.NextToken ?? '') !== '' || (params.MaxResults ?? '') !== '';
  if (tokenMode) {
    const max = maxResults(params);
    const after = params.NextToken ? decodeToken(context.tokenKey, params.NextToken) : 0;
    const rest = all.filter((r) => r.seq > after);
    const page = rest.slice(0, max);
    const last = page.at(-1);
    const next = rest.length > max && last ? encodeToken(context.tokenKey, last.seq) : '';
    return { TotalCount: page.length, NextToken: next, Instances: { Instance: page.map((r) => describeInstance(store, r)) } };
  }
  const pageSize = int(params, 'PageSize', 1, 100, 10);
  const pageNumber = int(params, 'PageNumber', 1, Number.MAX_SAFE_INTEGER, 1);
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    TotalCount: all.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    NextToken: '',
    Instances: { Instance: page.map((r) => describeInstance(store, r)) },
  };
}
