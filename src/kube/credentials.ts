import { createHash } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { AccessKey } from '../ecs/gateway.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { describeKubeError, isForbidden, isNotFound } from './errors.ts';

/** The resource's credentials cannot be used: terminal (InvalidCredentials) until a person acts. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export interface ResolvedCredentials {
  credentialsKey: string;
  accessKey?: AccessKey;
}

export interface CredentialsSource {
  resolve(namespace: string, secretName: string | undefined): Promise<ResolvedCredentials>;
}

const MAX_VALUE_BYTES = 2048;
const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * Reads a resource's credentials Secret, always from the resource's own namespace (the spec has
 * no namespace field, so another namespace can never be named). Values are checked for shape
 * and never echoed; a short TTL cache keeps thousands of resources sharing one Secret from
 * reading it on every pass.
 */
export class SecretCredentials implements CredentialsSource {
  private readonly cache = new Map<string, { at: number; value: ResolvedCredentials | CredentialsError }>();
  private readonly clock: Clock;

  constructor(
    private readonly api: CoreV1Api,
    private readonly ttlMs = 30_000,
    clock?: Clock,
  ) {
    this.clock = clock ?? realClock;
  }

  async resolve(namespace: string, secretName: string | undefined): Promise<ResolvedCredentials> {
    if (!secretName) return { credentialsKey: 'default' };
    const key = `${namespace}/${secretName}`;
    const hit = this.cache.get(key);
    // A missing or broken Secret is looked at again sooner than a good one, so that fixing it shows quickly.
    const ttl = hit?.value instanceof CredentialsError ? Math.min(this.ttlMs, 2_000) : this.ttlMs;
    if (hit && this.clock.now() - hit.at < ttl) {
      if (hit.value instanceof CredentialsError) throw hit.value;
      return hit.value;
    }
    const value = await this.read(namespace, secretName);
    this.cache.set(key, { at: this.clock.now(), value });
    if (value instanceof CredentialsError) throw value;
    return value;
  }

  private async read(namespace: string, name: string): Promise<ResolvedCredentials | CredentialsError> {
    let data: Record<string, string> | undefined;
    try {
      const secret = await this.api.readNamespacedSecret({ name, namespace });
      data = secret.data;
    } catch (err) {
      if (isNotFound(err)) return new CredentialsError(`credentials Secret ${namespace}/${name} not found`);
      if (isForbidden(err)) return new CredentialsError(`credentials Secret ${namespace}/${name} cannot be read: forbidden`);
      // The API server is unavailable: not the user's fault; the pass is retried.
      throw new Error(`reading credentials Secret ${namespace}/${name}: ${describeKubeError(err)}`);
    }
    const field = (k: string, required: boolean): string | undefined | CredentialsError => {
      const raw = data?.[k];
      if (raw === undefined || raw === '') {
        return required ? new CredentialsError(`credentials Secret ${namespace}/${name} has no key ${k}`) : undefined;
      }
      const bytes = Buffer.from(raw, 'base64');
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return new CredentialsError(`credentials Secret ${namespace}/${name} key ${k} is not valid UTF-8`);
      }
      if (bytes.length > MAX_VALUE_BYTES || !PRINTABLE.test(text)) {
        return new CredentialsError(
          `credentials Secret ${namespace}/${name} key ${k} is not a valid credential (printable ASCII without spaces, at most ${MAX_VALUE_BYTES} bytes)`,
        );
      }
      return text;
    };
    const id = field('accessKeyId', true);
    const secret = field('accessKeySecret', true);
    const token = field('securityToken', false);
    for (const v of [id, secret, token]) if (v instanceof CredentialsError) return v;
    const accessKey: AccessKey = {
      accessKeyId: id as string,
      accessKeySecret: secret as string,
      ...(typeof token === 'string' ? { securityToken: token } : {}),
    };
    const digest = createHash('sha256')
      .update(`${namespace}/${name}\u0000${accessKey.accessKeyId}\u0000${accessKey.accessKeySecret}\u0000${accessKey.securityToken ?? ''}`)
      .digest('hex')
      .slice(0, 20);
    return { credentialsKey: `secret:${digest}`, accessKey };
  }
}
