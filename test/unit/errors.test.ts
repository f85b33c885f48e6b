// classify() and fromSdkError(): API.md's reason table, row by row, and the shapes the SDK and
// the network actually throw.
import assert from 'node:assert/strict';
import { ClientError, ServerError, ThrottlingError } from '@alicloud/openapi-core';
import { EcsCallError, classify, fromSdkError } from '../../src/ecs/errors.ts';
import type { Backoff, ErrorClass } from '../../src/ecs/errors.ts';

interface Row {
  code: string;
  http?: number;
  reason: string;
  errorClass: ErrorClass;
  /** For transient errors: how the workqueue backs off. */
  backoff?: Backoff;
  throttled?: boolean;
}

const transient = (code: string, reason: string, backoff: Backoff = 'normal', http?: number): Row => ({ code, reason, errorClass: 'transient', backoff, ...(http ? { http } : {}) });
const terminal = (code: string, reason: string, http?: number): Row => ({ code, reason, errorClass: 'terminal', ...(http ? { http } : {}) });

// API.md "Errors, from the ECS error code of the failing call".
const TABLE: Row[] = [
  transient('InternalError', 'InternalError', 'normal', 500),
  transient('InternalError', 'InternalError'),
  transient('UnknownServerError', 'InternalError', 'normal', 500),
  transient('BadGateway', 'InternalError', 'normal', 502),
  transient('GatewayTimeout', 'InternalError', 'normal', 504),
  transient('ServiceUnavailable', 'ServiceUnavailable', 'normal', 503),
  transient('ServiceUnavailable', 'ServiceUnavailable'),
  transient('SomethingUnavailable', 'ServiceUnavailable', 'normal', 503),
  { ...transient('Throttling', 'Throttled', 'normal', 400), throttled: true },
  { ...transient('Throttling.User', 'Throttled', 'normal', 400), throttled: true },
  { ...transient('Throttling.Api', 'Throttled', 'normal', 400), throttled: true },
  { ...transient('Throttling.Resource', 'Throttled', 'normal', 503), throttled: true },
  { ...transient('Request.Throttling', 'Throttled'), throttled: true },
  transient('Timeout', 'EcsUnreachable'),
  transient('NetworkError', 'EcsUnreachable'),
  transient('IncorrectInstanceStatus', 'IncorrectInstanceStatus', 'reobserve', 403),
  transient('OperationConflict', 'OperationConflict', 'normal', 403),
  transient('InvalidOperation.Conflict', 'OperationConflict', 'normal', 403),
  transient('IncorrectDiskStatus', 'IncorrectDiskStatus', 'slow', 403),
  transient('DiskError', 'IncorrectDiskStatus', 'slow', 403),
  // FLEETS.md: a zone out of stock is retried until capacity returns, never Stalled
  transient('OperationDenied.NoStock', 'InsufficientCapacity', 'capacity', 403),
  terminal('InstanceLockedForSecurity', 'InstanceLockedForSecurity', 403),
  terminal('InvalidInstanceId.NotFound', 'InstanceNotFound', 404),
  terminal('InstanceType.ParameterMismatch', 'ConfirmStopRequired', 403),
  terminal('InstanceExpiredOrInArrears', 'InstanceExpiredOrInArrears', 403),
  terminal('InvalidInstanceId.NotSupport', 'OperationNotSupported', 403),
  terminal('InvalidParameter.KMSKeyId.KMSUnauthorized', 'KMSUnauthorized', 403),
  terminal('InvalidAccessKeyId.NotFound', 'InvalidCredentials', 404),
  terminal('InvalidAccessKeyId.Inactive', 'InvalidCredentials', 400),
  terminal('SignatureDoesNotMatch', 'InvalidCredentials', 400),
  terminal('InvalidSecurityToken.Expired', 'InvalidCredentials', 400),
  terminal('InvalidSecurityToken.MismatchWithAccessKey', 'InvalidCredentials', 400),
  terminal('InvalidSecurityToken.Malformed', 'InvalidCredentials', 400),
  terminal('InvalidCredentials', 'InvalidCredentials'),
  terminal('Forbidden', 'Forbidden', 403),
  terminal('Forbidden.RAM', 'Forbidden', 403),
  terminal('Forbidden.NotSupportRAM', 'Forbidden', 403),
  terminal('NoPermission', 'Forbidden', 403),
  terminal('InvalidSpec', 'InvalidSpec'),
  { code: 'DryRunOperation', http: 400, reason: 'DryRunSucceeded', errorClass: 'dryRunPassed' },
  // anything else
  transient('OperationDenied', 'EcsError', 'slow', 403),
  transient('InvalidTimeStamp.Expired', 'EcsError', 'slow', 400),
  transient('IncorrectInstanceStatus.Initializing', 'EcsError', 'slow', 403),
  transient('SomethingNew', 'EcsError', 'slow'),
  transient('SomethingNew', 'EcsError', 'slow', 400),
];

