/**
 * The API gateway's checks of a call: ACS3-HMAC-SHA256 signature, access key, date, STS token
 * and nonce, with the error codes ECS answers (see README.md, "Signature").
 */
import { ecsError } from './errors.ts';
import { ACS3_ALGORITHM, canonicalRequest, parseAuthorization, safeEqualHex, sha256Hex, signatureOf, stringToSign } from './signature.ts';
import type { AccessKey } from './types.ts';

export const DATE_TOLERANCE_MS = 15 * 60 * 1000;

/** What the verifier needs to know of a call. */
export interface SignedCall {
  method: string;
  path: string;
  params: Record<string, string>;
  body: Buffer;
  header: (name: string) => string | undefined;
  headerNames: string[];
}

export class RequestVerifier {
  private readonly keys = new Map<string, AccessKey>();
  /** `accessKeyId|nonce` -> wall-clock time until which it counts as used. */
  private readonly nonces = new Map<string, number>();

  constructor(
    keys: AccessKey[],
    private readonly wallClock: () => number,
  ) {
    for (const k of keys) this.keys.set(k.accessKeyId, k);
  }

  /** Throws the gateway's error when the request does not verify. */
  verify(call: SignedCall): void {
    const h = call.header;
    const authz = h('authorization');
    if (!authz) throw ecsError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: Authorization header is missing.');
    const auth = parseAuthorization(authz);
    if (auth.algorithm !== ACS3_ALGORITHM) {
      throw ecsError('IncompleteSignature', `The request signature does not conform to Aliyun standards: unsupported algorithm "${auth.algorithm}".`);
    }
    if (!auth.credential || !auth.signedHeaders || !auth.signature) {
      throw ecsError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: Credential, SignedHeaders and Signature are required.');
    }
    const key = this.keys.get(auth.credential);
    if (!key) throw ecsError('InvalidAccessKeyId.NotFound');
    if (key.inactive) throw ecsError('InvalidAccessKeyId.Inactive');

    const date = h('x-acs-date');
    if (!date || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date) || Number.isNaN(Date.parse(date))) {
      throw ecsError('InvalidTimeStamp.Format');
    }
    if (Math.abs(this.wallClock() - Date.parse(date)) > DATE_TOLERANCE_MS) throw ecsError('InvalidTimeStamp.Expired');

    const token = h('x-acs-security-token');
    if ((key.securityToken ?? '') !== (token ?? '')) throw ecsError('InvalidSecurityToken.MismatchWithAccessKey');
    const akHeader = h('x-acs-accesskey-id');
    if (akHeader !== undefined && akHeader !== auth.credential) throw ecsError('InvalidSecurityToken.MismatchWithAccessKey');

    const signed = auth.signedHeaders;
    if (!signed.includes('host')) throw ecsError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: header "host" must be signed.');
    for (const name of call.headerNames) {
      if (name.startsWith('x-acs-') && !signed.includes(name)) {
        throw ecsError('IncompleteSignature', `The request signature does not conform to Aliyun standards: header "${name}" must be signed.`);
      }
    }
    const payloadHash = h('x-acs-content-sha256');
    if (!payloadHash) throw ecsError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: x-acs-content-sha256 is missing.');
    if (payloadHash !== sha256Hex(call.body)) throw ecsError('SignatureDoesNotMatch', 'Specified x-acs-content-sha256 does not match the request body.');

    const canonical = canonicalRequest(call.method, call.path, call.params, (n) => h(n) ?? '', signed, payloadHash);
    const toSign = stringToSign(canonical);
    if (!safeEqualHex(signatureOf(key.accessKeySecret, toSign), auth.signature.toLowerCase())) {
      throw ecsError('SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${toSign}`);
    }

    const nonce = h('x-acs-signature-nonce');
    if (!nonce) throw ecsError('MissingSignatureNonce');
    const nonceKey = `${auth.credential}|${nonce}`;
    const wall = this.wallClock();
    if ((this.nonces.get(nonceKey) ?? -Infinity) > wall) throw ecsError('SignatureNonceUsed');
    this.nonces.set(nonceKey, wall + 2 * DATE_TOLERANCE_MS);
    if (this.nonces.size > 100_000) {
      for (const [k, exp] of this.nonces) if (exp <= wall) this.nonces.delete(k);
    }
  }
}
