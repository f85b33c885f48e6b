// Key material for the test cluster, made with node:crypto (no openssl needed).
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** RSA key pair for kube-apiserver's --service-account-key-file / --service-account-signing-key-file. */
export function serviceAccountKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** A random bearer token for the static token file. */
export function randomToken(): string {
  return randomBytes(24).toString('hex');
}

/** One line of kube-apiserver's --token-auth-file: token,user,uid,"group1,group2". */
export function tokenFileLine(token: string, user: string, uid: string, groups: readonly string[]): string {
  for (const v of [token, user, uid, ...groups]) {
    if (/[",\n]/.test(v)) throw new Error(`token file value must not contain '"', ',' or newline: ${v}`);
  }
  return groups.length > 0 ? `${token},${user},${uid},"${groups.join(',')}"` : `${token},${user},${uid}`;
}
