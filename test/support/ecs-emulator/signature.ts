/**
 * ACS3-HMAC-SHA256, as `@alicloud/openapi-core` computes it (see README.md in this folder).
 * Used by the emulator to verify requests, and exported so tests can sign raw requests
 * (replayed nonces, stale dates) the SDK would never send.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = sha256Hex('');

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986: encodeURIComponent plus `! ' ( ) *`. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Decodes a raw query string (without `?`). `+` is a space, as in form encoding. Repeated keys: the last wins.
 * Throws URIError on a malformed escape.
 */
export function parseQuery(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out[decodeURIComponent(k.replace(/\+/g, ' '))] = decodeURIComponent(v.replace(/\+/g, ' '));
  }
  return out;
}

/** Keys sorted by UTF-16 code unit, `key=rfc3986(value)` joined with `&` (keys as-is, like the SDK). */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${rfc3986(params[k] ?? '')}`)
    .join('&');
}

export function canonicalRequest(
  method: string,
  path: string,
  params: Record<string, string>,
  headerValue: (name: string) => string,
  signedHeaders: string[],
  payloadHash: string,
): string {
  const headers = signedHeaders.map((h) => `${h}:${headerValue(h).trim()}\n`).join('');
  return `${method}\n${path}\n${canonicalQuery(params)}\n${headers}\n${signedHeaders.join(';')}\n${payloadHash}`;
}

export function stringToSign(canonical: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
}

export function signatureOf(secret: string, toSign: string): string {
  return createHmac('sha256', secret).update(toSign).digest('hex');
}

export function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export interface ParsedAuthorization {
  algorithm: string;
  credential?: string;
  signedHeaders?: string[];
  signature?: string;
}

export function parseAuthorization(header: string): ParsedAuthorization {
  const m = /^\s*(\S+)\s+(.*)$/s.exec(header);
  if (!m) return { algorithm: header.trim() };
  const out: ParsedAuthorization = { algorithm: m[1] ?? '' };
  for (const part of (m[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 'Credential') out.credential = v;
    else if (k === 'SignedHeaders') out.signedHeaders = v.split(';').map((s) => s.trim().toLowerCase()).filter(Boolean);
    else if (k === 'Signature') out.signature = v;
  }
  return out;
}

/** `YYYY-MM-DDTHH:MM:SSZ` */
export function acsDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface SignRequestInput {
  host: string;
  action: string;
  params?: Record<string, string>;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  version?: string;
  method?: string;
  /** Default now. */
  date?: string;
  /** Default a random UUID. */
  nonce?: string;
  body?: string;
}

export interface SignedRequest {
  method: string;
  /** `/?` + RFC 3986 encoded query. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Signs a request the way the SDK does; for raw-HTTP tests. */
export function signRequest(input: SignRequestInput): SignedRequest {
  const method = input.method ?? 'POST';
  const params = input.params ?? {};
  const body = input.body ?? '';
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-action': input.action,
    'x-acs-version': input.version ?? '2014-05-26',
    'x-acs-date': input.date ?? acsDate(Date.now()),
    'x-acs-signature-nonce': input.nonce ?? randomUUID(),
    'x-acs-content-sha256': sha256Hex(body),
  };
  if (input.securityToken) {
    headers['x-acs-accesskey-id'] = input.accessKeyId;
    headers['x-acs-security-token'] = input.securityToken;
  }
  const signed = Object.keys(headers).sort();
  const canonical = canonicalRequest(method, '/', params, (h) => headers[h] ?? '', signed, headers['x-acs-content-sha256'] ?? '');
  const signature = signatureOf(input.accessKeySecret, stringToSign(canonical));
  headers.authorization = `${ACS3_ALGORITHM} Credential=${input.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  const qs = Object.keys(params)
    .map((k) => `${rfc3986(k)}=${rfc3986(params[k] ?? '')}`)
    .join('&');
  return { method, path: qs ? `/?${qs}` : '/', headers, body };
}
