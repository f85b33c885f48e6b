import { Reason } from '../api/reasons.ts';

/**
 * How the controller treats a failed ECS call. The single place where ECS error codes are
 * interpreted (API.md's reason table).
 *  - transient: retried with backoff; Reconciling=True
 *  - terminal: Stalled=True, re-checked on the slow period
 *  - dryRunPassed: the DryRun call validated (a success)
 */
export type ErrorClass = 'transient' | 'terminal' | 'dryRunPassed';

/**
 * How long the workqueue should wait before the next try of a transient error. `capacity`: a
 * zone out of stock, retried with a backoff that grows to at most a minute (FLEETS.md), so a
 * morning start keeps trying until capacity returns.
 */
export type Backoff = 'normal' | 'slow' | 'reobserve' | 'capacity';

export interface Classification {
  reason: Reason;
  errorClass: ErrorClass;
  backoff: Backoff;
  /** Throttling slows the whole region, not just this resource. */
  throttled: boolean;
}

const terminal = (reason: Reason): Classification => ({ reason, errorClass: 'terminal', backoff: 'slow', throttled: false });
const transient = (reason: Reason, backoff: Backoff = 'normal'): Classification => ({
  reason,
  errorClass: 'transient',
  backoff,
  throttled: false,
});

const EXACT: Record<string, Classification> = {
  InternalError: transient(Reason.InternalError),
  ServiceUnavailable: transient(Reason.ServiceUnavailable),
  Timeout: transient(Reason.EcsUnreachable),
  NetworkError: transient(Reason.EcsUnreachable),
  IncorrectInstanceStatus: transient(Reason.IncorrectInstanceStatus, 'reobserve'),
  OperationConflict: transient(Reason.OperationConflict),
  'InvalidOperation.Conflict': transient(Reason.OperationConflict),
  IncorrectDiskStatus: transient(Reason.IncorrectDiskStatus, 'slow'),
  DiskError: transient(Reason.IncorrectDiskStatus, 'slow'),
  'OperationDenied.NoStock': transient(Reason.InsufficientCapacity, 'capacity'),
  InstanceLockedForSecurity: terminal(Reason.InstanceLockedForSecurity),
  'InvalidInstanceId.NotFound': terminal(Reason.InstanceNotFound),
  'InstanceType.ParameterMismatch': terminal(Reason.ConfirmStopRequired),
  InstanceExpiredOrInArrears: terminal(Reason.InstanceExpiredOrInArrears),
  'InvalidInstanceId.NotSupport': terminal(Reason.OperationNotSupported),
  'InvalidParameter.KMSKeyId.KMSUnauthorized': terminal(Reason.KMSUnauthorized),
  'InvalidAccessKeyId.NotFound': terminal(Reason.InvalidCredentials),
  'InvalidAccessKeyId.Inactive': terminal(Reason.InvalidCredentials),
  SignatureDoesNotMatch: terminal(Reason.InvalidCredentials),
  InvalidCredentials: terminal(Reason.InvalidCredentials),
  NoPermission: terminal(Reason.Forbidden),
  InvalidSpec: terminal(Reason.InvalidSpec),
  DryRunOperation: { reason: Reason.DryRunSucceeded, errorClass: 'dryRunPassed', backoff: 'normal', throttled: false },
};

/** Classifies an ECS error code (and HTTP status when known). Unknown codes are EcsError, transient, slow. */
export function classify(code: string, httpStatus?: number): Classification {
  const exact = Object.hasOwn(EXACT, code) ? EXACT[code] : undefined;
  if (exact) return exact;
  if (code.includes('Throttling')) return { ...transient(Reason.Throttled), throttled: true };
  if (code.startsWith('InvalidSecurityToken.')) return terminal(Reason.InvalidCredentials);
  if (code.startsWith('Forbidden')) return terminal(Reason.Forbidden);
  if (httpStatus !== undefined && httpStatus >= 500) {
    return httpStatus === 503 ? transient(Reason.ServiceUnavailable) : transient(Reason.InternalError);
  }
  return transient(Reason.EcsError, 'slow');
}

/**
 * A failed ECS call, already classified. Carries nothing secret. Its message is API.md's
 * condition message: `<ECS code>: <ECS message> (RequestId <id>)`.
 */
