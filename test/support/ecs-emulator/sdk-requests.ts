/**
 * The SDK request classes the emulator's tests build, from their own model files: importing
 * `@alicloud/ecs20140526` itself would load every model of the SDK, which the controller
 * avoids (src/ecs/sdk-models.ts). DescribeInstanceStatus is not an operator call; its models
 * are loaded here for the tests that use it.
 */
import { loadEcsModels } from '../../../src/ecs/sdk-models.ts';

loadEcsModels(['DescribeInstanceStatus']);

export { DescribeInstanceStatusRequest } from '@alicloud/ecs20140526/dist/models/DescribeInstanceStatusRequest.js';
export { DescribeInstancesRequest, DescribeInstancesRequestTag } from '@alicloud/ecs20140526/dist/models/DescribeInstancesRequest.js';
export { StartInstanceRequest } from '@alicloud/ecs20140526/dist/models/StartInstanceRequest.js';
export { StartInstancesRequest } from '@alicloud/ecs20140526/dist/models/StartInstancesRequest.js';
export { StopInstanceRequest } from '@alicloud/ecs20140526/dist/models/StopInstanceRequest.js';
export { StopInstancesRequest } from '@alicloud/ecs20140526/dist/models/StopInstancesRequest.js';
export { ListTagResourcesRequest, ListTagResourcesRequestTag } from '@alicloud/ecs20140526/dist/models/ListTagResourcesRequest.js';
