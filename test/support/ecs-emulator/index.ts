/**
 * ECS emulator: a local HTTP server speaking the ECS (2014-05-26) wire protocol closely enough
 * for the real `@alicloud/ecs20140526` SDK. See README.md in this folder.
 */
export type {
  AccessKey,
  EcsEmulator,
  EmulatedInstance,
  EmulatedInstanceInit,
  EmulatorOptions,
  Fault,
  FaultKind,
  InstanceStatus,
  Quota,
  RecordedCall,
  StartOptions,
  StoppedMode,
} from './types.ts';
export { startEcsEmulator, API_VERSION } from './server.ts';
export { ERROR_CATALOGUE } from './errors.ts';
export { signRequest, rfc3986, acsDate } from './signature.ts';
export type { SignRequestInput, SignedRequest } from './signature.ts';
