import { isDeepStrictEqual } from 'node:util';
import { describeKubeError, isConflict } from '../kube/errors.ts';
import type { Logger } from '../log.ts';
import { NotLeaderError } from './fence.ts';
import type { ReconcileResult } from './result.ts';
import type { StatusWriter, WithStatus } from './status-writer.ts';

/**
 * Writes `next` when it differs from the object's status (read from the cache). Returns whether
 * it wrote, or the result a reconcile should end with: a 409 (the cache was stale) is retried
 * with the key's backoff; other failures are logged and rethrown (an error result too).
 */
export async function updateStatus<S extends object>(
  writer: StatusWriter<S>,
  obj: WithStatus<S>,
  next: S,
  log: Logger,
  key: string,
): Promise<'unchanged' | 'written' | ReconcileResult> {
  if (isDeepStrictEqual(obj.status, next)) return 'unchanged';
  try {
    await writer.write(obj, next);
    return 'written';
  } catch (err) {
    if (isConflict(err)) return { kind: 'error', error: new Error('status changed since it was read; retrying'), backoff: 'normal' };
    if (!(err instanceof NotLeaderError)) log.warn('status write failed', { resource: key, error: describeKubeError(err) });
    throw err;
  }
}
