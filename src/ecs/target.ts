import { createHash } from 'node:crypto';
import type { EcsTarget } from './gateway.ts';

/** The AccessKeyId the controller's own credential chain stands for (its id is not known up front). */
export const DEFAULT_ACCOUNT = 'default';

/**
 * The key of a client and its rate limiter: region and AccessKeyId. ECS throttles per account and
 * region, so two Secrets holding the same AccessKey share one limiter, and a rotated Secret (STS
 * tokens rotate hourly, each with a new AccessKeyId) does not keep its predecessor's budget.
 */
export function accountKey(target: EcsTarget): string {
  return `${target.regionId}|${target.accessKey?.accessKeyId ?? DEFAULT_ACCOUNT}`;
}

/**
 * The key of a batch: requests sharing one call must be signed by identical credentials, so the
 * secret and token count too (as a digest: the key is kept in memory and may be logged).
 */
export function signingKey(target: EcsTarget): string {
  return `${accountKey(target)}|${credentialsDigest(target)}`;
}

/** A digest of the signing material; changes when a Secret is fixed or rotated in place. */
export function credentialsDigest(target: EcsTarget): string {
  const key = target.accessKey;
  if (!key) return DEFAULT_ACCOUNT;
  return createHash('sha256')
    .update(`${key.accessKeyId}\u0000${key.accessKeySecret}\u0000${key.securityToken ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}
