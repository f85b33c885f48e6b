/**
 * Guards every write that must come from the leader only (ECS Stop/Start calls, status patches):
 * checked right before the request leaves the process, after any wait for a rate limiter or a
 * batch, so a process that lost leadership while a call was queued sends nothing.
 */
export interface Fence {
  /** Throws NotLeaderError when this process may no longer act. */
  assertLeading(what: string): void;
}

/** Without leader election the single process always acts. */
export const noFence: Fence = { assertLeading: () => undefined };

/** A write refused because this process may no longer be the leader. Never retried; the process exits. */
export class NotLeaderError extends Error {
  constructor(what: string) {
    super(`not the leader: ${what} refused`);
    this.name = 'NotLeaderError';
  }
}
