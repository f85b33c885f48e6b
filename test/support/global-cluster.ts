// One shared test cluster per mocha process, started lazily by the first test file that asks.
//
// Usage in a test file (each file works in its own namespace, so files do not interfere):
//
//   import { sharedCluster } from '../support/global-cluster.ts';
//   import type { TestCluster } from '../support/cluster.ts';
//
//   describe('my controller', function () {
//     let cluster: TestCluster;
//     const ns = 'my-controller-test';
//     before(async function () {
//       this.timeout(180_000); // a first start on a cold machine may take longer than mocha's default
//       cluster = await sharedCluster();
//       await cluster.kubectl(['create', 'namespace', ns]);
//     });
//     after(async () => {
//       await cluster?.kubectl(['delete', 'namespace', ns, '--wait=false']);
//     });
//     it('...', async () => { const kc = cluster.kubeConfig(); ... });
//   });
//
// The shared cluster has the project's CRDs installed (Established) and these token users:
// ADMIN_USER ('admin', system:masters), CONTROLLER_USER (the controller's ServiceAccount identity)
// and SHARED_TEST_USER (no groups beyond system:authenticated, so it can do nearly nothing).
// Do not stop or restart the shared cluster's API server from a test file; a test that needs
// to restart or break the cluster should call startTestCluster() for its own.
//
// The root hook below stops the shared cluster after the whole run; .mocharc.json loads this
// file with "require", so no test file needs an after() for it. The exit hook in cluster.ts
// kills the processes anyway if the run crashes.

import type { TestCluster } from './cluster.ts';

/** A non-admin token user present in the shared cluster. */
export const SHARED_TEST_USER = 'test-user';

let shared: Promise<TestCluster> | undefined;

export function sharedCluster(): Promise<TestCluster> {
  shared ??= import('./cluster.ts').then(({ startTestCluster }) =>
    startTestCluster({ users: [{ name: SHARED_TEST_USER }] }),
  );
  return shared;
}

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    // `mocha --parallel` runs root hooks after every file, in worker processes that each run many
    // files: a worker keeps its cluster for its next file, and the exit hook in cluster.ts kills
    // the cluster's processes when mocha ends the worker.
    if (!shared || process.env['MOCHA_WORKER_ID'] !== undefined) return;
    this.timeout(60_000);
    const pending = shared;
    shared = undefined;
    const cluster = await pending.catch(() => undefined);
    await cluster?.stop();
  },
};
