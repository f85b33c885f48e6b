import { STATUS_CODES } from 'node:http';
import { ApiException } from '@kubernetes/client-node';

/** HTTP status of a failed Kubernetes API call, if it got that far. */
export function kubeStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (e && typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => kubeStatusCode(err) === 404;
export const isConflict = (err: unknown): boolean => kubeStatusCode(err) === 409;
export const isForbidden = (err: unknown): boolean => kubeStatusCode(err) === 403;

/** A short description of a Kubernetes API failure without echoing request bodies. */
export function describeKubeError(err: unknown): string {
  const code = kubeStatusCode(err);
  if (err instanceof ApiException) {
    // client-node 2.x keeps the Status body as a JSON string for errors it has no model for.
    let body = err.body as { message?: unknown } | string | undefined;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as { message?: unknown };
      } catch {
        // not JSON: keep the status line
      }
    }
    const message = typeof body === 'object' && body && typeof body.message === 'string' ? body.message : undefined;
    return (message ?? `HTTP ${code} ${(code !== undefined && STATUS_CODES[code]) || ''}`.trimEnd()).slice(0, 300);
  }
  return err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
}
