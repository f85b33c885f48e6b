// --metrics-secure against a real API server: the controller (`node dist/main.js`, as the
// controller's ServiceAccount identity with the RBAC of deploy/components/metrics-secure as
// kustomize renders it) serves /metrics over HTTPS and asks the API server about every caller. Callers are real
// ServiceAccounts with tokens from the TokenRequest API, as Prometheus would present:
// 200 with the ecs-power-metrics-reader ClusterRole, 403 without it, 401 with no or a forged token.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect } from 'node:tls';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ADMIN_USER, CONTROLLER_USER, type TestCluster } from '../support/cluster.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { REPO_ROOT, startControllerProcess, type ControllerProcess } from '../support/process.ts';
import { selfSignedCert } from '../../src/runtime/serving-cert.ts';

const NS = 'metrics-secure-test';
const COMPONENT = join(REPO_ROOT, 'deploy/components/metrics-secure');
const BINDING = `${NS}-scraper`;

interface Answer {
  status: number;
  body: string;
}

function httpsGet(url: string, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The certificate the server presents. */
function peerCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.on('error', reject);
  });
}

describe('--metrics-secure on a real API server', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let controller: ControllerProcess;
  let url: string;
  let port: number;
  const tokens: Record<'scraper' | 'stranger', string> = { scraper: '', stranger: '' };
  let rbac: Array<{ kind: string; metadata: { name: string } }> = [];

  before(async function () {
    this.timeout(180_000);
    cluster = await sharedCluster();
    const kubectl = async (args: string[], input?: string): Promise<void> => {
      const r = await cluster.kubectl(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    };
    await kubectl(['create', 'namespace', NS]);
    // The component's RBAC as kustomize renders it (its binding takes the ServiceAccount's namespace).
    const overlay = mkdtempSync(join(tmpdir(), 'ecs-power-metrics-secure-'));
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      `resources: [${relative(overlay, join(REPO_ROOT, 'deploy'))}]\ncomponents: [${relative(overlay, COMPONENT)}]\n`,
    );
    const rendered = await cluster.kubectl(['kustomize', overlay]);
    rmSync(overlay, { recursive: true, force: true });
    assert.equal(rendered.code, 0, rendered.stderr);
    rbac = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .filter((o) => /^ClusterRole(Binding)?$/.test(o.kind) && o.metadata.name.startsWith('ecs-power-metrics-'));
    assert.deepEqual(rbac.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ClusterRole/ecs-power-metrics-auth',
      'ClusterRole/ecs-power-metrics-reader',
      'ClusterRoleBinding/ecs-power-metrics-auth',
    ]);
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
    // --namespace mode: the informer lists and watches in NS only.
    await kubectl(['-n', NS, 'create', 'role', 'informer', '--verb=list,watch', '--resource=ecsinstancepowers.ecspower.io']);
    await kubectl(['-n', NS, 'create', 'rolebinding', 'informer', '--role=informer', `--user=${CONTROLLER_USER}`]);
    await kubectl(['-n', NS, 'create', 'serviceaccount', 'scraper']);
    await kubectl(['-n', NS, 'create', 'serviceaccount', 'stranger']);
    await kubectl(['create', 'clusterrolebinding', BINDING, '--clusterrole=ecs-power-metrics-reader', `--serviceaccount=${NS}:scraper`]);
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    for (const sa of ['scraper', 'stranger'] as const) {
      const tr = await core.createNamespacedServiceAccountToken({ name: sa, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
      tokens[sa] = tr.status?.token ?? '';
      assert.ok(tokens[sa], `a token for ${sa}`);
    }

    controller = await startControllerProcess({
      name: 'metrics-secure',
      args: ['--kubeconfig', cluster.kubeconfigFor(CONTROLLER_USER), '--namespace', NS, '--metrics-secure'],
    });
    url = controller.metricsUrl!.replace(/^http:/, 'https:');
    port = Number(new URL(url).port);
    await controller.waitForLog(/metrics served over HTTPS/);
  });

  after(async function () {
    this.timeout(30_000);
    await controller?.stop();
    await cluster?.kubectl(['delete', 'clusterrolebinding', BINDING, '--ignore-not-found']);
    for (const o of rbac) await cluster?.kubectl(['delete', o.kind.toLowerCase(), o.metadata.name, '--ignore-not-found']);
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  const table: Array<{ who: string; token: () => string | undefined; status: number; body: RegExp }> = [
    { who: 'a ServiceAccount bound to ecs-power-metrics-reader', token: () => tokens.scraper, status: 200, body: /^# HELP controller_runtime_reconcile_total/m },
    { who: 'a cluster admin (system:masters)', token: () => cluster.tokenFor(ADMIN_USER), status: 200, body: /^leader_election_master_status|^controller_runtime_active_workers/m },
    { who: 'a ServiceAccount without the role', token: () => tokens.stranger, status: 403, body: new RegExp(`^Authorization denied for user system:serviceaccount:${NS}:stranger\\n$`) },
    { who: 'no token', token: () => undefined, status: 401, body: /^Unauthorized\n$/ },
    { who: 'a forged token', token: () => `${tokens.scraper.slice(0, -8)}AAAAAAAA`, status: 401, body: /^Unauthorized\n$/ },
  ];
  for (const r of table) {
    it(`GET /metrics with ${r.who}: ${r.status}`, async () => {
      const answer = await httpsGet(`${url}/metrics`, r.token());
      assert.equal(answer.status, r.status, answer.body.slice(0, 300));
      assert.match(answer.body, r.body);
      if (r.status !== 200) assert.doesNotMatch(answer.body, /controller_runtime/, 'no metrics leak in a refusal');
    });
  }

  it('the reader may get /metrics only: another path is 403', async () => {
    assert.equal((await httpsGet(`${url}/debug/pprof`, tokens.scraper)).status, 403);
  });

  it('no plain HTTP on the metrics port', async () => {
    const answer = await new Promise<Answer | Error>((resolve) => {
      const req = httpRequest(`http://127.0.0.1:${port}/metrics`, { timeout: 5_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve(e));
      req.end();
    });
    assert.ok(answer instanceof Error || answer.status === 400, `plain HTTP answered ${JSON.stringify(answer)}`);
    if (!(answer instanceof Error)) assert.doesNotMatch(answer.body, /controller_runtime/);
  });

  it('presents a self-signed certificate made at start (CN=localhost, SANs for loopback)', async () => {
    const cert = await peerCertificate(port);
    assert.equal(cert.subject, 'CN=localhost');
    assert.equal(cert.issuer, cert.subject);
    assert.ok(cert.checkIP('127.0.0.1'));
    assert.ok(cert.verify(cert.publicKey));
  });

  it('the health probes stay plain HTTP (the kubelet cannot present a token)', async () => {
    await controller.waitForHttp(`${controller.healthUrl}/healthz`, 200);
  });

  it('--metrics-cert-dir: serves tls.crt/tls.key from the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecs-power-metrics-certs-'));
    const own = selfSignedCert(['ecs-power-controller-metrics.ecs-power-system.svc']);
    writeFileSync(join(dir, 'tls.crt'), own.cert);
    writeFileSync(join(dir, 'tls.key'), own.key, { mode: 0o600 });
    const withDir = await startControllerProcess({
      name: 'metrics-cert-dir',
      args: ['--kubeconfig', cluster.kubeconfigFor(CONTROLLER_USER), '--namespace', NS, '--metrics-secure', '--metrics-cert-dir', dir],
    });
    try {
      await withDir.waitForLog(new RegExp(`metrics served over HTTPS.*"certificate":"${dir}"`));
      const presented = await peerCertificate(Number(new URL(withDir.metricsUrl!).port));
      assert.equal(presented.fingerprint256, new X509Certificate(readFileSync(join(dir, 'tls.crt'))).fingerprint256);
      const answer = await httpsGet(`${withDir.metricsUrl!.replace(/^http:/, 'https:')}/metrics`, tokens.scraper);
      assert.equal(answer.status, 200);
    } finally {
      await withDir.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const badFlags: Array<{ args: string[]; says: RegExp }> = [
    { args: ['--metrics-secure=sometimes'], says: /^ecs-power: invalid value "sometimes" for flag --metrics-secure: must be true or false$/ },
    { args: ['--metrics-secure', '--metrics-cert-dir=/nonexistent'], says: /^ecs-power: invalid value "\/nonexistent" for flag --metrics-cert-dir: cannot read \/nonexistent\/tls\.crt \(ENOENT\)$/ },
    { args: ['--metrics-cert-dir=/tmp'], says: /^ecs-power: --metrics-cert-dir needs --metrics-secure$/ },
  ];
  describe('bad flags: exit 2 with one line', () => {
    // All at once: each process takes seconds to load its modules on a busy machine.
    const runs = new Map<string, Promise<ControllerProcess>>();
    before(() => {
      for (const b of badFlags) runs.set(b.args.join(' '), startControllerProcess({ name: 'bad-flag', args: ['--kubeconfig', cluster.kubeconfigPath, ...b.args] }));
    });
    for (const b of badFlags) {
      it(b.args.join(' '), async () => {
        const p = await runs.get(b.args.join(' '))!;
        const exit = await p.exited;
        assert.equal(exit.code, 2, p.tail());
        assert.equal(p.lines.filter((l) => l !== '').length, 1, p.tail());
        assert.match(p.stderrLines[0]!, b.says);
      });
    }
  });
});
