// The image recipe, checked statically (test/e2e/image.test.ts builds and runs it with podman):
// base images are build arguments whose defaults are the public images of the Node.js major the
// tests use (node:<major>-bookworm-slim to build, distroless nodejs<major> to run), a non-root
// numeric user, only dist/ and pruned production dependencies in a final stage that runs nothing,
// and an ENTRYPOINT whose file `npm run build` produces.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Instruction { op: string; args: string; line: number }
interface Stage { from: string; name?: string; instructions: Instruction[] }

/** ARGs declared before the first FROM (usable in FROM lines), with their defaults. */
const globalArgs: Record<string, string> = {};

/** Parses a Dockerfile into stages (comments, line continuations and parser directives handled). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      line = line.trimEnd().slice(0, -1) + ' ' + lines[++i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `Dockerfile line ${start + 1}: cannot parse ${line}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'ARG' && stages.length === 0) {
      const a = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(args);
      assert.ok(a, `ARG ${args}`);
      globalArgs[a[1]!] = a[2] ?? '';
    } else if (op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(f, `FROM ${args}`);
      stages.push({ from: f[1]!, ...(f[2] ? { name: f[2] } : {}), instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${op} before FROM`);
      stages[stages.length - 1]!.instructions.push({ op, args, line: start + 1 });
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages[stages.length - 1]!;
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  main?: string; type?: string; scripts: Record<string, string>; devDependencies?: Record<string, string>; engines?: Record<string, string>;
};
const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op);
const stageByName = (name: string) => stages.find((s) => s.name === name);

/** A FROM value with ${ARG} replaced by the ARG's default (what a plain `docker build` uses). */
const resolved = (from: string): string => from.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => globalArgs[name] ?? `<undeclared ${name}>`);
/** The stage a FROM names, following chains of stages (FROM modules AS build). */
const rootOf = (s: Stage): Stage => {
  const parent = stageByName(s.from);
  return parent ? rootOf(parent) : s;
};

