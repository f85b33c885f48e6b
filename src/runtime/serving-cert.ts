// The TLS certificate of the --metrics-secure endpoint: tls.crt and tls.key from --metrics-cert-dir
// (a Secret mounted by cert-manager, say), or a self-signed one made in memory at start, as
// controller-runtime does when no certificate directory is given. Node.js can make keys but not
// certificates, so the self-signed one is encoded here (DER, ECDSA P-256 with SHA-256).
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface ServingCert {
  /** PEM */
  cert: string;
  /** PEM */
  key: string;
  /** Where it came from, for the log: a directory, or "self-signed". */
  source: string;
}

export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';

/**
 * Why the directory cannot serve (missing, unreadable or unparsable tls.crt / tls.key, or a key
 * that does not match the certificate), or undefined when it can.
 */
export function certDirProblem(dir: string): string | undefined {
  try {
    loadCertDir(dir);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function loadCertDir(dir: string): ServingCert {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`cannot read ${join(dir, name)}${code ? ` (${code})` : ''}`);
    }
  };
  const cert = read(CERT_FILE);
  const key = read(KEY_FILE);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`${join(dir, CERT_FILE)} is not a PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Error(`${join(dir, KEY_FILE)} is not a PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new Error(`${join(dir, KEY_FILE)} does not match ${join(dir, CERT_FILE)}`);
  return { cert, key, source: dir };
}

/** A self-signed serving certificate for `hosts` (DNS names or IP addresses), valid from now for `days`. */
export function selfSignedCert(hosts: readonly string[], now = new Date(), days = 365): ServingCert {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(set(seq(oid('2.5.4.3'), utf8(hosts[0] ?? 'ecs-power'))));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive
  const notBefore = new Date(now.getTime() - 60_000); // tolerate small clock skew
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const san = seq(
    ...hosts.map((h) => (isIP(h) ? tagged(0x87, ipBytes(h)) : tagged(0x82, Buffer.from(h, 'ascii')))),
  );
  const extensions = seq(
    extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
    extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)), // keyUsage: digitalSignature
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, san),
  );
  const tbs = seq(
    tagged(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tagged(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA signature
  const der = seq(tbs, ecdsaWithSha256, bitString(signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), source: 'self-signed' };
}

// ---- DER ------------------------------------------------------------------------------------

function tagged(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const seq = (...items: Buffer[]): Buffer => tagged(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tagged(0x31, Buffer.concat(items));
const utf8 = (s: string): Buffer => tagged(0x0c, Buffer.from(s, 'utf8'));
const bitString = (bytes: Buffer, unusedBits = 0): Buffer => tagged(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
const octetString = (bytes: Buffer): Buffer => tagged(0x04, bytes);
const boolean = (v: boolean): Buffer => tagged(0x01, Buffer.from([v ? 0xff : 0]));

function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tagged(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tagged(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tagged(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tagged(0x18, Buffer.from(`${iso}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), boolean(true), octetString(value)) : seq(oid(id), octetString(value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::"
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => Buffer.from([parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff])));
}
