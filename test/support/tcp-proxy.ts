// A loopback TCP proxy in front of the test API server (TLS passes through untouched), for tests
// of what a controller does when its path to the API server breaks:
// - sever(): refuse new connections and reset every open one (an API server that went away);
// - freeze(): forward nothing in either direction and answer nothing, with every socket left open
//   and new connections accepted and then ignored (a half-open path: no bytes, no RST).
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private frozen = false;
  /** Connections refused while cut off. */
  refused = 0;
  /** Connections accepted and left hanging while frozen. */
  swallowed = 0;
  private readonly server: Server;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get open(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Refuses new connections and resets every proxied one. */
  sever(): void {
    this.cut = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }

  /** Forwards nothing any more, in either direction; sockets stay open. */
  freeze(): void {
    this.frozen = true;
  }

  restore(): void {
    this.cut = false;
    this.frozen = false;
  }

  async close(): Promise<void> {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private accept(client: Socket): void {
    if (this.cut) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    this.track(client);
    if (this.frozen) {
      this.swallowed++;
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    // Not pipe(): a frozen proxy must neither deliver nor refuse, and pipe() would deliver what it buffered.
    client.on('data', (chunk: Buffer) => {
      if (!this.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.frozen) client.write(chunk);
    });
  }
}

/** A copy of `kc` whose current cluster's server is https://127.0.0.1:`port`. */
export function viaPort(kc: KubeConfig, port: number): KubeConfig {
  const current = kc.getCurrentCluster();
  if (!current) throw new Error('the kubeconfig has no current cluster');
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server: `https://127.0.0.1:${port}` } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}
