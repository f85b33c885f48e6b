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
    const body = parsed(err.body as unknown);
    const msg = typeof body === 'object' && body && typeof body.message === 'string' ? body.message : `HTTP ${code}`;
    return msg.slice(0, 300);
  }
  return err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
}

/** The API server's Status body, whether the client parsed it or left it as text. */
function parsed(body: unknown): { message?: unknown } | undefined {
  if (typeof body === 'object' && body !== null) return body as { message?: unknown };
  if (typeof body !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as { message?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
