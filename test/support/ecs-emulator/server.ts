/**
 * The emulator's HTTP server: ECS's ACS3 wire protocol on `POST /`, plus a small unauthenticated
 * admin API under `/_emulator/` for out-of-process use (demo, benchmark).
 *
 * Order of processing for a call: latency -> injected fault -> signature -> version/action ->
 * throttling -> action. A call answered by a fault, a signature error or throttling changes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ACTIONS } from './actions.ts';
import { handleAdmin } from './admin.ts';
import type { DescribeContext } from './describe.ts';
import { EcsApiError, ecsError, messageOf, statusOf } from './errors.ts';
import { FaultBoard } from './faults.ts';
import { instanceIdsOf } from './params.ts';
import { parseAuthorization, parseQuery } from './signature.ts';
import { InstanceStore } from './state.ts';
import { Throttler } from './throttle.ts';
import { RequestVerifier } from './verify.ts';
import type {
  AccessKey,
  EcsEmulator,
  EmulatedInstance,
  EmulatedInstanceInit,
  EmulatedInstancePatch,
  Fault,
  FaultKind,
  InstanceStatus,
  Quota,
  RecordedCall,
  StartOptions,
} from './types.ts';

export const API_VERSION = '2014-05-26';
/** What the emulator calls realistic: a stop is accepted, describes show it a second later. */
export const DEFAULT_ACCEPT_LAG_MS = 1000;
/** ECS documents at most 1,000 results for a tag-filtered query. */
export const DEFAULT_TAG_FILTER_LIMIT = 1000;
const DEFAULT_ACCESS_KEY: AccessKey = { accessKeyId: 'test-ak', accessKeySecret: 'test-secret' };

interface Call {
  requestId: string;
  time: number;
  action: string;
  params: Record<string, string>;
  accessKeyId: string | undefined;
  regionHint: string;
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  method: string;
  path: string;
  clientGone: () => boolean;
}

class Emulator implements EcsEmulator {
  readonly calls: RecordedCall[] = [];
  endpoint = '';
  url = '';
  port = 0;

