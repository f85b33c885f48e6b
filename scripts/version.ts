// The version lives in package.json; everything else that names a release (the image tag in
// deploy/kustomization.yaml, remote kustomize refs, the GitOps manifests' tags, the Helm
// chart's version and appVersion, the docs' examples) is found here and checked against it
// (test/unit/version.test.ts) or rewritten to it:
//
//   npm version 0.2.0          # bumps package.json, then runs `npm run version` (this, --write)
//   npx tsx scripts/version.ts           # lists every reference and exits 1 if one differs
//   npx tsx scripts/version.ts --write   # rewrites them to v<package.json version>
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each pattern's group 1 is a release tag (v1.2.3) or, in a Helm chart, a bare version. */
const PATTERNS: RegExp[] = [
  // ghcr.io/ecs-power/ecs-power:v0.1.0, github.com/ecs-power/ecs-power//deploy?ref=v0.1.0
  /ecs-power\/ecs-power(?::|\/\/[^\s'"\]]*\?ref=)(v\d+\.\d+\.\d+)/g,
  // kustomize images, Argo CD Applications, Flux GitRepositories
  /\bnewTag:\s*["']?(v\d+\.\d+\.\d+)/g,
  /\btargetRevision:\s*["']?(v\d+\.\d+\.\d+)/g,
  /^\s*tag:\s*["']?(v\d+\.\d+\.\d+)/gm,
  // Helm chart (Chart.yaml's version is the release version too)
  /^appVersion:\s*["']?v?(\d+\.\d+\.\d+)/gm,
];
const CHART_VERSION = /^version:\s*["']?(\d+\.\d+\.\d+)/gm;

/** Where references are looked for: text files outside dependencies, builds, the history and the tests (whose fixtures name made-up versions). */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage', 'test']);
const SKIP_FILES = new Set(['package-lock.json', 'CHANGELOG.md', 'package.json']);
const TEXT = /\.(ya?ml|md|json|ts|mjs|tpl|txt|sh)$|(^|\/)Dockerfile$/;

export interface VersionReference {
  file: string;
  line: number;
  /** As written: v0.1.0, or 0.1.0 for appVersion. */
  found: string;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...files(path));
    else if (TEXT.test(path) && !SKIP_FILES.has(name)) out.push(path);
  }
  return out;
}

export function packageVersion(root = REPO_ROOT): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

export function findVersionReferences(root = REPO_ROOT): VersionReference[] {
  const refs: VersionReference[] = [];
  for (const path of files(root)) {
    if (path === fileURLToPath(import.meta.url)) continue; // the patterns above
    const text = readFileSync(path, 'utf8');
    for (const pattern of path.endsWith('/Chart.yaml') ? [...PATTERNS, CHART_VERSION] : PATTERNS) {
      for (const m of text.matchAll(pattern)) {
        const at = m.index + m[0].lastIndexOf(m[1]!);
        refs.push({ file: relative(root, path), line: text.slice(0, at).split('\n').length, found: m[1]! });
      }
    }
  }
  return refs.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** Does `found` name `version`? (v0.1.0, or 0.1.0 where the pattern has no v). */
export const namesVersion = (found: string, version: string): boolean => found.replace(/^v/, '') === version;

/** Rewrites every reference to `version`; returns the files changed. */
export function writeVersion(version: string, root = REPO_ROOT): string[] {
  const changed = new Set<string>();
  for (const ref of findVersionReferences(root)) {
    if (namesVersion(ref.found, version)) continue;
    const path = join(root, ref.file);
    const lines = readFileSync(path, 'utf8').split('\n');
    const want = ref.found.startsWith('v') ? `v${version}` : version;
    lines[ref.line - 1] = lines[ref.line - 1]!.replace(ref.found, want);
    writeFileSync(path, lines.join('\n'));
    changed.add(ref.file);
  }
  return [...changed];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const version = packageVersion();
  if (process.argv.includes('--write')) {
    const changed = writeVersion(version);
    console.log(changed.length ? `set v${version} in ${changed.join(', ')}` : `every reference already names v${version}`);
  } else {
    let bad = 0;
    for (const ref of findVersionReferences()) {
      const ok = namesVersion(ref.found, version);
      if (!ok) bad++;
      console.log(`${ok ? 'ok ' : 'BAD'} ${ref.file}:${ref.line} ${ref.found}`);
    }
    if (bad) {
      console.error(`${bad} references differ from package.json's ${version}; run: npx tsx scripts/version.ts --write`);
      process.exit(1);
    }
  }
}
