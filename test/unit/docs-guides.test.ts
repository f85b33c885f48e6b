// The install and migration guides say what users copy: the Terraform lifecycle block that keeps
// Terraform from fighting ecs-power over `status`, and links that lead to the guides.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string): string => readFileSync(join(repo, p), 'utf8');

describe('docs: migration and install guides', () => {
  const guide = read('docs/migrate-from-terraform.md');
  const hcl = [...guide.matchAll(/```hcl\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('the Terraform guide\'s alicloud_instance ignores status (and stopped_mode) and no longer sets status', () => {
    const instance = hcl.find((h) => /resource "alicloud_instance"/.test(h));
    assert.ok(instance, 'an alicloud_instance block');
    const lifecycle = /lifecycle\s*\{([\s\S]*?)\}/.exec(instance)?.[1] ?? '';
    const ignored = /ignore_changes\s*=\s*\[([^\]]*)\]/.exec(lifecycle)?.[1]?.split(',').map((s) => s.trim());
    assert.deepEqual(ignored, ['status', 'stopped_mode']);
    assert.doesNotMatch(instance, /^\s*status\s*=/m, 'status is not set (only mentioned in a comment)');
  });

  it('every relative link in the new guides points at a file that exists', () => {
    for (const doc of ['docs/migrate-from-terraform.md', 'docs/gitops.md', 'docs/compatibility.md', 'CHANGELOG.md']) {
      for (const m of read(doc).matchAll(/\]\(((?!https?:|#)[^)#]+)(#[^)]*)?\)/g)) {
        assert.ok(existsSync(join(repo, dirname(doc), m[1]!)), `${doc} links to ${m[1]}, which does not exist`);
      }
    }
  });

  it('the README and the deploy guide lead to them', () => {
    for (const target of ['docs/gitops.md', 'docs/migrate-from-terraform.md', 'docs/compatibility.md', 'CHANGELOG.md']) {
      assert.ok(read('README.md').includes(`(${target})`), `README links ${target}`);
    }
    for (const target of ['gitops.md', 'migrate-from-terraform.md', 'compatibility.md']) {
      assert.ok(read('docs/deploy.md').includes(`(${target})`), `docs/deploy.md links ${target}`);
    }
  });
});
