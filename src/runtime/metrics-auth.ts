// --metrics-secure: /metrics over HTTPS, for callers that Kubernetes authenticates (TokenReview)
// and authorises (SubjectAccessReview: verb `get` on the non-resource URL `/metrics`), as
// controller-runtime's filters.WithAuthenticationAndAuthorization does. Answers: 401 without a
// valid bearer token, 403 when the user may not get the path, 500 when a review cannot be made.
// Reviews are cached like controller-runtime's delegating authenticator and authorizer (token 1
// min; allowed 5 min, denied 30 s), so a scrape every 30 s costs the API server almost nothing.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { makeTimedClient } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import { realClock, type Clock } from '../util/clock.ts';
import type { Protection } from './protected-server.ts';
import { loadCertDir, selfSignedCert, type ServingCert } from './serving-cert.ts';

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two reviews, as the API server answers them. Rejects when the API server cannot answer. */
export interface AccessReviews {
  /** The token's user, or undefined when the token is not valid. */
  authenticate(token: string): Promise<UserInfo | undefined>;
  authorize(user: UserInfo, verb: string, path: string): Promise<{ allowed: boolean; reason: string }>;
}

export interface Denial {
  status: 401 | 403 | 500;
  message: string;
}

export interface ReviewTtls {
  authenticatedMs: number;
  unauthenticatedMs: number;
  allowedMs: number;
  deniedMs: number;
}

/** controller-runtime's values (pkg/metrics/filters). */
export const DEFAULT_REVIEW_TTLS: ReviewTtls = { authenticatedMs: 60_000, unauthenticatedMs: 60_000, allowedMs: 300_000, deniedMs: 30_000 };
const MAX_CACHED = 1024;

/** controller-runtime's TokenAccessReviewTimeout; a review that takes longer fails the request. */
const REVIEW_TIMEOUT_MS = 10_000;

export function kubeAccessReviews(kubeConfig: KubeConfig): AccessReviews {
  const authn = makeTimedClient(kubeConfig, AuthenticationV1Api, REVIEW_TIMEOUT_MS);
  const authz = makeTimedClient(kubeConfig, AuthorizationV1Api, REVIEW_TIMEOUT_MS);
  return {
    async authenticate(token) {
      const review = await authn.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
      const status = review.status;
      if (!status?.authenticated || !status.user?.username) return undefined;
      const { username, uid, groups, extra } = status.user;
      return { username, ...(uid ? { uid } : {}), ...(groups ? { groups } : {}), ...(extra ? { extra } : {}) };
    },
    async authorize(user, verb, path) {
      const review = await authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            ...(user.uid ? { uid: user.uid } : {}),
            ...(user.groups ? { groups: user.groups } : {}),
            ...(user.extra ? { extra: user.extra } : {}),
            nonResourceAttributes: { verb, path },
          },
        },
      });
      return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
    },
  };
}

interface Entry<T> {
  value: Promise<T>;
  expiresAt: number;
}

/** Results by key, for a TTL chosen by result; concurrent lookups of one key share one review; failures are not kept. */
class ReviewCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlOf: (value: T) => number,
  ) {}

  get(key: string, review: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.clock.now()) return hit.value;
    this.entries.delete(key);
    while (this.entries.size >= MAX_CACHED) this.entries.delete(this.entries.keys().next().value!);
    const entry: Entry<T> = { value: review(), expiresAt: Infinity };
    this.entries.set(key, entry);
    entry.value.then(
      (v) => (entry.expiresAt = this.clock.now() + this.ttlOf(v)),
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }
}

export class MetricsAuthFilter {
  private readonly tokens: ReviewCache<UserInfo | undefined>;
  private readonly decisions: ReviewCache<{ allowed: boolean; reason: string }>;

  constructor(
    private readonly reviews: AccessReviews,
    private readonly log: Logger,
    clock: Clock = realClock,
    ttl: ReviewTtls = DEFAULT_REVIEW_TTLS,
  ) {
    this.tokens = new ReviewCache(clock, (user) => (user ? ttl.authenticatedMs : ttl.unauthenticatedMs));
    this.decisions = new ReviewCache(clock, (d) => (d.allowed ? ttl.allowedMs : ttl.deniedMs));
  }

  /** undefined: let the request through. */
  async check(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>): Promise<Denial | undefined> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return { status: 401, message: 'Unauthorized' };
    let user: UserInfo | undefined;
    try {
      user = await this.tokens.get(createHash('sha256').update(token).digest('hex'), () => this.reviews.authenticate(token));
    } catch (err) {
      this.log.error('metrics: TokenReview failed', { error: errorText(err) });
      return { status: 401, message: 'Unauthorized' };
    }
    if (!user) return { status: 401, message: 'Unauthorized' };
    const verb = (req.method ?? 'GET').toLowerCase();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const subject = user;
    try {
      const decision = await this.decisions.get(JSON.stringify([subject.username, subject.uid, subject.groups, subject.extra, verb, path]), () =>
        this.reviews.authorize(subject, verb, path),
      );
      if (decision.allowed) return undefined;
      this.log.debug('metrics: access denied', { user: subject.username, verb, path, reason: decision.reason });
      return { status: 403, message: `Authorization denied for user ${subject.username}` };
    } catch (err) {
      this.log.error('metrics: SubjectAccessReview failed', { user: subject.username, error: errorText(err) });
      return { status: 500, message: `Authorization for user ${subject.username} failed` };
    }
  }
}

export interface SecureServing extends Protection {
  /** A directory, or "self-signed". */
  certSource: string;
}

/** What `serve()` needs for --metrics-secure: the certificate (from certDir, else self-signed) and the filter. */
export function secureMetricsServing(options: { certDir?: string; kubeConfig: KubeConfig; log: Logger; reviews?: AccessReviews }): SecureServing {
  const serving: ServingCert = options.certDir ? loadCertDir(options.certDir) : selfSignedCert(['localhost', hostname(), '127.0.0.1', '::1']);
  const filter = new MetricsAuthFilter(options.reviews ?? kubeAccessReviews(options.kubeConfig), options.log);
  return { tls: { cert: serving.cert, key: serving.key }, guard: (req) => filter.check(req), certSource: serving.source };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
