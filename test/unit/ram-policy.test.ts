// The RAM policy shipped in deploy/examples/ram-policy.json grants exactly the ECS actions the
// code calls: derived here from the source (every `<action>WithOptions(` call on the SDK client,
// and the EcsAction type the gateway meters and rate-limits by), not from a list kept by hand.
// Every document that speaks of RAM permissions points at that file and names no other action.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const POLICY = 'deploy/examples/ram-policy.json';

function files(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** Actions the code sends to ECS: `client.stopInstancesWithOptions(` -> StopInstances. */
function sdkCalls(): Set<string> {
  const calls = new Set<string>();
  for (const f of files(join(repo, 'src'), (p) => p.endsWith('.ts'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\.([a-z][A-Za-z]*)WithOptions\(/g)) {
      calls.add(m[1]![0]!.toUpperCase() + m[1]!.slice(1));
    }
  }
  return calls;
}

/** The literals of `export type EcsAction = 'A' | 'B' ...` in src/ecs/gateway.ts. */
function ecsActionType(): Set<string> {
  const text = readFileSync(join(repo, 'src/ecs/gateway.ts'), 'utf8');
  const body = /export type EcsAction\s*=([^;]+);/.exec(text)?.[1];
  assert.ok(body, 'src/ecs/gateway.ts declares EcsAction');
  return new Set([...body.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!));
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}
const policy = JSON.parse(readFileSync(join(repo, POLICY), 'utf8')) as { Version: string; Statement: Statement[] };
const granted = (): string[] => policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

describe('RAM policy (deploy/examples/ram-policy.json)', () => {
  it('the SDK calls in src/ are exactly the gateway\'s EcsAction type', () => {
    const calls = sdkCalls();
    assert.ok(calls.size > 0, 'found the SDK calls');
    assert.deepEqual([...calls].sort(), [...ecsActionType()].sort());
  });

  it('grants exactly those actions, each once, and nothing but Allow', () => {
    assert.equal(policy.Version, '1');
    const actions = granted();
    assert.equal(new Set(actions).size, actions.length, 'no action twice');
    assert.deepEqual(actions, [...sdkCalls()].map((a) => `ecs:${a}`).sort());
    for (const s of policy.Statement) assert.equal(s.Effect, 'Allow');
    assert.ok(!actions.some((a) => a.includes('*')), 'no wildcard actions');
  });

  it('start and stop are limited to ECS instances; describe (no resource-level permission) is on *', () => {
    for (const s of policy.Statement) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      if (actions.some((a) => /^ecs:(Start|Stop)Instances?$/.test(a))) assert.deepEqual(resources, ['acs:ecs:*:*:instance/*']);
      else assert.deepEqual(resources, ['*']);
    }
  });

  describe('documents that speak of RAM permissions', () => {
    const docs = [
      join(repo, 'README.md'),
      ...files(join(repo, 'docs'), (p) => p.endsWith('.md')),
      ...files(join(repo, 'deploy'), (p) => /\.(md|ya?ml)$/.test(p)),
      ...files(join(repo, 'charts'), (p) => /\.(md|ya?ml|txt|tpl)$/.test(p)),
    ].filter((p) => existsSync(p));
    const speaking = docs.filter((p) => /\becs:[A-Z]|RAM (policy|permission)|policy of whichever identity/i.test(readFileSync(p, 'utf8')));

    it('there are some (the deploy guide and the credentials Secret example at least)', () => {
      const names = speaking.map((p) => relative(repo, p));
      for (const must of ['docs/deploy.md', 'deploy/examples/credentials-secret.yaml']) assert.ok(names.includes(must), `${must} speaks of RAM permissions`);
    });

    it('each points at deploy/examples/ram-policy.json and names only actions it grants', () => {
      const allowed = new Set(granted());
      for (const p of speaking) {
        const text = readFileSync(p, 'utf8');
        const rel = relative(repo, p);
        assert.match(text, /ram-policy\.json/, `${rel} speaks of RAM permissions without pointing at ${POLICY}`);
        for (const m of text.matchAll(/\becs:([A-Z][A-Za-z]+)/g)) {
          assert.ok(allowed.has(`ecs:${m[1]}`), `${rel} names ecs:${m[1]}, which the code never calls`);
        }
      }
    });
  });
});
