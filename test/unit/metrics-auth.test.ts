// The --metrics-secure filter: who gets 401, 403, 500 or through, and how long a review is
// reused (controller-runtime's TTLs), with an injected clock and reviews that count their calls.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_REVIEW_TTLS, MetricsAuthFilter, type AccessReviews, type UserInfo } from '../../src/runtime/metrics-auth.ts';
import { createLogger } from '../../src/log.ts';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.ts';

const READER: UserInfo = { username: 'system:serviceaccount:monitoring:prometheus', uid: 'u-1', groups: ['system:serviceaccounts'] };
const STRANGER: UserInfo = { username: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts'] };

class FakeReviews implements AccessReviews {
  tokenReviews: string[] = [];
  accessReviews: Array<{ user: string; verb: string; path: string }> = [];
  users = new Map<string, UserInfo>([
    ['reader-token', READER],
    ['stranger-token', STRANGER],
  ]);
  allowed = new Set<string>([READER.username]);
  failTokenReview = false;
  failAccessReview = false;

  async authenticate(token: string): Promise<UserInfo | undefined> {
    this.tokenReviews.push(token);
    if (this.failTokenReview) throw new Error('connect ECONNREFUSED');
    return this.users.get(token);
  }

  async authorize(user: UserInfo, verb: string, path: string): Promise<{ allowed: boolean; reason: string }> {
    this.accessReviews.push({ user: user.username, verb, path });
    if (this.failAccessReview) throw new Error('connect ECONNREFUSED');
    const allowed = this.allowed.has(user.username) && verb === 'get' && path === '/metrics';
    return { allowed, reason: allowed ? 'RBAC: allowed by ClusterRoleBinding' : '' };
  }
}

function setup(): { filter: MetricsAuthFilter; reviews: FakeReviews; clock: FakeClock; logs: string[] } {
  const reviews = new FakeReviews();
  const clock = new FakeClock();
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json' }, (l) => logs.push(l));
  return { filter: new MetricsAuthFilter(reviews, log, clock), reviews, clock, logs };
}

const request = (headers: IncomingHttpHeaders, url = '/metrics', method = 'GET') => ({ method, url, headers });
const bearer = (token: string) => request({ authorization: `Bearer ${token}` });

describe('MetricsAuthFilter (--metrics-secure)', () => {
  describe('answers', () => {
    const table: Array<{ name: string; req: ReturnType<typeof request>; want: number | undefined; message?: RegExp }> = [
      { name: 'no Authorization header', req: request({}), want: 401, message: /^Unauthorized$/ },
      { name: 'a Basic credential', req: request({ authorization: 'Basic cmVhZGVyOnB3' }), want: 401 },
      { name: '"Bearer" without a token', req: request({ authorization: 'Bearer ' }), want: 401 },
      { name: 'a token the API server does not know', req: bearer('forged-token'), want: 401 },
      { name: 'a valid token whose user may not get /metrics', req: bearer('stranger-token'), want: 403, message: /^Authorization denied for user system:serviceaccount:default:default$/ },
      { name: 'a valid token whose user may get /metrics', req: bearer('reader-token'), want: undefined },
      { name: 'lower-case "bearer"', req: request({ authorization: 'bearer reader-token' }), want: undefined },
      { name: 'the reader on another path (reviewed for that path)', req: request({ authorization: 'Bearer reader-token' }, '/debug'), want: 403 },
      { name: 'the reader with POST (verb post)', req: request({ authorization: 'Bearer reader-token' }, '/metrics', 'POST'), want: 403 },
    ];
    for (const r of table) {
      it(`${r.name}: ${r.want ?? 'through'}`, async () => {
        const { filter } = setup();
        const denied = await filter.check(r.req);
        assert.equal(denied?.status, r.want);
        if (r.message) assert.match(denied!.message, r.message);
      });
    }
  });

  it('reviews the path without its query string, with the lower-case HTTP method as verb', async () => {
    const { filter, reviews } = setup();
    assert.equal(await filter.check(request({ authorization: 'Bearer reader-token' }, '/metrics?name[]=up', 'GET')), undefined);
    await filter.check(request({ authorization: 'Bearer reader-token' }, '/metrics', 'HEAD'));
    assert.deepEqual(reviews.accessReviews, [
      { user: READER.username, verb: 'get', path: '/metrics' },
      { user: READER.username, verb: 'head', path: '/metrics' },
    ]);
  });

  it('no review at all for a request without a bearer token', async () => {
    const { filter, reviews } = setup();
    await filter.check(request({}));
    assert.deepEqual([reviews.tokenReviews, reviews.accessReviews], [[], []]);
  });

  describe('caching (controller-runtime: token 1 min, allowed 5 min, denied 30 s)', () => {
    const table: Array<{ name: string; token: string; ttlMs: number; reviewsOf: (r: FakeReviews) => unknown[] }> = [
      { name: 'a valid token is re-reviewed after 1 min', token: 'reader-token', ttlMs: DEFAULT_REVIEW_TTLS.authenticatedMs, reviewsOf: (r) => r.tokenReviews },
      { name: 'an invalid token is re-reviewed after 1 min', token: 'forged-token', ttlMs: DEFAULT_REVIEW_TTLS.unauthenticatedMs, reviewsOf: (r) => r.tokenReviews },
      { name: 'an allowed decision is re-reviewed after 5 min', token: 'reader-token', ttlMs: DEFAULT_REVIEW_TTLS.allowedMs, reviewsOf: (r) => r.accessReviews },
      { name: 'a denied decision is re-reviewed after 30 s', token: 'stranger-token', ttlMs: DEFAULT_REVIEW_TTLS.deniedMs, reviewsOf: (r) => r.accessReviews },
    ];
    for (const r of table) {
      it(r.name, async () => {
        const { filter, reviews, clock } = setup();
        const first = await filter.check(bearer(r.token));
        await flushMicrotasks();
        assert.equal(r.reviewsOf(reviews).length, 1);
        clock.advance(r.ttlMs - 1);
        assert.deepEqual(await filter.check(bearer(r.token)), first);
        assert.equal(r.reviewsOf(reviews).length, 1, 'reused within the TTL');
        clock.advance(1);
        assert.deepEqual(await filter.check(bearer(r.token)), first);
        assert.equal(r.reviewsOf(reviews).length, 2, 'reviewed again once the TTL is over');
      });
    }

    it('a revoked permission shows once the allowed decision expires', async () => {
      const { filter, reviews, clock } = setup();
      assert.equal(await filter.check(bearer('reader-token')), undefined);
      reviews.allowed.clear();
      clock.advance(DEFAULT_REVIEW_TTLS.allowedMs - 1);
      assert.equal(await filter.check(bearer('reader-token')), undefined, 'still cached');
      clock.advance(DEFAULT_REVIEW_TTLS.allowedMs);
      assert.equal((await filter.check(bearer('reader-token')))?.status, 403);
    });

    it('concurrent scrapes with one token share one TokenReview and one SubjectAccessReview', async () => {
      const { filter, reviews } = setup();
      const answers = await Promise.all(Array.from({ length: 5 }, () => filter.check(bearer('reader-token'))));
      assert.deepEqual(answers, [undefined, undefined, undefined, undefined, undefined]);
      assert.equal(reviews.tokenReviews.length, 1);
      assert.equal(reviews.accessReviews.length, 1);
    });

    it('holds at most 1024 tokens: the oldest is reviewed again', async () => {
      const { filter, reviews } = setup();
      for (let i = 0; i <= 1024; i++) await filter.check(bearer(`t-${i}`));
      await filter.check(bearer('t-1024'));
      assert.equal(reviews.tokenReviews.length, 1025, 'the newest is still cached');
      await filter.check(bearer('t-0'));
      assert.equal(reviews.tokenReviews.length, 1026, 'the oldest was dropped');
    });
  });

  describe('when the API server cannot answer', () => {
    it('TokenReview failing: 401, logged without the token, and not cached', async () => {
      const { filter, reviews, logs } = setup();
      reviews.failTokenReview = true;
      assert.equal((await filter.check(bearer('reader-token')))?.status, 401);
      reviews.failTokenReview = false;
      assert.equal(await filter.check(bearer('reader-token')), undefined, 'the next scrape is reviewed again');
      assert.equal(reviews.tokenReviews.length, 2);
      assert.match(logs.join('\n'), /TokenReview failed/);
      assert.doesNotMatch(logs.join('\n'), /reader-token/);
    });

    it('SubjectAccessReview failing: 500 naming the user, and not cached', async () => {
      const { filter, reviews } = setup();
      reviews.failAccessReview = true;
      const denied = await filter.check(bearer('reader-token'));
      assert.deepEqual(denied, { status: 500, message: `Authorization for user ${READER.username} failed` });
      reviews.failAccessReview = false;
      assert.equal(await filter.check(bearer('reader-token')), undefined);
      assert.equal(reviews.accessReviews.length, 2);
    });
  });
});
