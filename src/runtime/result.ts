/** controller-runtime's contract: a reconcile is done, wants another look after a delay, or failed. */
export type ReconcileResult =
  | { kind: 'done' }
  | { kind: 'requeueAfter'; ms: number }
  /**
   * Failed in a way worth retrying with the key's backoff: `slow` for errors that clear slowly,
   * `capacity` for a zone out of stock (grows to at most a minute).
   */
  | { kind: 'error'; error: Error; backoff: 'normal' | 'slow' | 'capacity'; minDelayMs?: number };

export const done: ReconcileResult = { kind: 'done' };
export const requeueAfter = (ms: number): ReconcileResult => ({ kind: 'requeueAfter', ms });

/**
 * What a reconcile may ask of the worker running it: `park` a wait on a batched cloud call, so
 * that the worker serves other keys meanwhile (the key itself stays in processing).
 */
export interface ReconcileContext {
  park<T>(work: Promise<T>): Promise<T>;
}

/** For callers outside a controller (tests): nothing to give back. */
export const unparked: ReconcileContext = { park: (work) => work };
