// Helpers for the install end-to-end tests (not a test file): run the controller the way an
// installed Deployment would, minus the kubelet. The test API server has no kubelet, so no pod
// ever runs; instead the controller runs as a local child process with
// - the identity of the installed ServiceAccount: a real ServiceAccount token from the
//   TokenRequest API, so only the installed roles and bindings authorise it;
// - the args and plain env of the installed Deployment's container, the downward-API variables
//   resolved as the kubelet would (POD_NAMESPACE is the Deployment's namespace).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import type { TestCluster } from '../support/cluster.ts';
import { CHART_DIR, helmPath } from '../support/manifests.ts';
import { startControllerProcess, type ControllerProcess } from '../support/process.ts';

/** A kubeconfig file (in `dir`) that authenticates with a fresh token of the ServiceAccount. */
export async function serviceAccountKubeconfig(cluster: TestCluster, namespace: string, name: string, dir: string): Promise<string> {
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  const path = join(dir, `kubeconfig-${namespace}-${name}.json`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cluster.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${namespace}/${name}`, user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: `${namespace}/${name}` } }],
    'current-context': 'test',
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

export interface DeploymentProcessSpec {
  /** The container's args, without the pod's bind addresses (the test picks free local ports). */
  args: string[];
  /** Plain `value` variables and the downward API's POD_NAME / POD_NAMESPACE. */
  env: Record<string, string>;
}

/** What the kubelet would run for the installed Deployment's controller container. */
export async function deploymentProcessSpec(cluster: TestCluster, namespace: string, name: string): Promise<DeploymentProcessSpec> {
  const apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
  const deployment: V1Deployment = await apps.readNamespacedDeployment({ namespace, name });
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === 'controller');
  if (!container) throw new Error(`Deployment ${namespace}/${name} has no container named controller`);
  const podName = `${name}-7d4b9c5f6-e2e01`;
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (field === 'metadata.namespace') env[e.name] = namespace;
    if (field === 'metadata.name') env[e.name] = podName;
  }
  const args = (container.args ?? []).filter((a) => !/^--(metrics-bind-address|health-probe-bind-address)(=|$)/.test(a));
  return { args, env };
}

/**
 * The installed controller as a local process: the Deployment `ecs-power-controller` of
 * `namespace` (its args and env) with its ServiceAccount's token, against the ECS emulator.
 */
export async function startInstalledController(cluster: TestCluster, namespace: string, ecsEndpoint: string, dir: string): Promise<ControllerProcess> {
  const spec = await deploymentProcessSpec(cluster, namespace, 'ecs-power-controller');
  const kubeconfig = await serviceAccountKubeconfig(cluster, namespace, 'ecs-power-controller', dir);
  return startControllerProcess({
    name: `installed-in-${namespace}`,
    env: spec.env,
    args: [...spec.args, '--kubeconfig', kubeconfig, '--ecs-endpoint', ecsEndpoint, '--poll-interval', '200ms', '--batch-window', '20ms', '--shutdown-timeout', '2s'],
  });
}

/** helm against the test cluster, with its own config, cache and data folders. */
export class HelmCli {
  private constructor(
    private readonly home: string,
    private readonly kubeconfig: string,
  ) {}

  static async create(cluster: TestCluster): Promise<HelmCli> {
    const home = await mkdtemp(join(tmpdir(), 'ecs-power-helm-home-'));
    return new HelmCli(home, cluster.kubeconfigPath);
  }

  readonly chart = CHART_DIR;

  /** Runs helm; resolves with stdout, rejects with stderr. */
  run(args: string[]): Promise<string> {
    const env = {
      ...process.env,
      KUBECONFIG: this.kubeconfig,
      HELM_CONFIG_HOME: join(this.home, 'config'),
      HELM_CACHE_HOME: join(this.home, 'cache'),
      HELM_DATA_HOME: join(this.home, 'data'),
    };
    return new Promise((resolvePromise, reject) => {
      execFile(helmPath(), args, { env, maxBuffer: 32 << 20, timeout: 120_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`helm ${args.join(' ')} failed:\n${stderr || err.message}`)) : resolvePromise(stdout),
      );
    });
  }

  async remove(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}
