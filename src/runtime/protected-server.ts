// An HTTPS server whose every request passes a check first (--metrics-secure; the check is
// src/runtime/metrics-auth.ts). A refused request gets the check's status and message, nothing else.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';

export interface Protection {
  tls: { cert: string; key: string };
  /** undefined lets the request through. */
  guard: (req: IncomingMessage) => Promise<{ status: number; message: string } | undefined>;
}

export function protectedServer(protection: Protection, handle: (req: IncomingMessage, res: ServerResponse) => void): Server {
  return createServer(protection.tls, (req, res) => {
    const refuse = (status: number, message: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(`${message}\n`);
    };
    protection.guard(req).then(
      (denied) => (denied ? refuse(denied.status, denied.message) : handle(req, res)),
      () => refuse(500, 'Internal Server Error'),
    );
  });
}
