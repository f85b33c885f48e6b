// Tenancy: who may stop what. With --default-credentials-namespaces, only the listed namespaces
// may use the controller's own credentials; a resource elsewhere must name a credentials Secret
// of its own namespace, else it is Stalled with InvalidCredentials and says why. The controller
// runs as a process with the shipped RBAC, as in a cluster.

import assert from 'node:assert/strict';
import { CONTROLLER_USER, type TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { sharedCluster } from '../support/global-cluster.ts';
import { Resources, cond } from '../support/operator-harness.ts';
import { startControllerProcess, type ControllerProcess } from '../support/process.ts';
import { DeployOverlay } from './support.ts';

const PLATFORM = 'e2e-tenancy-platform';
const TEAM = 'e2e-tenancy-team-b';
const SELECTOR = 'e2e-tenancy=yes';
const LABELS = { 'e2e-tenancy': 'yes' };
const TEAM_KEY = { accessKeyId: 'ak-team-b', accessKeySecret: 'team-b-secret' };

describe('e2e: tenancy with --default-credentials-namespaces', function () {
  this.timeout(60_000);

  let cluster: TestCluster;
  let overlay: DeployOverlay;
  let emu: EcsEmulator;
  let controller: ControllerProcess;
  let platform: Resources;
  let team: Resources;

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    overlay = await DeployOverlay.create();
    await overlay.apply(cluster);
    for (const ns of [PLATFORM, TEAM]) await cluster.kubectl(['create', 'namespace', ns]);
    platform = new Resources(cluster.kubeConfig(), PLATFORM);
    team = new Resources(cluster.kubeConfig(), TEAM);
    emu = await startEcsEmulator({
      stopMs: 300,
      startMs: 300,
      accessKeys: [{ accessKeyId: 'test-ak', accessKeySecret: 'test-secret' }, TEAM_KEY],
    });
    for (const id of ['i-ten0001', 'i-ten0002', 'i-ten0003']) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    controller = await startControllerProcess({
      name: 'tenancy',
      args: [
        '--kubeconfig', cluster.kubeconfigFor(CONTROLLER_USER),
        '--default-credentials-namespaces', PLATFORM,
        // Watches every namespace: leave out what other test files left behind in the shared cluster.
        '--selector', SELECTOR,
        '--ecs-endpoint', emu.url,
        '--poll-interval', '200ms',
        '--terminal-recheck-period', '2s',
      ],
    });
    await controller.waitForLog(/"msg":"controller started"/, 20_000);
  });

  after(async function () {
    this.timeout(30_000);
    await controller?.stop(5_000);
    await emu?.close();
    await overlay?.remove();
    for (const ns of [PLATFORM, TEAM]) await cluster?.kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it("a listed namespace uses the controller's own credentials", async () => {
    await platform.create('platform-box', { instanceId: 'i-ten0001' }, LABELS);
    await platform.waitForReady('platform-box', 'Stopped', 20_000);
    assert.ok(emu.calls.some((c) => c.accessKeyId === 'test-ak' && /^StopInstances?$/.test(c.action)));
  });

  it('another namespace without credentialsSecretRef is Stalled with InvalidCredentials saying why, and nothing is called', async () => {
    await team.create('team-box', { instanceId: 'i-ten0002' }, LABELS);
    const stalled = await team.waitForReason('team-box', 'Stalled', 'True', 'InvalidCredentials', 20_000);
    assert.match(cond(stalled, 'Ready')?.message ?? '', new RegExp(`namespace ${TEAM} must name spec\\.credentialsSecretRef.*${PLATFORM}`));
    assert.equal(emu.instance('i-ten0002')?.status, 'Running');
    assert.equal(emu.calls.filter((c) => c.params['InstanceId'] === 'i-ten0002' || c.params['InstanceIds']?.includes('i-ten0002')).length, 0);
  });

  it("the same namespace's resource naming its own Secret acts with that team's key", async () => {
    const data = Object.fromEntries(Object.entries(TEAM_KEY).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    await team.core.createNamespacedSecret({ namespace: TEAM, body: { metadata: { name: 'team-b-ecs', namespace: TEAM }, data } });
    await team.create('team-box-signed', { instanceId: 'i-ten0003', credentialsSecretRef: { name: 'team-b-ecs' } }, LABELS);
    await team.waitForReady('team-box-signed', 'Stopped', 20_000);
    const writes = emu.calls.filter((c) => /^StopInstances?$/.test(c.action) && (c.params['InstanceId'] === 'i-ten0003' || Object.values(c.params).includes('i-ten0003')));
    assert.ok(writes.length > 0 && writes.every((c) => c.accessKeyId === TEAM_KEY.accessKeyId), JSON.stringify(writes.map((c) => c.accessKeyId)));
  });
});
