// The version lives in one place, package.json: the image tag of deploy/kustomization.yaml and
// every other release reference (scripts/version.ts finds them) name it, and CHANGELOG.md
// (Keep a Changelog) has it as its latest release.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, findVersionReferences, namesVersion, packageVersion, writeVersion } from '../../scripts/version.ts';

const version = packageVersion();
const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

describe('version: package.json is the one place', () => {
  it('is a semantic version', () => {
    assert.match(version, /^\d+\.\d+\.\d+$/);
  });

  it('deploy/kustomization.yaml installs the image tagged v<version>', () => {
    const k = parse(read('deploy/kustomization.yaml')) as { images: Array<{ name: string; newName: string; newTag: string }> };
    assert.deepEqual(k.images, [{ name: 'ecs-power', newName: 'ghcr.io/ecs-power/ecs-power', newTag: `v${version}` }]);
  });

  it('package-lock.json agrees', () => {
    const lock = JSON.parse(read('package-lock.json')) as { version: string; packages: Record<string, { version?: string }> };
    assert.equal(lock.version, version);
    assert.equal(lock.packages['']?.version, version);
  });

  const refs = findVersionReferences();

  it('the references are found where releases are named (image tag, GitOps tags, docs)', () => {
    const files = new Set(refs.map((r) => r.file));
    for (const f of ['deploy/kustomization.yaml', 'deploy/argocd/application.yaml', 'deploy/flux/ecs-power.yaml', 'charts/ecs-power/Chart.yaml', 'Dockerfile', 'docs/deploy.md']) {
      assert.ok(files.has(f), `no release reference found in ${f}`);
    }
  });

  it('every release reference names v<package.json version>', () => {
    const wrong = refs.filter((r) => !namesVersion(r.found, version)).map((r) => `${r.file}:${r.line} ${r.found}`);
    assert.deepEqual(wrong, [], `run: npx tsx scripts/version.ts --write`);
  });

  it('scripts/version.ts --write moves every reference to a new version (what `npm version` runs)', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts['version'] ?? '', /scripts\/version\.ts --write/);
    const tmp = mkdtempSync(join(tmpdir(), 'ecs-power-version-'));
    try {
      for (const p of ['package.json', 'Dockerfile', 'deploy', 'docs', 'charts']) cpSync(join(REPO_ROOT, p), join(tmp, p), { recursive: true });
      const before = findVersionReferences(tmp);
      assert.ok(before.length >= 5);
      const changed = writeVersion('9.8.7', tmp);
      assert.ok(changed.includes('deploy/kustomization.yaml'));
      const after = findVersionReferences(tmp);
      assert.equal(after.length, before.length, 'the same references, rewritten');
      assert.deepEqual(after.filter((r) => r.found !== 'v9.8.7' && r.found !== '9.8.7'), []);
      assert.equal((parse(readFileSync(join(tmp, 'deploy/kustomization.yaml'), 'utf8')) as { images: Array<{ newTag: string }> }).images[0]!.newTag, 'v9.8.7');
      assert.deepEqual(
        (({ version: v, appVersion }) => ({ v, appVersion }))(parse(readFileSync(join(tmp, 'charts/ecs-power/Chart.yaml'), 'utf8')) as { version: string; appVersion: string }),
        { v: '9.8.7', appVersion: '9.8.7' },
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('CHANGELOG.md (Keep a Changelog 1.1.0)', () => {
  const text = read('CHANGELOG.md');
  const headings = [...text.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$/gm)].map((m) => ({ name: m[1]!, date: m[2] }));
  const releases = headings.filter((h) => h.name !== 'Unreleased');

  it('starts with "# Changelog" and names the format', () => {
    assert.match(text, /^# Changelog\n/);
    assert.match(text, /keepachangelog\.com\/en\/1\.1\.0/);
  });

  it('Unreleased (if any) first, then releases newest first, each with a date', () => {
    assert.ok(releases.length > 0);
    const unreleased = headings.findIndex((h) => h.name === 'Unreleased');
    assert.ok(unreleased === -1 || unreleased === 0, 'Unreleased comes first');
    for (const r of releases) assert.ok(r.date, `${r.name} has a date`);
    const key = (v: string) => v.split('.').map(Number);
    for (let i = 1; i < releases.length; i++) {
      const [a, b] = [key(releases[i - 1]!.name), key(releases[i]!.name)];
      assert.ok(a[0]! > b[0]! || (a[0] === b[0] && (a[1]! > b[1]! || (a[1] === b[1] && a[2]! > b[2]!))), 'newest first');
      assert.ok(releases[i - 1]!.date! >= releases[i]!.date!, 'dates do not go back in time');
    }
  });

  it('its latest release is package.json\'s version', () => {
    assert.equal(releases[0]!.name, version);
  });

  it('only the six kinds of change, and every heading has a link', () => {
    for (const m of text.matchAll(/^### (.+)$/gm)) assert.ok(['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'].includes(m[1]!), `### ${m[1]}`);
    for (const h of headings) assert.match(text, new RegExp(`^\\[${h.name}\\]: https://\\S+$`, 'm'), `a link for [${h.name}]`);
  });
});
