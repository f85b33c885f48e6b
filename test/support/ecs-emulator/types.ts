/**
 * Public types of the ECS emulator. Re-exported by `index.ts`; import from there.
 */

export type InstanceStatus = 'Pending' | 'Starting' | 'Running' | 'Stopping' | 'Stopped';
export type StoppedMode = 'KeepCharging' | 'StopCharging' | 'Not-applicable';

export interface EmulatedInstanceInit {
  instanceId: string;
  regionId: string;
  /** Default `Running`. A transitional status (Pending, Starting, Stopping) settles after the configured duration. */
  status?: InstanceStatus;
  /** Default `PostPaid`. */
  chargeType?: 'PostPaid' | 'PrePaid';
  /** Default false (`SpotStrategy: NoSpot`); true gives `SpotAsPriceGo`. */
  spot?: boolean;
  /** Default `vpc`. */
  networkType?: 'vpc' | 'classic';
  /** Default `ecs.g7.large`. An `ecs.i1.*` type means local disks unless `localDisk` says otherwise. */
  instanceType?: string;
  /** Instance with local disks: StopInstance needs `ConfirmStop=true`, else 403 `InstanceType.ParameterMismatch`. */
  localDisk?: boolean;
  /**
   * `OperationLocks` reasons. `security` gives 403 `InstanceLockedForSecurity`;
   * `financial`, `dedicatedhostfinancial`, `refunded`, `Recycling` give 403 `InstanceExpiredOrInArrears`.
   */
  locks?: string[];
  /** Stop and start answer 403 `InvalidParameter.KMSKeyId.KMSUnauthorized`. */
  kmsUnauthorized?: boolean;
  /** StartInstance answers 403 `OperationDenied.NoStock`. */
  noStock?: boolean;
  /** StoppedMode recorded for a Stopped instance. Default `KeepCharging`. */
  stoppedMode?: 'KeepCharging' | 'StopCharging';
  /**
   * No capacity until this time on the emulator's `now` clock: StartInstance answers 403
   * `OperationDenied.NoStock` while `now() < noStockUntil`, then capacity is back.
   */
  noStockUntil?: number;
  /** Like `noStockUntil`, relative: no capacity for this many ms from the moment it is set. */
  noStockForMs?: number;
  /**
   * The next K start attempts of this instance (StartInstance or StartInstances, dry runs not
   * counted) answer `OperationDenied.NoStock`; then capacity is back.
   */
  noStockAttempts?: number;
  /**
   * Hibernation configured on the instance (`HibernationOptions.Configured` in DescribeInstances).
   * StopInstance with `Hibernate=true` on an instance without it answers 403 `InvalidInstanceId.NotSupport`.
   * Default false.
   */
  hibernationConfigured?: boolean;
  /** ECS tags (key -> value). `update` replaces the whole map. Default none. */
  tags?: Record<string, string>;
  /** vCPUs reported as `Cpu`. Default: derived from `instanceType` (see `instance-types.ts`). */
  cpu?: number;
  /** Memory in MiB reported as `Memory`. Default: derived from `instanceType`. */
  memoryMiB?: number;
}

/** What may change on an existing instance (`update`, admin `POST /_emulator/instances/ID`). */
export type EmulatedInstancePatch = Partial<Omit<EmulatedInstanceInit, 'instanceId'>>;

/** Snapshot of an emulated instance, status computed from the clock at the time of the call. */
export interface EmulatedInstance {
  instanceId: string;
  regionId: string;
  status: InstanceStatus;
  chargeType: 'PostPaid' | 'PrePaid';
  spot: boolean;
  networkType: 'vpc' | 'classic';
  instanceType: string;
  localDisk: boolean;
  locks: string[];
  kmsUnauthorized: boolean;
  noStock: boolean;
  /** The stop mode when Stopping/Stopped, else `Not-applicable` (of `status`, not of `describedStatus`). */
  stoppedMode: StoppedMode;
  /**
   * What DescribeInstances / DescribeInstanceStatus answer now. Differs from `status` during the
   * acceptance lag (`acceptLagMs`: still Running after an accepted stop) and with `describeLagMs`.
   */
  describedStatus: InstanceStatus;
  /**
   * Clock time (ms) of the next change of `status` (end of a transition); undefined when stable.
   * During the acceptance lag this is the end of the whole stop or start.
   */
  transitionEndsAt: number | undefined;
  /** Set by `noStockUntil` / `noStockForMs`; undefined when not set. */
  noStockUntil: number | undefined;
  /** Start attempts left that answer NoStock. */
  noStockAttempts: number;
  hibernationConfigured: boolean;
  /** The last accepted stop asked for `Hibernate=true` (cleared by a start). */
  hibernated: boolean;
  tags: Record<string, string>;
  cpu: number;
  memoryMiB: number;
}

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS credentials: requests must carry exactly this `x-acs-security-token`. */
  securityToken?: string;
  /** A disabled key: 400 `InvalidAccessKeyId.Inactive`. */
  inactive?: boolean;
}

/** Codes a quota answers with (HTTP 400, the SDK throws `ThrottlingError`). */
export type ThrottlingCode = 'Throttling.User' | 'Throttling' | 'Throttling.Api';

/**
 * Token bucket: `perSecond` refill, `burst` size. An empty bucket answers `code` (default
 * `Throttling.User`) with `x-acs-retry-after: <ms until a token>`.
 */
export interface BucketQuota {
  perSecond: number;
  /** Bucket size; default max(1, perSecond). */
  burst?: number;
  code?: ThrottlingCode;
}

/**
 * What ECS does: `perMinute` calls per calendar minute (of the `now` clock). Once used up, calls
 * answer `code` (default `Throttling.User`) WITHOUT `x-acs-retry-after` until the next minute starts.
 */
