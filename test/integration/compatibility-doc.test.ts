// docs/compatibility.md states the Kubernetes version the tests run against: it must be the
// version of the test API server itself, so the statement cannot drift from what CI runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedCluster } from '../support/global-cluster.ts';
import { REPO_ROOT } from '../support/process.ts';

describe('docs/compatibility.md', function () {
  this.timeout(60_000);

  it('names the test API server\'s version as the tested one', async function () {
    this.timeout(180_000);
    const cluster = await sharedCluster();
    const r = await cluster.kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const server = (JSON.parse(r.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion; // v1.20.2
    const version = server.replace(/^v/, '').replace(/[-+].*$/, '');
    const doc = readFileSync(join(REPO_ROOT, 'docs/compatibility.md'), 'utf8');
    const row = doc.split('\n').find((l) => l.startsWith(`| **${version}** | **tested**`));
    assert.ok(row, `docs/compatibility.md has no "| **${version}** | **tested**" row for the API server the tests run against (${server})`);
  });
});
