/**
 * The admin API under `/_emulator/`: unauthenticated, not recorded in `calls`, for tests and
 * tools that run the emulator out of process (demo, benchmark).
 *
 * GET    /_emulator/healthz             -> ok
 * GET    /_emulator/instances           -> EmulatedInstance[]
 * POST   /_emulator/instances           body EmulatedInstanceInit -> 201 EmulatedInstance
 * GET    /_emulator/instances/ID        -> EmulatedInstance
 * POST   /_emulator/instances/ID        body EmulatedInstancePatch (+ `holdMs` with `status`) -> EmulatedInstance
 * DELETE /_emulator/instances/ID        releases the instance
 * POST   /_emulator/faults              body Fault -> 201
 * DELETE /_emulator/faults
 * POST   /_emulator/quotas/ACTION       body {perSecond, burst?, code?} | {perMinute, code?} | {} (removes)
 * GET    /_emulator/stats               -> { calls, byAction: {action: {code: n}} }
 * GET    /_emulator/calls?since=N       -> RecordedCall[] from index N
 *
 * A bad body answers 400 `{error}`; an unknown instance 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseQuery } from './signature.ts';
import { isInstanceStatus } from './state.ts';
import type { EcsEmulator, EmulatedInstanceInit, EmulatedInstancePatch, Fault, Quota } from './types.ts';

/** `{}` removes the quota; anything else must be a valid quota (checked by the throttler). */
function quotaOf(input: Record<string, unknown>): Quota | undefined {
  return Object.keys(input).length === 0 ? undefined : (input as unknown as Quota);
}

export function handleAdmin(emu: EcsEmulator, req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string, body: Buffer): void {
  const json = (status: number, v: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
  };
  const method = req.method ?? 'GET';
  const parts = path.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  try {
    const input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return json(400, { error: 'the body must be a JSON object' });
    const [what, id] = parts;
    if (what === 'healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (what === 'instances' && id === undefined && method === 'GET') return json(200, emu.instances());
    if (what === 'instances' && id === undefined && method === 'POST') {
      emu.addInstance(input as unknown as EmulatedInstanceInit);
      return json(201, emu.instance(String(input.instanceId)));
    }
    if (what === 'instances' && id !== undefined) {
      if (!emu.instance(id)) return json(404, { error: `no instance ${id}` });
      if (method === 'POST') {
        const { status, holdMs, ...rest } = input;
        if (status !== undefined && !isInstanceStatus(status)) return json(400, { error: `bad status ${String(status)}` });
        emu.update(id, rest as EmulatedInstancePatch);
        if (status !== undefined) emu.setStatus(id, status, typeof holdMs === 'number' ? holdMs : undefined);
      } else if (method === 'DELETE') {
        emu.removeInstance(id);
        return json(200, {});
      }
      return json(200, emu.instance(id));
    }
    if (what === 'faults' && method === 'POST') {
      emu.injectFault(input as Fault);
      return json(201, {});
    }
    if (what === 'faults' && method === 'DELETE') {
      emu.clearFaults();
      return json(200, {});
    }
    if (what === 'quotas' && id !== undefined && method === 'POST') {
      emu.setQuota(id, quotaOf(input));
      return json(200, {});
    }
    if (what === 'stats') {
      const byAction: Record<string, Record<string, number>> = {};
      for (const c of emu.calls) {
        const a = (byAction[c.action || '(none)'] ??= {});
        a[c.code] = (a[c.code] ?? 0) + 1;
      }
      return json(200, { calls: emu.calls.length, byAction });
    }
    if (what === 'calls') {
      const since = Number(parseQuery(rawQuery).since ?? 0) || 0;
      return json(200, emu.calls.slice(since));
    }
    return json(404, { error: `no route ${method} ${path}` });
  } catch (e) {
    return json(400, { error: e instanceof Error ? e.message : String(e) });
  }
}
