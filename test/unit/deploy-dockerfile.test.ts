// No container engine runs here, so the image recipe is checked statically: base images pinned by
// the Node.js major the tests use, a non-root numeric user, only dist/ and production
// dependencies in the final stage, and an ENTRYPOINT whose file `npm run build` produces.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Instruction { op: string; args: string; line: number }
interface Stage { from: string; name?: string; instructions: Instruction[] }

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
    if (op === 'FROM') {
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

describe('Dockerfile', () => {
  it('is multi-stage on node:<major>-bookworm-slim, the Node.js major the tests run on', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    // the tests run on the `node` devDependency (node_modules/.bin/node): same major
    const testMajor = /(\d+)/.exec(pkg.devDependencies?.['node'] ?? '')?.[1];
    assert.ok(testMajor, 'package.json has the node devDependency');
    for (const s of stages) {
      if (stageByName(s.from)) continue; // FROM an earlier stage
      const m = /^node:(\d+)(?:\.\d+){0,2}-bookworm-slim(?:@sha256:[0-9a-f]{64})?$/.exec(s.from);
      assert.ok(m, `base image ${s.from} is node:<major>-bookworm-slim`);
      assert.equal(m[1], testMajor, `base image ${s.from} uses Node.js ${testMajor}`);
    }
  });

  it('builds with npm ci and npm run build in a build stage', () => {
    const build = stages.find((s) => ops(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)));
    assert.ok(build, 'a stage runs npm run build');
    assert.notEqual(build, final, 'the build happens outside the final stage');
    const runs = ops(build, 'RUN').map((r) => r.args);
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
    assert.ok(ci >= 0 && ci < runs.findIndex((r) => /\bnpm run build\b/.test(r)), 'npm ci before npm run build');
    assert.equal(pkg.scripts['build'], 'tsc -p tsconfig.build.json');
    // everything the build stage copies from the context exists in the repository
    for (const c of ops(build, 'COPY').filter((i) => !i.args.includes('--from='))) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(repo, src)), `COPY source ${src} exists`);
    }
  });

  it('final stage: production dependencies and dist/ only', () => {
    assert.deepEqual(ops(final, 'RUN'), [], 'the final stage runs nothing (no shell steps, no npm)');
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
          assert.ok(ops(deps, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev\b/.test(r.args)), `stage ${from} installs with npm ci --omit=dev`);
          assert.ok(!ops(deps, 'RUN').some((r) => /\bnpm (ci|install)\b(?!.*--omit=dev)/.test(r.args)), `stage ${from} installs no dev dependencies`);
        } else if (base === 'dist') {
          assert.ok(from && ops(stageByName(from)!, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)), 'dist comes from the build stage');
        } else {
          assert.ok(['package.json'].includes(base), `the final stage copies only dist, node_modules and package.json, not ${src}`);
        }
      }
    }
    assert.deepEqual([...copied].sort(), ['dist', 'node_modules', 'package.json']);
    assert.ok(ops(final, 'ENV').some((e) => /^NODE_ENV[= ]production$/.test(e.args)), 'NODE_ENV=production');
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

  it('ENTRYPOINT runs node dist/main.js (exec form)', () => {
    const eps = ops(final, 'ENTRYPOINT');
    assert.equal(eps.length, 1);
    assert.deepEqual(JSON.parse(eps[0]!.args), ['node', 'dist/main.js']);
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