export class EcsCallError extends Error {
  readonly code: string;
  readonly requestId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly classification: Classification;

  constructor(init: {
    code: string;
    message: string;
    requestId?: string | undefined;
    httpStatus?: number | undefined;
    retryAfterMs?: number | undefined;
  }) {
    super(`${init.code}: ${init.message}${init.requestId ? ` (RequestId ${init.requestId})` : ''}`);
    this.name = 'EcsCallError';
    this.code = init.code;
    this.requestId = init.requestId;
    this.httpStatus = init.httpStatus;
    this.retryAfterMs = init.retryAfterMs;
    this.classification = classify(init.code, init.httpStatus);
  }
}

const MAX_ECS_MESSAGE = 900;
/** Node's own socket error codes (ECONNRESET, ETIMEDOUT, EAI_AGAIN…), as opposed to ECS codes. */
const NODE_SYSTEM_ERROR = /^E[A-Z_]+$/;

/**
 * Turns whatever the Alibaba SDK (or the network) threw into an EcsCallError. The SDK throws
 * ThrottlingError / ClientError / ServerError with `code`, `statusCode`, `data` and, for
 * throttling, `retryAfter`; a non-JSON body gives a SyntaxError; a timeout an error without
 * `code` whose message starts with ConnectTimeout or ReadTimeout.
 */
export function fromSdkError(err: unknown): EcsCallError {
  if (err instanceof EcsCallError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const message = typeof e['message'] === 'string' ? (e['message'] as string) : String(err);
  const data = typeof e['data'] === 'object' && e['data'] !== null ? (e['data'] as Record<string, unknown>) : {};
  // A gateway's error body without Code/RequestId makes the SDK report the string "undefined".
  const present = (v: unknown): v is string => typeof v === 'string' && v !== '' && v !== 'undefined';
  const code = present(e['code']) ? e['code'] : undefined;
  const statusCode = typeof e['statusCode'] === 'number' ? (e['statusCode'] as number) : undefined;
  const requestId = present(e['requestId']) ? e['requestId'] : present(data['RequestId']) ? data['RequestId'] : undefined;
  const retryAfter = typeof e['retryAfter'] === 'number' && e['retryAfter'] > 0 ? (e['retryAfter'] as number) : undefined;

  if (code && !NODE_SYSTEM_ERROR.test(code)) {
    const ecsMessage = present(data['Message']) ? data['Message'] : present(data['message']) ? data['message'] : stripSdkPrefix(message);
    return new EcsCallError({
      code,
      message: truncate(ecsMessage),
      requestId: requestId || undefined,
      httpStatus: statusCode,
      retryAfterMs: retryAfter,
    });
  }
  if (!code && statusCode !== undefined && statusCode >= 500) {
    return new EcsCallError({ code: `HTTP${statusCode}`, message: truncate(stripSdkPrefix(message)), requestId, httpStatus: statusCode });
  }
  if (/^(ConnectTimeout|ReadTimeout)/.test(message) || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    return new EcsCallError({ code: 'Timeout', message: truncate(message) });
  }
  if (err instanceof SyntaxError) {
    return new EcsCallError({ code: 'NetworkError', message: truncate(`unparsable response from ECS: ${message}`) });
  }
  if ((code && NODE_SYSTEM_ERROR.test(code)) || NETWORK_MESSAGE.test(message)) {
    return new EcsCallError({ code: 'NetworkError', message: truncate(message) });
  }
  // Not a shape ECS or the network produces: a defect on our side. Retried slowly, shown as is.
  return new EcsCallError({ code: 'EcsError', message: truncate(`${e['name'] ?? 'Error'}: ${message}`) });
}

const NETWORK_MESSAGE = /socket|ECONN|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|network|premature close/i;

function stripSdkPrefix(message: string): string {
  // The SDK formats "<Code>: code: <status>, <Message> request id: <id>"; keep the ECS message only.
  const m = /^(?:[^\n]*?: )?code: [^,]*, (.*?)(?: request id: .*)?$/s.exec(message);
  return m?.[1] ?? message;
}

function truncate(s: string): string {
  return s.length > MAX_ECS_MESSAGE ? `${s.slice(0, MAX_ECS_MESSAGE)}…` : s;
}
