/**
 * ECS emulator: a local HTTP server speaking the ECS (2014-05-26) wire protocol closely enough
 * for the real `@alicloud/ecs20140526` SDK. See README.md in this folder.
 */
export type {
  AccessKey,
  BucketQuota,
  EcsEmulator,
  EmulatedInstance,
  EmulatedInstanceInit,
  EmulatedInstancePatch,
  EmulatorOptions,
  Fault,
  FaultKind,
  InstanceStatus,
  Quota,
  RecordedCall,
  StartOptions,
  StoppedMode,
  ThrottlingCode,
  WindowQuota,
} from './types.ts';
export { startEcsEmulator, API_VERSION, DEFAULT_ACCEPT_LAG_MS, DEFAULT_TAG_FILTER_LIMIT } from './server.ts';
export { shapeOf } from './instance-types.ts';
export { ERROR_CATALOGUE } from './errors.ts';
export { signRequest, rfc3986, acsDate } from './signature.ts';
export type { SignRequestInput, SignedRequest } from './signature.ts';