export interface WindowQuota {
  perMinute: number;
  code?: ThrottlingCode;
}

/** Per (action, region) flow control; see `throttle.ts`. */
export type Quota = BucketQuota | WindowQuota;

export interface EmulatorOptions {
  /** Default one pair: `test-ak` / `test-secret`. */
  accessKeys?: AccessKey[];
  /** Graceful stop duration, default 2000 ms. */
  stopMs?: number;
  /** Forced stop duration, default 300 ms. */
  forceStopMs?: number;
  /** Start duration (also Pending -> Running), default 1000 ms. */
  startMs?: number;
  /**
   * Acceptance lag, default 1000 ms: after an accepted stop (start), describes still report
   * Running (Stopped) for this long, then Stopping (Starting) for `stopMs` (`startMs`). The
   * instance is already busy: a second stop or a start answers 403 `IncorrectInstanceStatus`.
   */
  acceptLagMs?: number;
  /**
   * Eventual consistency, default 0: Describe* report the power state (Status, StoppedMode) as it
   * was this many ms ago. Existence, tags and other attributes are always current.
   */
  describeLagMs?: number;
  /**
   * At most this many instances match a DescribeInstances query with `Tag.N` filters (ECS
   * documents 1,000 and points to ListTagResources beyond); the rest are silently left out.
   * Default 1000; `Infinity` lifts it.
   */
  tagFilterLimit?: number;
  /** Added (real time) to every response, faulted ones included. Default 0. */
  latencyMs?: number;
  /** Per-action quotas, token bucket or per-minute window (see `throttle.ts` for the scope). */
  quotas?: Record<string, Quota>;
  /** Injectable clock (ms) for the state machine, throttling and `RecordedCall.time`. Default `Date.now`. */
  now?: () => number;
  /**
   * Clock the `x-acs-date` check (15 min tolerance) compares with. Default `Date.now`
   * (the SDK stamps requests with the real wall clock, whatever `now` says).
   */
  wallClock?: () => number;
  /** Keep at most this many entries in `calls` (oldest dropped). Default unlimited. */
  maxRecordedCalls?: number;
}

export type FaultKind = 'error' | 'delay' | 'reset' | 'non-json' | 'truncated';

/** The next `count` matching calls fail this way. */
export interface Fault {
  /** Match only this action (e.g. `StopInstance`); default any action. */
  action?: string;
  /** Match only calls naming this instance (`InstanceId`, `InstanceId.N` or inside `InstanceIds`). */
  instanceId?: string;
  /**
   * Match only calls whose decoded query parameters have these values, e.g. `{ 'Tag.1.Key': 'env' }`
   * for a tag-filtered DescribeInstances or `{ RegionId: 'cn-shanghai' }`.
   */
  params?: Record<string, string>;
  /** Default 1; `Infinity` for a permanent fault (until `clearFaults`). */
  count?: number;
  /** Default `error`. */
  kind?: FaultKind;
  /** `error` (and `delay` with a code): the ECS error code; default `InternalError`. */
  code?: string;
  /** Overrides the HTTP status (default from the code's catalogue entry, 502 for non-json, 200 for truncated). */
  httpStatus?: number;
  /** Overrides the error message. */
  message?: string;
  /** `delay`: how long to wait before answering; default 5000 ms. */
  delayMs?: number;
  /** `error`: value of the `x-acs-retry-after` header (ms). Throttling codes default to 1000. */
  retryAfterMs?: number;
  /**
   * `delay` only: process the call even if the client has gone away during the delay
   * (the request reached ECS, the answer was lost). Default false: a call whose client
   * gave up changes nothing.
   */
  applyAfterTimeout?: boolean;
}

export interface RecordedCall {
  /** `now()` when the call arrived. */
  time: number;
  action: string;
  /** Decoded query parameters. */
  params: Record<string, string>;
  /** From the Authorization header (whether or not it verified). */
  accessKeyId?: string;
  /** 0 when no answer was sent (reset, or client gone during a delay). */
  httpStatus: number;
  /**
   * `OK` or the error code answered. Faults without an ECS code:
   * `ConnectionReset` (reset), `NonJsonResponse` (non-json), `TruncatedResponse` (truncated),
   * `ClientClosedRequest` (client gone during a delay).
   */
  code: string;
  requestId: string;
  /** Set when an injected fault shaped the answer. */
  fault?: FaultKind;
}

export interface EcsEmulator {
  /** `127.0.0.1:PORT`: what the SDK's `endpoint` option takes (with `protocol: 'HTTP'`). */
  readonly endpoint: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  addInstance(init: EmulatedInstanceInit): void;
  instance(id: string): EmulatedInstance | undefined;
  instances(): EmulatedInstance[];
  /**
   * Out-of-band change (drift), immediate. A transitional status settles after the configured
   * duration, or after `holdMs` when given (`Infinity` keeps it).
   */
  setStatus(id: string, status: InstanceStatus, holdMs?: number): void;
  /** E.g. lift a lock: `update(id, { locks: [] })`. `status` in the patch behaves like `setStatus`. */
  update(id: string, patch: EmulatedInstancePatch): void;
  /** Releases the instance: it vanishes from every describe and calls naming it answer NotFound. */
  removeInstance(id: string): void;
  injectFault(f: Fault): void;
  clearFaults(): void;
  /** Replaces the quota of `action` (all regions); `undefined` removes it. */
  setQuota(action: string, q: Quota | undefined): void;
  /** Every call, faulted and rejected ones included, oldest first. */
  readonly calls: RecordedCall[];
  resetCalls(): void;
  close(): Promise<void>;
}

export interface StartOptions extends EmulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Bind address, default `127.0.0.1`. */
  host?: string;
}
