/**
 * vCPUs and memory of an instance type, for DescribeInstances' `Cpu` and `Memory` (MiB).
 *
 * ECS names types `ecs.<family>.<size>`: `large` is 2 vCPUs, `xlarge` 4, `<n>xlarge` 4n, `small`
 * 1, `medium` 2. Memory per vCPU follows the family: compute `c` 2 GiB, general `g` 4 GiB, memory
 * `r` 8 GiB (`hf` and other prefixes ignored), or the `c<a>m<b>` ratio in names like
 * `ecs.t6-c1m2.large`. A few types that do not follow the rule are listed; anything else that
 * cannot be parsed reports 2 vCPUs / 8 GiB (set `cpu` / `memoryMiB` on the instance to override).
 */

export interface TypeShape {
  cpu: number;
  memoryMiB: number;
}

const GIB = 1024;

/** Types whose shape the rule gets wrong. */
const EXCEPTIONS: Readonly<Record<string, TypeShape>> = {
  'ecs.gn6i-c4g1.xlarge': { cpu: 4, memoryMiB: 15 * GIB },
  'ecs.gn6i-c8g1.2xlarge': { cpu: 8, memoryMiB: 31 * GIB },
  'ecs.t5-lc1m1.small': { cpu: 1, memoryMiB: 1 * GIB },
  'ecs.t5-lc1m2.small': { cpu: 1, memoryMiB: 2 * GIB },
};

const FALLBACK: TypeShape = { cpu: 2, memoryMiB: 8 * GIB };

function vcpusOf(size: string): number | undefined {
  if (size === 'small') return 1;
  if (size === 'medium' || size === 'large') return 2;
  if (size === 'xlarge') return 4;
  const m = /^(\d+)xlarge$/.exec(size);
  return m ? 4 * Number(m[1]) : undefined;
}

function gibPerVcpu(family: string): number | undefined {
  const ratio = /c(\d+)m(\d+)/.exec(family);
  if (ratio) return Number(ratio[2]) / Number(ratio[1]);
  const letter = /^(?:hf|se|ebm)?([a-z])/.exec(family)?.[1];
  if (letter === 'c') return 2;
  if (letter === 'g' || letter === 'i') return 4;
  if (letter === 'r') return 8;
  return undefined;
}

export function shapeOf(instanceType: string): TypeShape {
  const known = EXCEPTIONS[instanceType];
  if (known) return known;
  const m = /^ecs\.([a-z0-9-]+)\.([a-z0-9]+)$/.exec(instanceType);
  if (!m) return FALLBACK;
  const cpu = vcpusOf(m[2] as string);
  const perVcpu = gibPerVcpu(m[1] as string);
  if (cpu === undefined || perVcpu === undefined) return FALLBACK;
  return { cpu, memoryMiB: Math.round(cpu * perVcpu * GIB) };
}

/** `ecs.g7.large` -> `ecs.g7`. */
export function familyOf(instanceType: string): string {
  const i = instanceType.lastIndexOf('.');
  return i > 0 ? instanceType.slice(0, i) : instanceType;
}
