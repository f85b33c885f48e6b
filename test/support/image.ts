// The controller's container image, built from the Dockerfile with podman and run for real.
//
// test/support/provision-image.sh (once per process) installs podman and runc if needed, writes a
// containers.conf that works on this kind of host, and makes the two local stand-in base images
// (no registry is reachable); buildImage() then runs `podman build` on the repository with the
// Dockerfile's BUILD_IMAGE / RUNTIME_IMAGE arguments pointing at them. Layers and the npm cache
// of the build are kept (under ~/.cache/ecs-power), so a second build takes seconds.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './process.ts';

const PROVISION_SCRIPT = join(REPO_ROOT, 'test/support/provision-image.sh');

export interface ImageTools {
  /** CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and TMPDIR, for every podman call. */
  env: Record<string, string>;
  /** The stand-in for node:24-bookworm-slim. */
  buildBase: string;
  /** The stand-in for gcr.io/distroless/nodejs24-debian12:nonroot. */
  runtimeBase: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The image tag: v + package.json's version (the one place the version lives). */
export function imageTag(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return `v${pkg.version}`;
}

function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

let provisioned: Promise<ImageTools> | undefined;

/** Runs provision-image.sh once per process; rejects (never skips) when podman cannot be made ready. */
export function provisionImageTools(): Promise<ImageTools> {
  provisioned ??= run('bash', [PROVISION_SCRIPT], {}).then((r) => {
    if (r.code !== 0) throw new Error(`${PROVISION_SCRIPT} failed (exit ${r.code}):\n${r.stderr.split('\n').slice(-30).join('\n')}`);
    const vars = Object.fromEntries(
      r.stdout
        .split('\n')
        .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    for (const k of ['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'BUILD_IMAGE', 'RUNTIME_IMAGE', 'TMPDIR']) {
      if (!vars[k]) throw new Error(`${PROVISION_SCRIPT} printed no ${k}:\n${r.stdout}`);
    }
    return {
      env: { CONTAINERS_CONF: vars['CONTAINERS_CONF']!, CONTAINERS_STORAGE_CONF: vars['CONTAINERS_STORAGE_CONF']!, TMPDIR: vars['TMPDIR']! },
      buildBase: vars['BUILD_IMAGE']!,
      runtimeBase: vars['RUNTIME_IMAGE']!,
    };
  });
  return provisioned;
}

/** `podman ARGS` with the provisioned configuration and runc. */
export async function podman(args: string[], input?: string): Promise<CommandResult> {
  const tools = await provisionImageTools();
  return run('podman', ['--runtime', 'runc', ...args], tools.env, input);
}

/** The podman command line prefix (program and global flags) for a long-running `podman run`. */
export function podmanCommand(): string[] {
  return ['podman', '--runtime', 'runc'];
}

export interface BuiltImage {
  ref: string;
  id: string;
  seconds: number;
  /** What `podman image inspect` reports, bytes. */
  size: number;
  output: string;
}

/** `podman build` of the repository's Dockerfile, on the stand-in bases; throws with the build's output tail. */
export async function buildImage(ref = `localhost/ecs-power:${imageTag()}`): Promise<BuiltImage> {
  const tools = await provisionImageTools();
  const started = Date.now();
  const r = await podman([
    'build',
    '--network', 'host', // RUN npm ci reaches the registry (and its proxy) as the host does
    '--pull=never',
    '--layers',
    '--build-arg', `BUILD_IMAGE=${tools.buildBase}`,
    '--build-arg', `RUNTIME_IMAGE=${tools.runtimeBase}`,
    '--tag', ref,
    '--file', join(REPO_ROOT, 'Dockerfile'),
    REPO_ROOT,
  ]);
  const seconds = (Date.now() - started) / 1000;
  const output = r.stdout + r.stderr;
  if (r.code !== 0) throw new Error(`podman build failed (exit ${r.code}):\n${output.split('\n').slice(-40).join('\n')}`);
  const inspected = await inspectImage(ref);
  return { ref, id: inspected.Id, seconds, size: inspected.Size, output };
}

export interface ImageInspect {
  Id: string;
  Size: number;
  Config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; ExposedPorts?: Record<string, unknown> };
}

export async function inspectImage(ref: string): Promise<ImageInspect> {
  const r = await podman(['image', 'inspect', ref]);
  if (r.code !== 0) throw new Error(`podman image inspect ${ref}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as ImageInspect[])[0]!;
}

/** Removes containers whose name starts with `prefix` (left over by a killed test run). */
export async function removeContainers(prefix: string): Promise<void> {
  const r = await podman(['ps', '--all', '--format', '{{.Names}}']);
  const names = r.stdout.split('\n').filter((n) => n.startsWith(prefix));
  if (names.length > 0) await podman(['rm', '--force', '--time', '0', ...names]);
}

// `node --import tsx test/support/image.ts`: provision and build once, printing what it took
// (.ci/run does this before `npm test`, so that the e2e test's build finds every layer cached).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  provisionImageTools()
    .then(async (tools) => {
      const provisioned = (Date.now() - started) / 1000;
      const built = await buildImage();
      const base = await inspectImage(tools.runtimeBase);
      console.log(
        `image ${built.ref}: ${(built.size / 1e6).toFixed(0)} MB (runtime base ${(base.Size / 1e6).toFixed(0)} MB); ` +
          `provisioning ${provisioned.toFixed(1)} s, podman build ${built.seconds.toFixed(1)} s`,
      );
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
