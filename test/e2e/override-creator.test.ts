// The user role ecs-power-override-creator (deploy/user-rbac.yaml), end to end: a ServiceAccount
// bound to it by a RoleBinding in one namespace can create, list and delete EcsPowerOverrides
// there ("wake it up tonight"), and cannot edit what Git owns (EcsInstancePowers, schedules) nor
// act in another namespace. Asked with `kubectl auth can-i` and tried for real with the
// ServiceAccount's own token.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterAssets, type TestCluster } from '../support/cluster.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { REPO_ROOT } from '../support/process.ts';
import { serviceAccountKubeconfig } from './install-support.ts';

const NS = 'e2e-override-creator';
const OTHER = 'e2e-override-creator-other';
const SA = 'wake-up';
const AS = `system:serviceaccount:${NS}:${SA}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('e2e: a ServiceAccount bound only to ecs-power-override-creator', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let dir: string;
  let kubeconfig: string;

  /** kubectl as the ServiceAccount, with its own token. */
  const asServiceAccount = async (args: string[], input?: string): Promise<Run> => {
    const { kubectl } = await clusterAssets();
    return new Promise((resolve) => {
      const child = execFile(kubectl, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
      if (input !== undefined) child.stdin!.end(input);
    });
  };
  const admin = async (args: string[], input?: string): Promise<string> => {
    const r = await cluster.kubectl(args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const override = (namespace: string, name: string) =>
    JSON.stringify({
      apiVersion: 'ecspower.io/v1alpha1',
      kind: 'EcsPowerOverride',
      metadata: { name, namespace },
      spec: { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: new Date(Date.now() + 4 * 3600_000).toISOString(), reason: 'INC-1234' },
    });

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    dir = await mkdtemp(join(tmpdir(), 'ecs-power-e2e-override-creator-'));
    await admin(['apply', '-f', join(REPO_ROOT, 'deploy/user-rbac.yaml')]);
    for (const ns of [NS, OTHER]) await admin(['create', 'namespace', ns]);
    await admin(['create', 'serviceaccount', SA, '-n', NS]);
    await admin(['create', 'rolebinding', 'wake-up-overrides', '-n', NS, '--clusterrole=ecs-power-override-creator', `--serviceaccount=${NS}:${SA}`]);
    const power = (namespace: string) =>
      JSON.stringify({
        apiVersion: 'ecspower.io/v1alpha1',
        kind: 'EcsInstancePower',
        metadata: { name: 'batch-1', namespace, labels: { app: 'batch' } },
        spec: { instanceId: 'i-ovrcreator1', regionId: 'cn-hangzhou', desiredState: 'Stopped' },
      });
    await admin(['create', '-f', '-'], power(NS));
    kubeconfig = await serviceAccountKubeconfig(cluster, NS, SA, dir);
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'namespace', NS, OTHER, '--wait=false']);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl auth can-i: create, list and delete EcsPowerOverrides in its namespace, nothing else', async () => {
    const allowed = [
      ['create', 'ecspoweroverrides.ecspower.io', '-n', NS],
      ['list', 'ecspoweroverrides.ecspower.io', '-n', NS],
      ['delete', 'ecspoweroverrides.ecspower.io', '-n', NS],
    ];
    const denied = [
      ['create', 'ecspoweroverrides.ecspower.io', '-n', OTHER],
      ['list', 'ecspoweroverrides.ecspower.io', '-A'],
      ['update', 'ecspoweroverrides.ecspower.io', '-n', NS],
      ['patch', 'ecspoweroverrides.ecspower.io', '-n', NS],
      ['patch', 'ecspoweroverrides.ecspower.io', '--subresource=status', '-n', NS],
      ['deletecollection', 'ecspoweroverrides.ecspower.io', '-n', NS],
      ['patch', 'ecsinstancepowers.ecspower.io', '-n', NS],
      ['update', 'ecsinstancepowers.ecspower.io', '-n', NS],
      ['create', 'ecsinstancepowers.ecspower.io', '-n', NS],
      ['delete', 'ecsinstancepowers.ecspower.io', '-n', NS],
      ['patch', 'ecsinstancepowers.ecspower.io', '--subresource=status', '-n', NS],
      ['create', 'ecspowerschedules.ecspower.io', '-n', NS],
      ['patch', 'ecspowerschedules.ecspower.io', '-n', NS],
      ['get', 'secrets', '-n', NS],
    ];
    const canI = async (args: string[]): Promise<boolean> => {
      const r = await cluster.kubectl(['auth', 'can-i', ...args, `--as=${AS}`]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      return r.code === 0;
    };
    const answers = await Promise.all([...allowed, ...denied].map(canI));
    allowed.forEach((args, i) => assert.equal(answers[i], true, `cannot ${args.join(' ')}`));
    denied.forEach((args, i) => assert.equal(answers[allowed.length + i], false, `can ${args.join(' ')}`));
  });

  it('with its own token: creates, lists and deletes an override in its namespace', async () => {
    const created = await asServiceAccount(['create', '-f', '-'], override(NS, 'wake-batch'));
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /ecspoweroverride\.ecspower\.io\/wake-batch created/);

    const listed = await asServiceAccount(['get', 'ecspoweroverrides', '-n', NS, '-o', 'name']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim(), 'ecspoweroverride.ecspower.io/wake-batch');

    const deleted = await asServiceAccount(['delete', 'ecspoweroverride', 'wake-batch', '-n', NS]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /"wake-batch" deleted/);
    assert.equal((await admin(['get', 'ecspoweroverrides', '-n', NS, '-o', 'name'])).trim(), '');
  });

  it('with its own token: cannot edit an EcsInstancePower, create one, or create an override elsewhere', async () => {
    const patched = await asServiceAccount(['patch', 'ecsinstancepower', 'batch-1', '-n', NS, '--type=merge', '-p', '{"spec":{"desiredState":"Running"}}']);
    assert.notEqual(patched.code, 0, patched.stdout);
    assert.match(patched.stderr, /forbidden/i);
    assert.equal(await admin(['get', 'ecsinstancepower', 'batch-1', '-n', NS, '-o', 'jsonpath={.spec.desiredState}']), 'Stopped', 'the spec Git owns is unchanged');

    const relabelled = await asServiceAccount(['label', 'ecsinstancepower', 'batch-1', '-n', NS, 'app=web', '--overwrite']);
    assert.notEqual(relabelled.code, 0);
    assert.match(relabelled.stderr, /forbidden/i);

    const power = await asServiceAccount(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'ecspower.io/v1alpha1',
      kind: 'EcsInstancePower',
      metadata: { name: 'sneaky', namespace: NS },
      spec: { instanceId: 'i-ovrcreator2', regionId: 'cn-hangzhou', desiredState: 'Running' },
    }));
    assert.notEqual(power.code, 0);
    assert.match(power.stderr, /forbidden/i);

    const elsewhere = await asServiceAccount(['create', '-f', '-'], override(OTHER, 'wake-other'));
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /forbidden/i);
  });
});