describe('Dockerfile', () => {
  const testMajor = /(\d+)/.exec(pkg.devDependencies?.['node'] ?? '')?.[1];

  it('base images are build arguments (a machine without registry access builds from local stand-ins)', () => {
    assert.deepEqual(Object.keys(globalArgs).sort(), ['BUILD_IMAGE', 'RUNTIME_IMAGE']);
    for (const s of stages) {
      if (stageByName(s.from)) continue; // FROM an earlier stage
      assert.match(s.from, /^\$\{(BUILD_IMAGE|RUNTIME_IMAGE)\}$/, `FROM ${s.from} is one of the two arguments`);
    }
    assert.equal(final.from, '${RUNTIME_IMAGE}');
  });

  it('defaults: node:<major>-bookworm-slim to build, distroless nodejs<major> to run, the Node.js major the tests run on', () => {
    assert.ok(testMajor, 'package.json has the node devDependency');
    const build = /^node:(\d+)(?:\.\d+){0,2}-bookworm-slim(?:@sha256:[0-9a-f]{64})?$/.exec(globalArgs['BUILD_IMAGE'] ?? '');
    assert.ok(build, `BUILD_IMAGE ${globalArgs['BUILD_IMAGE']} is node:<major>-bookworm-slim`);
    assert.equal(build[1], testMajor);
    const runtime = /^gcr\.io\/distroless\/nodejs(\d+)-debian12(?::nonroot)?(?:@sha256:[0-9a-f]{64})?$/.exec(globalArgs['RUNTIME_IMAGE'] ?? '');
    assert.ok(runtime, `RUNTIME_IMAGE ${globalArgs['RUNTIME_IMAGE']} is gcr.io/distroless/nodejs<major>-debian12`);
    assert.equal(runtime[1], testMajor);
    for (const s of stages) assert.doesNotMatch(resolved(rootOf(s).from), /undeclared/);
  });

  it('the local stand-ins are made for the same layout (node at /nodejs/bin/node in the runtime base)', () => {
    const script = readFileSync(join(repo, 'test/support/provision-image.sh'), 'utf8');
    assert.match(script, /copy_with_libs "\$root" "\$node_bin" \/nodejs\/bin\/node/);
    assert.match(script, /nodejs-runtime/);
  });

  it('builds with npm ci (in the stage or the one it starts from) and npm run build, outside the final stage', () => {
    const build = stages.find((s) => ops(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)));
    assert.ok(build, 'a stage runs npm run build');
    assert.notEqual(build, final, 'the build happens outside the final stage');
    const chain: Stage[] = [];
    for (let s: Stage | undefined = build; s; s = stageByName(s.from)) chain.unshift(s);
    const runs = chain.flatMap((s) => ops(s, 'RUN').map((r) => r.args));
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
    assert.ok(ci >= 0 && ci < runs.findIndex((r) => /\bnpm run build\b/.test(r)), 'npm ci before npm run build');
    assert.equal(pkg.scripts['build'], 'tsc -p tsconfig.build.json');
  });

  it('final stage: pruned production dependencies and dist/ only', () => {
    assert.deepEqual(ops(final, 'RUN'), [], 'the final stage runs nothing (distroless: no shell, no npm)');
    const copies = ops(final, 'COPY');
    assert.ok(copies.length > 0);
    const copied: string[] = [];
    for (const c of copies) {
      const from = /--from=(\S+)/.exec(c.args)?.[1];
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const srcs = parts.slice(0, -1);
      for (const src of srcs) {
        const base = src.replace(/^\/app\//, '').replace(/\/$/, '');
        copied.push(base);
        if (base === 'node_modules') {
          const deps = from ? stageByName(from) : undefined;
          assert.ok(deps, 'node_modules comes from a stage');
          const runs = ops(deps, 'RUN').map((r) => r.args);
          assert.ok(runs.some((r) => /\bnpm (ci|prune)\b.*--omit=dev\b/.test(r)), `stage ${from} drops dev dependencies (npm ci or npm prune --omit=dev)`);
          assert.ok(runs.some((r) => /prune-node-modules\.mjs/.test(r)), `stage ${from} prunes TypeScript sources and source maps`);
          assert.ok(!runs.some((r) => /\bnpm (ci|install)\b(?!.*--omit=dev)/.test(r)), `stage ${from} installs no dev dependencies itself`);
        } else if (base === 'dist') {
          assert.ok(from && ops(stageByName(from)!, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)), 'dist comes from the build stage');
        } else {
          assert.ok(['package.json'].includes(base), `the final stage copies only dist, node_modules and package.json, not ${src}`);
        }
      }
    }
    assert.deepEqual([...copied].sort(), ['dist', 'node_modules', 'package.json']);
    assert.ok(ops(final, 'ENV').some((e) => /(^|\s)NODE_ENV[= ]production\b/.test(e.args)), 'NODE_ENV=production');
  });

  it('every file a stage copies from the build context exists and is not in .dockerignore', () => {
    const ignore = readFileSync(join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const s of stages) {
      for (const c of ops(s, 'COPY').filter((i) => !i.args.includes('--from='))) {
        const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          assert.ok(existsSync(join(repo, src)), `COPY source ${src} exists`);
          const excluded = ignore.some((i) => !i.startsWith('!') && (src === i || src.startsWith(`${i}/`)));
          const reincluded = ignore.includes(`!${src}`);
          assert.ok(!excluded || reincluded, `COPY source ${src} is excluded by .dockerignore`);
        }
      }
    }
  });

  it('final stage runs as a non-root numeric user', () => {
    const users = ops(final, 'USER');
    assert.ok(users.length > 0, 'USER in the final stage');
    const user = users[users.length - 1]!.args;
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    assert.ok(m, `USER ${user} is numeric (runAsNonRoot can only verify numeric users)`);
    assert.notEqual(Number(m[1]), 0, 'not root');
    if (m[2] !== undefined) assert.notEqual(Number(m[2]), 0, 'not the root group');
    // the Deployment runs as the same user
    const deployment = readFileSync(join(repo, 'deploy', 'deployment.yaml'), 'utf8');
    assert.match(deployment, new RegExp(`runAsUser: ${m[1]}\\b`));
  });

  it('ENTRYPOINT runs distroless\'s node on dist/main.js (exec form: no shell to start it)', () => {
    const eps = ops(final, 'ENTRYPOINT');
    assert.equal(eps.length, 1);
    assert.deepEqual(JSON.parse(eps[0]!.args), ['/nodejs/bin/node', 'dist/main.js']);
    assert.deepEqual(ops(final, 'WORKDIR').map((w) => w.args), ['/app']);
    assert.deepEqual(ops(final, 'CMD'), [], 'flags come from the Deployment args');
    assert.equal(pkg.main, 'dist/main.js');
    assert.equal(pkg.type, 'module', 'package.json (copied into the image) makes dist/*.js ES modules');
  });

  it('npm run build produces dist/main.js from src/main.ts', function () {
    const build = JSON.parse(readFileSync(join(repo, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string }; include: string[] };
    assert.equal(build.compilerOptions.rootDir, 'src');
    assert.equal(build.compilerOptions.outDir, 'dist');
    assert.deepEqual(build.include, ['src']);
    assert.ok(existsSync(join(repo, 'src', 'main.ts')), 'src/main.ts, the controller entry point, is missing');
    if (existsSync(join(repo, 'dist'))) {
      // after `npm run build` (npm test runs it first) the entry point must be there
      assert.ok(existsSync(join(repo, 'dist', 'main.js')), 'dist/ exists but has no main.js: run npm run build');
    }
  });

  it('.dockerignore keeps the context small but keeps what the build needs', () => {
    const ignore = readFileSync(join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'dist', '.git']) assert.ok(ignore.includes(p), `${p} ignored`);
    for (const p of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(!ignore.some((i) => i === p || i === `${p}/` || (i.startsWith('*') && p.endsWith(i.slice(1)))), `${p} must reach the build`);
    }
  });
});