  private readonly now: () => number;
  private readonly store: InstanceStore;
  private readonly describeContext: DescribeContext;
  private readonly throttler: Throttler;
  private readonly verifier: RequestVerifier;
  private readonly faults = new FaultBoard();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => {
      // Never crash the emulator on a bug; answer InternalError if still possible.
      if (!res.headersSent && !res.destroyed) {
        const body = JSON.stringify({ RequestId: randomUUID().toUpperCase(), Code: 'InternalError', Message: String(err) });
        res.writeHead(500, { 'content-type': 'application/json;charset=utf-8' }).end(body);
      }
    });
  });
  private closed = false;

  constructor(private readonly opts: StartOptions) {
    this.now = opts.now ?? Date.now;
    this.store = new InstanceStore(this.now, {
      stopMs: nonNegative('stopMs', opts.stopMs, 2000),
      forceStopMs: nonNegative('forceStopMs', opts.forceStopMs, 300),
      startMs: nonNegative('startMs', opts.startMs, 1000),
      acceptLagMs: nonNegative('acceptLagMs', opts.acceptLagMs, DEFAULT_ACCEPT_LAG_MS),
      describeLagMs: nonNegative('describeLagMs', opts.describeLagMs, 0),
    });
    this.describeContext = {
      tagFilterLimit: nonNegative('tagFilterLimit', opts.tagFilterLimit, DEFAULT_TAG_FILTER_LIMIT),
      tokenKey: randomBytes(16),
    };
    this.throttler = new Throttler(this.now, opts.quotas);
    this.verifier = new RequestVerifier(opts.accessKeys ?? [DEFAULT_ACCESS_KEY], opts.wallClock ?? Date.now);
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.port = addr.port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.endpoint = `${shownHost}:${addr.port}`;
    this.url = `http://${this.endpoint}`;
  }

  // ------------------------------------------------------------------ public API

  addInstance(init: EmulatedInstanceInit): void {
    this.store.add(init);
  }

  instance(id: string): EmulatedInstance | undefined {
    return this.store.view(id);
  }

  instances(): EmulatedInstance[] {
    return this.store.views();
  }

  setStatus(id: string, status: InstanceStatus, holdMs?: number): void {
    this.store.setStatus(id, status, holdMs);
  }

  update(id: string, patch: EmulatedInstancePatch): void {
    this.store.update(id, patch);
  }

  removeInstance(id: string): void {
    this.store.remove(id);
  }

  injectFault(f: Fault): void {
    this.faults.inject(f);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setQuota(action: string, q: Quota | undefined): void {
    this.throttler.set(action, q);
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await done;
  }

  // ------------------------------------------------------------------ request handling

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const path = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const rawQuery = qi < 0 ? '' : rawUrl.slice(qi + 1);

    if (path.startsWith('/_emulator/')) return handleAdmin(this, req, res, path, rawQuery, body);

    let gone = false;
    res.once('close', () => {
      if (!res.writableFinished) gone = true;
    });
    const requestId = randomUUID().toUpperCase();
    let params: Record<string, string> = {};
    let badQuery = false;
    try {
      params = parseQuery(rawQuery);
    } catch {
      badQuery = true;
    }
    const header = (n: string): string | undefined => {
      const v = req.headers[n];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const action = header('x-acs-action') ?? params.Action ?? '';
    const auth = header('authorization');
    const accessKeyId = auth ? parseAuthorization(auth).credential : undefined;
    const call: Call = {
      requestId,
      time: this.now(),
      action,
      params,
      accessKeyId,
      regionHint: params.RegionId ?? '',
      req,
      res,
      body,
      method: req.method ?? 'POST',
      path,
      clientGone: () => gone || res.destroyed,
    };

    await this.sleep(this.opts.latencyMs ?? 0);
    if (this.closed) return;

    const fault = this.faults.take(action, params);
    if (fault) {
      const kind: FaultKind = fault.kind ?? 'error';
      switch (kind) {
        case 'error': {
          const code = fault.code ?? 'InternalError';
          const retryAfter = fault.retryAfterMs ?? (code.includes('Throttling') ? 1000 : undefined);
          const err = new EcsApiError(code, fault.httpStatus ?? statusOf(code), fault.message ?? messageOf(code), retryAfter);
          return this.sendError(call, err, 'error');
        }
        case 'reset':
          this.record(call, 0, 'ConnectionReset', 'reset');
          if (typeof req.socket.resetAndDestroy === 'function') req.socket.resetAndDestroy();
          else req.socket.destroy();
          return;
        case 'non-json': {
          const status = fault.httpStatus ?? 502;
          const html =
            '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
            '<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n';
          this.send(call, status, html, 'text/html');
          this.record(call, status, 'NonJsonResponse', 'non-json');
          return;
        }
        case 'truncated': {
          const status = fault.httpStatus ?? 200;
          const full = JSON.stringify({ RequestId: requestId, InstanceResponses: { InstanceResponse: [] } });
          this.send(call, status, full.slice(0, Math.floor(full.length / 2)));
          this.record(call, status, 'TruncatedResponse', 'truncated');
          return;
        }
        case 'delay': {
          await this.sleep(fault.delayMs ?? 5000);
          if (this.closed) return;
          if (call.clientGone() && !fault.applyAfterTimeout) {
            this.record(call, 0, 'ClientClosedRequest', 'delay');
            return;
          }
          if (fault.code) {
            const err = new EcsApiError(fault.code, fault.httpStatus ?? statusOf(fault.code), fault.message ?? messageOf(fault.code));
            return this.sendError(call, err, 'delay');
          }
          return this.process(call, badQuery, 'delay');
        }
      }
    }
    return this.process(call, badQuery, undefined);
  }

  private async process(call: Call, badQuery: boolean, fault: FaultKind | undefined): Promise<void> {
    try {
      if (badQuery) throw ecsError('InvalidParameter', 'The query string is not well formed.');
      this.verifier.verify({
        method: call.method,
        path: call.path,
        params: call.params,
        body: call.body,
        header: (n) => this.header(call.req, n),
        headerNames: Object.keys(call.req.headers),
      });
      const version = this.header(call.req, 'x-acs-version') ?? call.params.Version;
      if (!version) throw ecsError('MissingParameter', 'The input parameter "Version" that is mandatory for processing this request is not supplied.');
      if (version !== API_VERSION) throw ecsError('InvalidVersion', `Specified parameter Version "${version}" is not valid.`);
      const handler = call.action ? ACTIONS[call.action] : undefined;
      if (!handler) throw ecsError('InvalidAction.NotFound', `Specified api "${call.action}" is not found, please check your url and method.`);
      const throttled = this.throttler.take(call.action, this.regionOf(call));
      if (throttled) throw ecsError(throttled.code, undefined, throttled.retryAfterMs);
      const result = handler(call.params, this.store, this.describeContext);
      if (call.clientGone()) {
        // The change happened; nobody hears the answer.
        this.record(call, 0, 'ClientClosedRequest', fault);
        return;
      }
      this.send(call, 200, JSON.stringify({ RequestId: call.requestId, ...result }));
      this.record(call, 200, 'OK', fault);
    } catch (e) {
      if (!(e instanceof EcsApiError)) throw e;
      this.sendError(call, e, fault);
    }
  }

  private regionOf(call: Call): string {
    if (call.params.RegionId) return call.params.RegionId;
    const id = instanceIdsOf(call.params)[0];
    return (id && this.store.get(id)?.regionId) || '';
  }

  private header(req: IncomingMessage, n: string): string | undefined {
    const v = req.headers[n];
    return Array.isArray(v) ? v.join(',') : v;
  }

  private send(call: Call, status: number, body: string, contentType = 'application/json;charset=utf-8', extra: Record<string, string> = {}): void {
    if (call.res.destroyed) return;
    call.res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-acs-request-id': call.requestId,
      ...extra,
    });
    call.res.end(body);
  }

  private sendError(call: Call, e: EcsApiError, fault: FaultKind | undefined): void {
    const region = call.regionHint;
    const body = {
      RequestId: call.requestId,
      HostId: region ? `ecs.${region}.aliyuncs.com` : 'ecs.aliyuncs.com',
      Code: e.code,
      Message: e.message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=Ecs&requestId=${call.requestId}`,
    };
    const extra: Record<string, string> = {};
    if (e.retryAfterMs !== undefined) extra['x-acs-retry-after'] = String(e.retryAfterMs);
    if (call.clientGone()) {
      this.record(call, 0, 'ClientClosedRequest', fault);
      return;
    }
    this.send(call, e.httpStatus, JSON.stringify(body), undefined, extra);
    this.record(call, e.httpStatus, e.code, fault);
  }

  private record(call: Call, httpStatus: number, code: string, fault: FaultKind | undefined): void {
    const rc: RecordedCall = {
      time: call.time,
      action: call.action,
      params: call.params,
      httpStatus,
      code,
      requestId: call.requestId,
    };
    if (call.accessKeyId !== undefined) rc.accessKeyId = call.accessKeyId;
    if (fault !== undefined) rc.fault = fault;
    this.calls.push(rc);
    const max = this.opts.maxRecordedCalls;
    if (max !== undefined && this.calls.length > max) this.calls.splice(0, this.calls.length - max);
  }
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(v >= 0)) throw new Error(`startEcsEmulator: ${name} must be >= 0, got ${String(v)}`);
  return v;
}

export async function startEcsEmulator(opts: StartOptions = {}): Promise<EcsEmulator> {
  const emu = new Emulator(opts);
  await emu.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return emu;
}
