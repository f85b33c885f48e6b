// docs/troubleshooting.md has a section (what it means, what to check, how to fix) for every
// condition reason and every shipped alert, and every alert's runbook_url lands on one.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reason } from '../../src/api/reasons.ts';
import { shippedAlerts } from '../support/prometheus.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PAGE = 'docs/troubleshooting.md';
const RUNBOOK_BASE = `https://github.com/ecs-power/ecs-power/blob/main/${PAGE}#`;

/**
 * Reasons of the contract's amended error table (schedules and fleets) that the code and
 * docs/api.md may not carry yet; the union with them keeps the page complete ahead of the code.
 */
const AMENDED_REASONS = ['ScheduleNotFound', 'InvalidSchedule', 'InsufficientCapacity'];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function githubSlugs(markdown: string): Map<string, string> {
  const slugs = new Map<string, string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[2]!;
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.set(n === 0 ? base : `${base}-${n}`, text);
  }
  return slugs;
}

/** The body of each `### Heading` section (up to the next heading of level 1-3). */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = markdown.split(/^(?=#{1,3} )/m);
  for (const p of parts) {
    const m = /^### (.+)\n([\s\S]*)$/.exec(p);
    if (m) out.set(m[1]!.trim(), m[2]!);
  }
  return out;
}

/** Reason strings of docs/api.md's "Reasons" section: its prose and the table's reason column. */
export function apiDocReasons(markdown: string): string[] {
  const start = markdown.indexOf('### Reasons');
  assert.ok(start >= 0, 'docs/api.md has a Reasons section');
  const rest = markdown.slice(markdown.indexOf('\n', start) + 1);
  const end = rest.search(/^#{1,3} /m);
  const section = end >= 0 ? rest.slice(0, end) : rest;
  const reasons = new Set<string>();
  const ticks = (s: string) => [...s.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]!);
  for (const line of section.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.split('|').map((c) => c.trim());
      for (const r of ticks(cells[2] ?? '')) reasons.add(r);
    } else {
      for (const r of ticks(line)) reasons.add(r);
    }
  }
  return [...reasons];
}

describe(PAGE, () => {
  const page = readFileSync(join(repo, PAGE), 'utf8');
  const slugs = githubSlugs(page);
  const bodies = sections(page);
  const apiDoc = join(repo, 'docs/api.md');
  const fromApiDoc = existsSync(apiDoc) ? apiDocReasons(readFileSync(apiDoc, 'utf8')) : [];
  const reasons = [...new Set([...Object.values(Reason), ...fromApiDoc, ...AMENDED_REASONS])].sort();
  const alerts = shippedAlerts();

  it('GitHub anchors (test helper)', () => {
    assert.deepEqual([...githubSlugs('# A b\n## `Stopped`\n### Metrics (`/metrics`)\n```\n# not a heading\n```\n## A b\n').keys()], [
      'a-b',
      'stopped',
      'metrics-metrics',
      'a-b-1',
    ]);
  });

  it('reads the reasons of docs/api.md (prose and the table\'s reason column, not ECS codes)', () => {
    assert.ok(fromApiDoc.includes('Initializing'));
    assert.ok(fromApiDoc.includes('DryRunSucceeded'));
    assert.ok(fromApiDoc.includes('InvalidCredentials'));
    assert.ok(!fromApiDoc.includes('NoPermission'), 'an ECS code, not a reason');
  });

  for (const reason of reasons) {
    it(`has a section for reason ${reason}: what it means, what to check, how to fix`, () => {
      const body = bodies.get(reason);
      assert.ok(body, `no "### ${reason}" section`);
      for (const part of ['**What it means.**', '**What to check.**', '**How to fix.**']) assert.ok(body.includes(part), `${reason}: ${part}`);
    });
  }

  for (const alert of alerts) {
    it(`has a section for alert ${alert.alert}, and its runbook_url lands on it`, () => {
      const body = bodies.get(alert.alert);
      assert.ok(body, `no "### ${alert.alert}" section`);
      for (const part of ['**What it means.**', '**What to check.**', '**How to fix.**']) assert.ok(body.includes(part), `${alert.alert}: ${part}`);
      const url = alert.annotations?.['runbook_url'] ?? '';
      assert.ok(url.startsWith(RUNBOOK_BASE), `${alert.alert}: runbook_url ${url}`);
      assert.equal(slugs.get(url.slice(RUNBOOK_BASE.length)), alert.alert, `${alert.alert}: anchor of ${url}`);
    });
  }

  it('every in-page link points to an existing anchor', () => {
    for (const m of page.matchAll(/\]\(#([^)]+)\)/g)) assert.ok(slugs.has(m[1]!), `#${m[1]}`);
  });

  it('links from the other docs into the page land on a section', () => {
    for (const doc of ['docs/monitoring.md', 'docs/deploy.md', 'docs/api.md', 'README.md']) {
      const text = readFileSync(join(repo, doc), 'utf8');
      for (const m of text.matchAll(/troubleshooting\.md#([^)\s]+)/g)) assert.ok(slugs.has(m[1]!), `${doc}: #${m[1]}`);
    }
  });

  it('has no section for a reason or alert that does not exist', () => {
    const known = new Set<string>([...reasons, ...alerts.map((a) => a.alert)]);
    const reasonsAndAlerts = [...bodies.keys()];
    assert.deepEqual(reasonsAndAlerts.filter((h) => !known.has(h)), []);
  });
});
