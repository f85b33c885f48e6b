import { createHash } from 'node:crypto';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: Cluster | null, options: Record<string, unknown>) => unknown;

/**
 * @kubernetes/client-node 2.0 builds a new undici Agent for every request (KubeConfig's private
 * createDispatcher), so each API call pays a TLS handshake and a fresh SecureContext. Measured
 * on 2,000 resources that was most of the controller's CPU and hundreds of MB of RSS. This keeps
 * one dispatcher per distinct TLS identity (server, proxy, CA, client cert/key), so connections
 * are reused and a rotated client certificate still gets a new one. Bearer tokens travel in
 * headers set per request, so token rotation is unaffected.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher; __ecsPowerReuse?: boolean };
  if (typeof target.createDispatcher !== 'function' || target.__ecsPowerReuse) return kc;
  const original = target.createDispatcher.bind(kc);
  const cache = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const h = createHash('sha256');
    h.update(JSON.stringify([cluster?.server, cluster?.proxyUrl, options['rejectUnauthorized'], options['servername']]));
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase']) {
      const v = options[k];
      h.update(`\u0000${k}:`);
      if (typeof v === 'string' || Buffer.isBuffer(v)) h.update(v);
      else if (v !== undefined) h.update(JSON.stringify(v));
    }
    const key = h.digest('hex');
    if (!cache.has(key)) {
      if (cache.size >= 8) cache.delete(cache.keys().next().value as string);
      cache.set(key, original(cluster, options));
    }
    return cache.get(key);
  };
  target.__ecsPowerReuse = true;
  return kc;
}
