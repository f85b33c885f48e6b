/**
 * ECS error catalogue: HTTP status and message per error code, as the real API answers them.
 */

export interface CatalogueEntry {
  status: number;
  message: string;
}

export const ERROR_CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  // gateway / signature
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidAccessKeyId.Inactive': { status: 400, message: 'Specified access key is disabled.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  MissingSignatureNonce: { status: 400, message: 'SignatureNonce is mandatory for this action.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  'InvalidSecurityToken.MismatchWithAccessKey': { status: 400, message: 'Specified SecurityToken mismatch with the AccessKey.' },
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  'InvalidSecurityToken.Malformed': { status: 400, message: 'Specified SecurityToken is malformed.' },
  'InvalidAction.NotFound': { status: 400, message: 'Specified api is not found, please check your url and method.' },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  MissingParameter: { status: 400, message: 'A mandatory parameter is not supplied.' },
  'InvalidParameter.NextToken': { status: 400, message: 'The specified parameter NextToken is not valid.' },
  'InvalidTag.Mismatch': { status: 400, message: 'The specified Tag.n.Key and Tag.n.Value are not match.' },
  InvalidTagCount: { status: 400, message: 'The specified tags are beyond the permitted range.' },
  'InvalidTagKey.Malformed': { status: 400, message: 'The specified Tag.n.Key is not valid.' },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
  Forbidden: { status: 403, message: 'User not authorized to operate on the specified resource.' },
  'Forbidden.RAM': { status: 403, message: "User not authorized to operate on the specified resource, or this API doesn't support RAM." },
  NoPermission: { status: 403, message: 'You are not authorized to perform this operation.' },
  // flow control / availability
  Throttling: { status: 400, message: 'Request was denied due to request throttling.' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  'Throttling.Api': { status: 400, message: 'Request was denied due to api flow control.' },
  InternalError: { status: 500, message: 'The request processing has failed due to some unknown error, exception or failure.' },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },
  // instance operations
  DryRunOperation: { status: 400, message: 'Request validation has been passed with DryRun flag set.' },
  'InvalidInstanceId.NotFound': { status: 404, message: 'The specified InstanceId does not exist.' },
  IncorrectInstanceStatus: { status: 403, message: 'The current status of the resource does not support this operation.' },
  InstanceLockedForSecurity: { status: 403, message: 'The specified operation is denied as your instance is locked for security reasons.' },
  'InstanceType.ParameterMismatch': {
    status: 403,
    message: 'The specified instance type has local disks; set ConfirmStop to true to stop it.',
  },
  InstanceExpiredOrInArrears: {
    status: 403,
    message: 'The specified operation is denied as your prepay instance is expired (prepay mode) or in arrears (afterpay mode).',
  },
  'InvalidInstanceId.NotSupport': {
    status: 403,
    message: 'The specified instance does not support StopCharging (classic network, subscription, local disk or spot instance).',
  },
  IncorrectDiskStatus: { status: 403, message: 'The current disk status does not support this operation.' },
  DiskError: { status: 403, message: 'The specified disk is in an error state.' },
  'InvalidParameter.KMSKeyId.KMSUnauthorized': { status: 403, message: 'ECS service have no right to access your KMS.' },
  'OperationDenied.NoStock': {
    status: 403,
    message: 'The resource is out of stock in the specified zone. Please try other types, or choose other regions and zones.',
  },
  OperationConflict: { status: 403, message: 'Request was denied due to conflict with a previous request, please try again later.' },
  'InvalidOperation.Conflict': { status: 403, message: 'The operation conflicts with another operation in progress.' },
};

export class EcsApiError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  /** Value of `x-acs-retry-after` (ms), for throttling answers. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, httpStatus: number, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'EcsApiError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Status of a code: its catalogue entry, else 500 for `Internal*`/`ServiceUnavailable*`, else 400. */
export function statusOf(code: string): number {
  const entry = ERROR_CATALOGUE[code];
  if (entry) return entry.status;
  if (code.startsWith('Internal')) return 500;
  if (code.startsWith('ServiceUnavailable')) return 503;
  if (code.startsWith('Forbidden') || code.startsWith('OperationDenied')) return 403;
  if (code.endsWith('.NotFound')) return 404;
  return 400;
}

export function messageOf(code: string): string {
  return ERROR_CATALOGUE[code]?.message ?? `Emulated error ${code}.`;
}

/** An ECS error with the catalogue's status; `message` overrides the catalogue message. */
export function ecsError(code: string, message?: string, retryAfterMs?: number): EcsApiError {
  return new EcsApiError(code, statusOf(code), message ?? messageOf(code), retryAfterMs);
}

export function missingParameter(name: string): EcsApiError {
  return ecsError('MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
}

export function invalidParameter(name: string, detail?: string): EcsApiError {
  return ecsError('InvalidParameter', `The specified parameter "${name}" is not valid.${detail ? ` ${detail}` : ''}`);
}
