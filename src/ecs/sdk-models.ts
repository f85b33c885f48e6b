// The ECS SDK client without its ~3,450 model modules.
//
// `@alicloud/ecs20140526`'s client.js starts with `require('./models/model')`, an index that
// requires the request and response classes of every ECS action: 15 MB of V8 heap and 25-35 MB
// of RSS for classes the operator never uses. The client's methods only reach those classes
// through that index (`new $_model.DescribeInstancesResponse({})`), so before client.js is
// loaded this module puts a slim index in its place in the CommonJS module cache
// (`require.cache`, which Node lets a program fill): it holds the models of the actions listed
// here, read from their own files, and throws on any other model name instead of returning
// undefined. Everything else (the client class, signing, the HTTP path) is the package's own
// code. A response model is looked up only once the answer is in, so the client class is
// guarded too: calling an action whose models are not loaded throws before its request goes out.

import { createRequire, Module } from 'node:module';
import type EcsSdk from '@alicloud/ecs20140526';

/** The ECS actions the operator calls; their models are the only ones loaded. */
export const OPERATOR_ECS_ACTIONS: readonly string[] = [
  'DescribeInstances',
  'ListTagResources',
  'StartInstance',
  'StartInstances',
  'StopInstance',
  'StopInstances',
];

export type EcsClientClass = typeof EcsSdk.default;
export type EcsClient = InstanceType<EcsClientClass>;

// An action's classes live in three files: <Action>Request.js (with its nested classes, such as
// DescribeInstancesRequestTag), <Action>Response.js and <Action>ResponseBody.js.
const MODEL_FILE_SUFFIXES = ['Request', 'Response', 'ResponseBody'] as const;
const SLIM_INDEX_MARK = Symbol.for('ecs-power.slim-ecs-models');

const require = createRequire(import.meta.url);
const modelsDir = require.resolve('@alicloud/ecs20140526/dist/models/model.js').replace(/model\.js$/, '');
const indexPath = `${modelsDir}model.js`;

interface SlimIndex {
  /** The model classes loaded so far, by name. */
  models: Record<string, unknown>;
  actions: Set<string>;
}

/** Models of ECS actions the operator does not call, for tools that do (the emulator's tests). */
export function loadEcsModels(actions: readonly string[]): void {
  const index = slimIndex();
  for (const action of actions) {
    if (index.actions.has(action)) continue;
    for (const suffix of MODEL_FILE_SUFFIXES) {
      Object.assign(index.models, require(`${modelsDir}${action}${suffix}.js`) as Record<string, unknown>);
    }
    index.actions.add(action);
  }
}

let guardedClient: EcsClientClass | undefined;

/** The SDK's `Client` class, loaded against the slim model index, refusing actions whose models are not loaded. */
export function ecsClientClass(): EcsClientClass {
  const index = slimIndex();
  if (guardedClient) return guardedClient;
  const sdkClient = (require('@alicloud/ecs20140526') as { default: EcsClientClass }).default;
  // `stopInstances(request)` and `stopInstancesWithOptions(request, runtime)` both look up the
  // latter on the instance: the lookup passes through this proxy in the prototype chain.
  class GuardedClient extends sdkClient {}
  const guard = new Proxy(sdkClient.prototype, {
    get(target, name, receiver) {
      if (typeof name === 'string' && name.endsWith('WithOptions')) {
        const action = name.charAt(0).toUpperCase() + name.slice(1, -'WithOptions'.length);
        if (!index.actions.has(action)) throw notLoaded(`action ${action}`, index);
      }
      return Reflect.get(target, name, receiver);
    },
  });
  Object.setPrototypeOf(GuardedClient.prototype, guard);
  guardedClient = GuardedClient;
  return guardedClient;
}

function notLoaded(what: string, index: SlimIndex): Error {
  return new Error(
    `@alicloud/ecs20140526 ${what} is not loaded: ecs-power loads only the models of ${[...index.actions].join(', ')}; ` +
      'add the action to OPERATOR_ECS_ACTIONS in src/ecs/sdk-models.ts',
  );
}

/** The SDK model modules in the module cache, by file name (`DescribeInstancesRequest.js`); the slim index is not one. */
export function loadedEcsModelFiles(): string[] {
  return Object.keys(require.cache)
    .filter((path) => path.startsWith(modelsDir) && path !== indexPath)
    .map((path) => path.slice(modelsDir.length));
}

/** The actions whose models are loaded. */
export function loadedEcsActions(): string[] {
  return [...slimIndex().actions];
}

let installed: SlimIndex | undefined;
// At import, so that a later `import '@alicloud/ecs20140526'` anywhere in the process gets the slim
// index too, and a process that loaded the full SDK before this module fails here, loudly.
slimIndex();

function slimIndex(): SlimIndex {
  if (installed) return installed;
  const cached = require.cache[indexPath];
  const existing = (cached?.exports as { [SLIM_INDEX_MARK]?: SlimIndex } | undefined)?.[SLIM_INDEX_MARK];
  if (existing) {
    // Another copy of this module (ESM and CommonJS in one process) installed it already.
    installed = existing;
    return existing;
  }
  if (cached) {
    throw new Error(
      '@alicloud/ecs20140526 was loaded with all its models before src/ecs/sdk-models.ts could install the slim index: ' +
        'load the SDK client through ecsClientClass(), not by importing the package',
    );
  }
  const index: SlimIndex = { models: {}, actions: new Set() };
  Object.defineProperty(index.models, '__esModule', { value: true });
  Object.defineProperty(index.models, SLIM_INDEX_MARK, { value: index });
  const entry = new Module(indexPath);
  entry.filename = indexPath;
  entry.exports = new Proxy(index.models, {
    get(target, name, receiver) {
      if (typeof name !== 'string' || name in target || !/^[A-Z]/.test(name)) return Reflect.get(target, name, receiver);
      throw notLoaded(`model ${name}`, index);
    },
  });
  entry.loaded = true;
  require.cache[indexPath] = entry;
  installed = index;
  loadEcsModels(OPERATOR_ECS_ACTIONS);
  return index;
}
