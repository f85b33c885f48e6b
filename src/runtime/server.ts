import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseAddress } from '../util/address.ts';
import { protectedServer, type Protection } from './protected-server.ts';

export interface Probes {
  healthy(): boolean;
  ready(): boolean;
}

/** Serves /metrics (Prometheus text) and/or /healthz and /readyz on one address. */
export async function serve(
  address: string,
  routes: { registry?: Registry; probes?: Probes },
  protection?: Protection,
): Promise<{ server: Server; port: number } | undefined> {
  if (address === '0') return undefined;
  const parsed = parseAddress(address);
  if (!parsed) throw new Error(`bad bind address ${address}`);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (path === '/metrics' && routes.registry) {
      const registry = routes.registry;
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: unknown) => send(500, String(err)),
      );
      return;
    }
    if (path === '/healthz' && routes.probes) return send(routes.probes.healthy() ? 200 : 500, routes.probes.healthy() ? 'ok' : 'unhealthy');
    if (path === '/readyz' && routes.probes) return send(routes.probes.ready() ? 200 : 503, routes.probes.ready() ? 'ok' : 'not ready');
    send(404, 'not found');
  };
  const server: Server = protection ? protectedServer(protection, handle) : createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(parsed.port, parsed.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
