// requeueFor(): when an EcsInstancePower is looked at again, per outcome (pure).
import assert from 'node:assert/strict';
import { Reason } from '../../src/api/reasons.ts';
import { requeueFor, type Timing } from '../../src/controllers/instancepower/requeue.ts';
import type { Outcome } from '../../src/controllers/instancepower/outcome.ts';
import type { ReconcileResult } from '../../src/runtime/result.ts';

const T: Timing = { pollIntervalMs: 5_000, resyncPeriodMs: 600_000, terminalRecheckMs: 300_000 };

const error = (backoff: 'normal' | 'slow' | 'capacity', minDelayMs?: number) => ({ kind: 'error' as const, backoff, ...(minDelayMs ? { minDelayMs } : {}) });

describe('requeueFor()', () => {
  const cases: Array<{ what: string; outcome: Outcome; want: Partial<ReconcileResult> }> = [
    { what: 'converged: the resync period', outcome: { kind: 'converged', reason: 'Stopped', instanceStatus: 'Stopped', message: 'm' }, want: { kind: 'requeueAfter', ms: 600_000 } },
    { what: 'in transition: the poll interval', outcome: { kind: 'inProgress', reason: 'Stopping', message: 'm' }, want: { kind: 'requeueAfter', ms: 5_000 } },
    { what: 'terminal: the slow re-check', outcome: { kind: 'terminalError', reason: Reason.Forbidden, message: 'm' }, want: { kind: 'requeueAfter', ms: 300_000 } },
    { what: 'transient: the key backoff', outcome: { kind: 'transientError', reason: Reason.InternalError, message: 'm', backoff: 'normal' }, want: error('normal') },
    { what: 'throttled: at least retry-after', outcome: { kind: 'transientError', reason: Reason.Throttled, message: 'm', backoff: 'normal', retryAfterMs: 3000 }, want: error('normal', 3000) },
    { what: 'disk: the slow backoff', outcome: { kind: 'transientError', reason: Reason.IncorrectDiskStatus, message: 'm', backoff: 'slow' }, want: error('slow') },
    { what: 'IncorrectInstanceStatus: the key backoff', outcome: { kind: 'transientError', reason: Reason.IncorrectInstanceStatus, message: 'm', backoff: 'reobserve' }, want: error('normal') },
    {
      what: 'InsufficientCapacity (NoStock): the capacity backoff, at most a minute',
      outcome: { kind: 'transientError', reason: Reason.InsufficientCapacity, message: 'OperationDenied.NoStock: no stock', backoff: 'capacity' },
      want: error('capacity'),
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const got = requeueFor(c.outcome, T, () => 0);
      const { error: _dropped, ...shape } = got as ReconcileResult & { error?: Error };
      assert.deepEqual(shape, c.want);
    });
  }
});
