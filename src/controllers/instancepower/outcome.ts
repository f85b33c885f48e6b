import type { InstanceStatus } from '../../api/types.ts';
import type { Reason } from '../../api/reasons.ts';
import type { Backoff } from '../../ecs/errors.ts';

/** What one reconcile pass found or did; the input of the status and requeue functions. */
export type Outcome =
  | {
      kind: 'converged';
      reason: 'Stopped' | 'Running';
      instanceStatus: InstanceStatus;
      message: string;
      /** DescribeInstances' StoppedMode and Cpu, for the savings counters. */
      stoppedMode?: string;
      vcpus?: number;
    }
  | {
      kind: 'inProgress';
      reason: 'Pending' | 'Starting' | 'Stopping' | 'StopRequested' | 'StartRequested';
      instanceStatus?: InstanceStatus;
      message: string;
      requestId?: string;
      /** Set when this pass's Stop/Start call was accepted: persisted, so a restart or a new leader waits for it too. */
      requested?: { action: 'Stop' | 'Start'; at: number };
    }
  | { kind: 'drifted'; instanceStatus: InstanceStatus; message: string }
  | { kind: 'dryRunPassed'; instanceStatus?: InstanceStatus; message: string; requestId?: string }
  /** A transient failure of an observation: a converged resource keeps its Ready condition. */
  | { kind: 'observeFailed'; reason: Reason; message: string; backoff: Backoff; retryAfterMs?: number }
  /** A transient failure of an action (stop/start). */
  | {
      kind: 'transientError';
      reason: Reason;
      message: string;
      backoff: Backoff;
      retryAfterMs?: number;
      instanceStatus?: InstanceStatus;
    }
  | { kind: 'terminalError'; reason: Reason; message: string; instanceStatus?: InstanceStatus };

export type Action = { kind: 'stop' } | { kind: 'start' };
