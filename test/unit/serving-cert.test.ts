// The --metrics-secure certificate (self-signed at start, or tls.crt/tls.key from
// --metrics-cert-dir) and the flags that choose it: bad values are a FlagError (exit 2, one line).
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagError, parseFlags } from '../../src/config.ts';
import { protectedServer } from '../../src/runtime/protected-server.ts';
import { loadCertDir, selfSignedCert } from '../../src/runtime/serving-cert.ts';

describe('selfSignedCert()', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const made = selfSignedCert(['localhost', 'ecs-power-controller-7d9f', '127.0.0.1', '::1'], now);
  const x509 = new X509Certificate(made.cert);

  it('is a parsable X.509 v3 certificate, signed by its own key, that the key matches', () => {
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    assert.ok(x509.checkPrivateKey(createPrivateKey(made.key)));
    assert.equal(x509.subject, 'CN=localhost');
    assert.equal(x509.issuer, 'CN=localhost');
    assert.equal(x509.ca, false);
    assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth');
    assert.equal(made.source, 'self-signed');
  });

  it('names every host: DNS names and IPv4/IPv6 addresses', () => {
    assert.equal(x509.subjectAltName, 'DNS:localhost, DNS:ecs-power-controller-7d9f, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(x509.checkHost('ecs-power-controller-7d9f'), 'ecs-power-controller-7d9f');
    assert.equal(x509.checkIP('::1'), '::1');
  });

  it('is valid from a minute before now for a year', () => {
    assert.equal(new Date(x509.validFrom).toISOString(), '2026-03-01T11:59:00.000Z');
    assert.equal(new Date(x509.validTo).toISOString(), '2027-03-01T12:00:00.000Z');
  });

  it('a new key and serial every time', () => {
    const other = new X509Certificate(selfSignedCert(['localhost'], now).cert);
    assert.notEqual(other.serialNumber, x509.serialNumber);
    assert.notEqual(other.fingerprint256, x509.fingerprint256);
  });

  it('serves TLS that a client pinning it accepts, behind the guard', async () => {
    const fresh = selfSignedCert(['localhost', '127.0.0.1']);
    const server = protectedServer(
      { tls: fresh, guard: async (req) => (req.headers.authorization ? undefined : { status: 401, message: 'Unauthorized' }) },
      (_req, res) => res.end('ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/metrics', ca: fresh.cert, headers }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    try {
      assert.deepEqual(await get({}), { status: 401, body: 'Unauthorized\n' });
      assert.deepEqual(await get({ authorization: 'Bearer x' }), { status: 200, body: 'ok' });
    } finally {
      server.close();
    }
  });
});

describe('--metrics-secure and --metrics-cert-dir', () => {
  let dir: string;
  const good = selfSignedCert(['localhost']);
  const other = selfSignedCert(['localhost']);
  const write = (name: string, files: Record<string, string>): string => {
    const sub = mkdtempSync(join(dir, `${name}-`));
    for (const [f, text] of Object.entries(files)) writeFileSync(join(sub, f), text);
    return sub;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-power-certs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('plain HTTP by default; --metrics-secure and --metrics-secure=true turn it on', () => {
    assert.equal(parseFlags([], { env: {} }).metricsSecure, false);
    assert.equal(parseFlags(['--metrics-secure'], { env: {} }).metricsSecure, true);
    assert.equal(parseFlags(['--metrics-secure=true'], { env: {} }).metricsSecure, true);
    assert.equal(parseFlags(['--metrics-secure=false'], { env: {} }).metricsSecure, false);
    assert.equal(parseFlags(['--metrics-secure'], { env: {} }).metricsCertDir, undefined);
  });

  it('a directory holding a matching tls.crt and tls.key is taken, and loaded', () => {
    const certDir = write('good', { 'tls.crt': good.cert, 'tls.key': good.key });
    assert.equal(parseFlags(['--metrics-secure', '--metrics-cert-dir', certDir], { env: {} }).metricsCertDir, certDir);
    const loaded = loadCertDir(certDir);
    assert.equal(loaded.cert, good.cert);
    assert.equal(loaded.source, certDir);
  });

  const bad: Array<{ name: string; argv: (d: string) => string[]; files?: Record<string, string>; message: RegExp }> = [
    { name: '--metrics-secure=maybe', argv: () => ['--metrics-secure=maybe'], message: /--metrics-secure: must be true or false/ },
    { name: 'a cert dir without --metrics-secure', argv: (d) => ['--metrics-cert-dir', d], files: { 'tls.crt': good.cert, 'tls.key': good.key }, message: /--metrics-cert-dir needs --metrics-secure/ },
    { name: 'a directory that does not exist', argv: () => ['--metrics-secure', '--metrics-cert-dir=/nonexistent/certs'], message: /--metrics-cert-dir: cannot read \/nonexistent\/certs\/tls.crt \(ENOENT\)/ },
    { name: 'no tls.key', argv: (d) => ['--metrics-secure', `--metrics-cert-dir=${d}`], files: { 'tls.crt': good.cert }, message: /--metrics-cert-dir: cannot read .*tls\.key/ },
    { name: 'tls.crt is not a certificate', argv: (d) => ['--metrics-secure', `--metrics-cert-dir=${d}`], files: { 'tls.crt': 'hello', 'tls.key': good.key }, message: /tls\.crt is not a PEM certificate/ },
    { name: 'tls.key is not a key', argv: (d) => ['--metrics-secure', `--metrics-cert-dir=${d}`], files: { 'tls.crt': good.cert, 'tls.key': 'hello' }, message: /tls\.key is not a PEM private key/ },
    { name: 'a key of another certificate', argv: (d) => ['--metrics-secure', `--metrics-cert-dir=${d}`], files: { 'tls.crt': good.cert, 'tls.key': other.key }, message: /tls\.key does not match .*tls\.crt/ },
  ];
  for (const b of bad) {
    it(`${b.name}: FlagError on one line`, () => {
      const d = b.files ? write('bad', b.files) : '/unused';
      assert.throws(
        () => parseFlags(b.argv(d), { env: {} }),
        (err: unknown) => err instanceof FlagError && b.message.test(err.message) && !err.message.includes('\n'),
      );
    });
  }
});