describe('classify(): API.md reason table', () => {
  for (const r of TABLE) {
    it(`${r.code}${r.http ? ` (${r.http})` : ''} -> ${r.reason}, ${r.errorClass}${r.backoff ? `, ${r.backoff} backoff` : ''}${r.throttled ? ', slows the region' : ''}`, () => {
      const got = classify(r.code, r.http);
      assert.equal(got.reason, r.reason);
      assert.equal(got.errorClass, r.errorClass);
      if (r.backoff) assert.equal(got.backoff, r.backoff);
      assert.equal(got.throttled, r.throttled ?? false);
    });
  }

  it('terminal errors are re-checked slowly', () => {
    for (const r of TABLE.filter((x) => x.errorClass === 'terminal')) assert.equal(classify(r.code, r.http).backoff, 'slow', r.code);
  });

  // Regression (was a bug): classify() looks codes up in a plain object literal, so a code that names an
  // Object.prototype member ("constructor", "toString", "__proto__") returns a function or
  // the prototype instead of a Classification (reason undefined). ECS codes come from the
  // response body; anything unknown must be EcsError.
  it('a code naming an Object.prototype member is still just an unknown code', () => {
    for (const code of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const got = classify(code, 400);
      assert.equal(got.reason, 'EcsError', code);
      assert.equal(got.errorClass, 'transient', code);
    }
  });
});

/** What the SDK builds from an error answer (openapi-core client.js, doRPCRequest / execute). */
function sdkError(statusCode: number, body: Record<string, unknown>, retryAfter?: number): Error {
  const code = body['Code'] ?? body['code'];
  const requestId = body['RequestId'] ?? body['requestId'];
  const init = {
    statusCode,
    code: `${code}`,
    message: `code: ${statusCode}, ${body['Message'] ?? body['message']} request id: ${requestId}`,
    detail: `${body['Detail']}`,
    description: `${body['Description']}`,
    data: body,
    requestId: `${requestId}`,
  };
  if (`${code}`.includes('Throttling')) return new ThrottlingError({ ...init, retryAfter });
  return statusCode < 500 ? new ClientError(init) : new ServerError(init);
}

