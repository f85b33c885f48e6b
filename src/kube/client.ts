import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Configuration } from '@kubernetes/client-node';
import { reuseConnections } from './connection-reuse.ts';

/**
 * `--kubeconfig` when given; otherwise client-node's default loading, as client-go does:
 * $KUBECONFIG (which may list several files, merged), ~/.kube/config, then in-cluster.
 */
export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else {
    // client-node falls back to in-cluster settings even outside a pod (a server "https://undefined:undefined").
    const home = env['HOME'] ? join(env['HOME'], '.kube', 'config') : undefined;
    if (!env['KUBECONFIG'] && !(home && existsSync(home)) && !env['KUBERNETES_SERVICE_HOST']) {
      throw new Error('no kubeconfig: pass --kubeconfig, set $KUBECONFIG, or run in a pod');
    }
    kubeConfig.loadFromDefault();
  }
  if (!kubeConfig.getCurrentCluster()) throw new Error('no cluster in the kubeconfig and not running in a pod');
  return reuseConnections(kubeConfig);
}

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/**
 * An API client whose every request is aborted after `timeoutMs` (headers and body). client-node
 * 2.x sets no timeout, so a half-open connection (no bytes, no RST) would hang a worker or the
 * leader election forever. Watches do not go through these clients: the informer's Watch has its
 * own inactivity timeout and reconnects from the last resourceVersion.
 */
export function makeTimedClient<Api>(kubeConfig: KubeConfig, apiClass: new (config: Configuration) => Api, timeoutMs: number): Api {
  const timed = Object.create(kubeConfig) as KubeConfig;
  timed.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await kubeConfig.applySecurityAuthentication(context);
    if (!context.getSignal()) context.setSignal(AbortSignal.timeout(timeoutMs));
  };
  return timed.makeApiClient(apiClass as never) as Api;
}
