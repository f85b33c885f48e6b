import type { CoreV1Api } from '@kubernetes/client-node';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { describeKubeError, isForbidden, isNotFound } from './errors.ts';

/** Access keys from a resource's credentials Secret. Never logged. */
export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** The resource's credentials cannot be used: terminal (InvalidCredentials) until a person acts. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

/** The keys of a credentials Secret, or none: the controller's own credential chain. */
export interface ResolvedCredentials {
  accessKey?: AccessKey;
}

export interface CredentialsSource {
  resolve(namespace: string, secretName: string | undefined): Promise<ResolvedCredentials>;
}

const MAX_VALUE_BYTES = 2048;
const PRINTABLE = /^[\x21-\x7e]+$/;

export interface SecretCredentialsOptions {
  /** How long a good Secret is used before it is read again. */
  ttlMs?: number;
  /**
   * Namespaces whose resources may use the controller's own credentials (`--default-credentials-namespaces`);
   * undefined: every namespace.
   */
  defaultCredentialsNamespaces?: readonly string[];
  clock?: Clock;
}

/** Cache entries not asked for this long are dropped (deleted Secrets, resources gone). */
const UNUSED_MS = 10 * 60_000;

/**
 * Reads a resource's credentials Secret, always from the resource's own namespace (the spec has
 * no namespace field, so another namespace can never be named). Values are checked for shape
 * and never echoed; a short TTL cache keeps thousands of resources sharing one Secret from
 * reading it on every pass. It also enforces who may use the controller's own credentials.
 */
export class SecretCredentials implements CredentialsSource {
  private readonly cache = new Map<string, { at: number; usedAt: number; value: ResolvedCredentials | CredentialsError }>();
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly defaultNamespaces: ReadonlySet<string> | undefined;
  private lastSweep: number;

  constructor(
    private readonly api: CoreV1Api,
    options: SecretCredentialsOptions = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.defaultNamespaces = options.defaultCredentialsNamespaces ? new Set(options.defaultCredentialsNamespaces) : undefined;
    this.lastSweep = this.clock.now();
  }

  /** Entries held (bounded by the Secrets in use). */
  get size(): number {
    return this.cache.size;
  }

  async resolve(namespace: string, secretName: string | undefined): Promise<ResolvedCredentials> {
    if (!secretName) {
      if (this.defaultNamespaces && !this.defaultNamespaces.has(namespace)) {
        throw new CredentialsError(
          `resources in namespace ${namespace} must name spec.credentialsSecretRef: the controller's own credentials serve only namespaces ${[...this.defaultNamespaces].join(', ')} (--default-credentials-namespaces)`,
        );
      }
      return {};
    }
    const now = this.clock.now();
    this.sweep(now);
    const key = `${namespace}/${secretName}`;
    const hit = this.cache.get(key);
    if (hit) hit.usedAt = now;
    // A missing or broken Secret is looked at again sooner than a good one, so that fixing it shows quickly.
    const ttl = hit?.value instanceof CredentialsError ? Math.min(this.ttlMs, 2_000) : this.ttlMs;
    if (hit && this.clock.now() - hit.at < ttl) {
      if (hit.value instanceof CredentialsError) throw hit.value;
      return hit.value;
    }
    const value = await this.read(namespace, secretName);
    // Replaces what was there: a changed Secret never leaves its old keys behind.
    this.cache.set(key, { at: this.clock.now(), usedAt: this.clock.now(), value });
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
    return { accessKey };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, entry] of this.cache) if (now - entry.usedAt > UNUSED_MS) this.cache.delete(key);
  }
}