describe('fromSdkError(): what the SDK and the network throw', () => {
  interface Case {
    name: string;
    err: unknown;
    code: string;
    reason: string;
    requestId?: string;
    httpStatus?: number;
    retryAfterMs?: number;
    /** The condition message, exactly, or a pattern. */
    message: string | RegExp;
  }
  const cases: Case[] = [
    {
      name: 'SDK ThrottlingError (Throttling.User, x-acs-retry-after 1500)',
      err: sdkError(400, { RequestId: 'r1', HostId: 'ecs.cn-hangzhou.aliyuncs.com', Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' }, 1500),
      code: 'Throttling.User',
      reason: 'Throttled',
      requestId: 'r1',
      httpStatus: 400,
      retryAfterMs: 1500,
      message: 'Throttling.User: Request was denied due to user flow control. (RequestId r1)',
    },
    {
      name: 'a ThrottlingError-shaped object',
      err: { code: 'Throttling.User', statusCode: 400, retryAfter: 1500, data: { RequestId: 'r1', Message: 'm' } },
      code: 'Throttling.User',
      reason: 'Throttled',
      requestId: 'r1',
      httpStatus: 400,
      retryAfterMs: 1500,
      message: 'Throttling.User: m (RequestId r1)',
    },
    {
      name: 'SDK ThrottlingError without x-acs-retry-after',
      err: sdkError(400, { RequestId: 'r1b', Code: 'Throttling.Api', Message: 'Request was denied due to api flow control.' }),
      code: 'Throttling.Api',
      reason: 'Throttled',
      requestId: 'r1b',
      message: 'Throttling.Api: Request was denied due to api flow control. (RequestId r1b)',
    },
    {
      name: 'SDK ClientError 403 IncorrectInstanceStatus',
      err: sdkError(403, { RequestId: 'r2', Code: 'IncorrectInstanceStatus', Message: 'The current status of the resource does not support this operation.' }),
      code: 'IncorrectInstanceStatus',
      reason: 'IncorrectInstanceStatus',
      requestId: 'r2',
      httpStatus: 403,
      message: 'IncorrectInstanceStatus: The current status of the resource does not support this operation. (RequestId r2)',
    },
    {
      name: 'SDK ClientError 400 DryRunOperation',
      err: sdkError(400, { RequestId: 'r3', Code: 'DryRunOperation', Message: 'Request validation has been passed with DryRun flag set.' }),
      code: 'DryRunOperation',
      reason: 'DryRunSucceeded',
      requestId: 'r3',
      message: 'DryRunOperation: Request validation has been passed with DryRun flag set. (RequestId r3)',
    },
    {
      name: 'SDK ClientError 404 InvalidAccessKeyId.NotFound',
      err: sdkError(404, { RequestId: 'r4', Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' }),
      code: 'InvalidAccessKeyId.NotFound',
      reason: 'InvalidCredentials',
      requestId: 'r4',
      message: 'InvalidAccessKeyId.NotFound: Specified access key is not found. (RequestId r4)',
    },
    {
      name: 'SDK ServerError 500 InternalError',
      err: sdkError(500, { RequestId: 'r5', Code: 'InternalError', Message: 'The request processing has failed due to some unknown error.' }),
      code: 'InternalError',
      reason: 'InternalError',
      requestId: 'r5',
      httpStatus: 500,
      message: 'InternalError: The request processing has failed due to some unknown error. (RequestId r5)',
    },
    {
      name: 'SDK ServerError 503 ServiceUnavailable',
      err: sdkError(503, { RequestId: 'r6', Code: 'ServiceUnavailable', Message: 'The request has failed due to a temporary failure of the server.' }),
      code: 'ServiceUnavailable',
      reason: 'ServiceUnavailable',
      requestId: 'r6',
      httpStatus: 503,
      message: 'ServiceUnavailable: The request has failed due to a temporary failure of the server. (RequestId r6)',
    },
    {
      name: 'SDK ServerError 502 with an unknown code',
      err: sdkError(502, { RequestId: 'r7', Code: 'BadGateway', Message: 'upstream failed' }),
      code: 'BadGateway',
      reason: 'InternalError',
      requestId: 'r7',
      httpStatus: 502,
      message: 'BadGateway: upstream failed (RequestId r7)',
    },
    {
      name: 'a non-JSON body (SyntaxError from JSON.parse)',
      err: (() => {
        try {
          JSON.parse('<html><body>502 Bad Gateway</body></html>');
        } catch (e) {
          return e;
        }
        return undefined;
      })(),
      code: 'NetworkError',
      reason: 'EcsUnreachable',
      message: /^NetworkError: .*Unexpected token/,
    },
    {
      name: 'ReadTimeout (RequestTimeoutError, no code)',
      err: Object.assign(new Error('ReadTimeout(2000). POST http://127.0.0.1:9000/ failed.'), { name: 'RequestTimeoutError' }),
      code: 'Timeout',
      reason: 'EcsUnreachable',
      message: /^Timeout: ReadTimeout\(2000\)/,
    },
    {
      name: 'ConnectTimeout (RequestTimeoutError, no code)',
      err: Object.assign(new Error('ConnectTimeout: Connect HTTP://127.0.0.1:9000 failed, timeout 2000ms'), { name: 'RequestTimeoutError' }),
      code: 'Timeout',
      reason: 'EcsUnreachable',
      message: /^Timeout: ConnectTimeout/,
    },
    {
      name: 'socket ETIMEDOUT',
      err: Object.assign(new Error('connect ETIMEDOUT 47.1.2.3:443'), { code: 'ETIMEDOUT' }),
      code: 'Timeout',
      reason: 'EcsUnreachable',
      message: /^Timeout: connect ETIMEDOUT/,
    },
    {
      name: 'connection reset (Node error with code ECONNRESET)',
      err: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      code: 'NetworkError',
      reason: 'EcsUnreachable',
      message: 'NetworkError: read ECONNRESET',
    },
    {
      name: 'socket hang up (ECONNRESET)',
      err: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      code: 'NetworkError',
      reason: 'EcsUnreachable',
      message: 'NetworkError: socket hang up',
    },
    {
      name: 'a bare {code: ECONNRESET} object',
      err: { code: 'ECONNRESET' },
      code: 'NetworkError',
      reason: 'EcsUnreachable',
      message: /^NetworkError: /,
    },
    {
      name: 'connection refused',
      err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' }),
      code: 'NetworkError',
      reason: 'EcsUnreachable',
      message: 'NetworkError: connect ECONNREFUSED 127.0.0.1:9000',
    },
    {
      name: 'DNS failure',
      err: Object.assign(new Error('getaddrinfo EAI_AGAIN ecs.cn-hangzhou.aliyuncs.com'), { code: 'EAI_AGAIN' }),
      code: 'NetworkError',
      reason: 'EcsUnreachable',
      message: /^NetworkError: getaddrinfo EAI_AGAIN/,
    },
    {
      name: 'a TypeError of our own (a defect, not ECS): retried slowly, shown as is',
      err: new TypeError("Cannot read properties of undefined (reading 'instance')"),
      code: 'EcsError',
      reason: 'EcsError',
      message: "EcsError: TypeError: Cannot read properties of undefined (reading 'instance')",
    },
    {
      name: 'a thrown string',
      err: 'boom',
      code: 'EcsError',
      reason: 'EcsError',
      message: /^EcsError: .*boom$/,
    },
  ];

  for (const k of cases) {
    it(`${k.name} -> ${k.code}, ${k.reason}`, () => {
      const e = fromSdkError(k.err);
      assert.ok(e instanceof EcsCallError);
      assert.ok(e instanceof Error);
      assert.equal(e.code, k.code);
      assert.equal(e.classification.reason, k.reason);
      assert.equal(e.requestId, k.requestId);
      if (k.httpStatus !== undefined) assert.equal(e.httpStatus, k.httpStatus);
      assert.equal(e.retryAfterMs, k.retryAfterMs);
      if (typeof k.message === 'string') assert.equal(e.message, k.message);
      else assert.match(e.message, k.message);
      assert.equal(e.message, e.message);
    });
  }

  it('throttling from the SDK slows the region; other errors do not', () => {
    assert.equal(fromSdkError(sdkError(400, { RequestId: 'r', Code: 'Throttling', Message: 'm' }, 1000)).classification.throttled, true);
    assert.equal(fromSdkError(sdkError(500, { RequestId: 'r', Code: 'InternalError', Message: 'm' })).classification.throttled, false);
  });

  it('an EcsCallError passes through unchanged', () => {
    const e = new EcsCallError({ code: 'IncorrectInstanceStatus', message: 'm', requestId: 'r' });
    assert.equal(fromSdkError(e), e);
  });

  it('a zero or negative retry-after is ignored', () => {
    assert.equal(fromSdkError({ code: 'Throttling.User', statusCode: 400, retryAfter: 0, data: { RequestId: 'r', Message: 'm' } }).retryAfterMs, undefined);
    assert.equal(fromSdkError({ code: 'Throttling.User', statusCode: 400, retryAfter: -5, data: { RequestId: 'r', Message: 'm' } }).retryAfterMs, undefined);
  });

  it('the message format is <code>: <message> (RequestId <id>), without RequestId when ECS sent none', () => {
    assert.equal(new EcsCallError({ code: 'C', message: 'm', requestId: 'r' }).message, 'C: m (RequestId r)');
    assert.equal(new EcsCallError({ code: 'C', message: 'm' }).message, 'C: m');
  });

  it('a huge ECS message is cut, keeping the code and RequestId', () => {
    const e = fromSdkError(sdkError(500, { RequestId: 'r-big', Code: 'InternalError', Message: 'y'.repeat(100_000) }));
    assert.ok(e.message.length <= 1024, `${e.message.length}`);
    assert.match(e.message, /^InternalError: y+…? \(RequestId r-big\)$/);
  });

  // Regression (was a bug): when the error body has no `Message` (e.g. the lower-case `message` the SDK also
  // accepts), errors.ts falls back to stripping the SDK's prefix from `err.message`, but the
  // real SDK message is "<Code>: code: <status>, <message> request id: <id>" (BaseError adds
  // "<Code>: "), so the regex never matches and the condition reads
  // "X: : code: 403, m request id: r2 (RequestId r2)".
  it('SDK ClientError whose body has a lower-case message: the SDK prefix is stripped', () => {
    const e = fromSdkError(sdkError(403, { requestId: 'r2', code: 'OperationDenied', message: 'The operation is denied.' }));
    assert.equal(e.message, 'OperationDenied: The operation is denied. (RequestId r2)');
  });

  // Regression (was a bug): a 5xx answer whose JSON body has no Code / RequestId (a proxy or gateway in front of
  // ECS) makes the SDK stringify `undefined` into code and requestId. fromSdkError takes them
  // as real: the condition reads "undefined: : code: 502, undefined request id: undefined
  // (RequestId undefined)" and ecs_api_requests_total gets code="undefined".
  it('SDK ServerError from a body without Code or RequestId does not report "undefined"', () => {
    const e = fromSdkError(sdkError(502, { message: 'bad gateway' }));
    assert.equal(e.classification.reason, 'InternalError');
    assert.notEqual(e.code, 'undefined');
    assert.equal(e.requestId, undefined);
    assert.doesNotMatch(e.message, /undefined/);
  });
});
