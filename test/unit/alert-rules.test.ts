// The shipped PrometheusRule through Debian's promtool: `check rules`, and `test rules` with the
// input series of test/prometheus/alerts.test.yaml (each alert firing when it should, none in
// the healthy setups). promtool is provisioned by test/support/provision-prometheus.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { prometheusTools, shippedAlerts, writeShippedRuleFile } from '../support/prometheus.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TESTS = join(repo, 'test/prometheus/alerts.test.yaml');

interface PromtoolTests {
  rule_files: string[];
  tests: Array<{
    name: string;
    alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
  }>;
}

describe('shipped alert rules under promtool', function () {
  this.timeout(60_000);
  let dir = '';
  let promtool = '';

  before(() => {
    promtool = prometheusTools().promtool;
    dir = mkdtempSync(join(tmpdir(), 'ecs-power-promtool-'));
    writeShippedRuleFile(dir);
    copyFileSync(TESTS, join(dir, 'alerts.test.yaml'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => {
    const r = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  it('promtool check rules passes for every alert of the PrometheusRule', () => {
    const r = run(['check', 'rules', 'ecs-power-rules.yaml']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${shippedAlerts().length} rules found`));
  });

  it('promtool test rules passes (test/prometheus/alerts.test.yaml)', () => {
    const r = run(['test', 'rules', 'alerts.test.yaml']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  describe('the promtool tests cover every alert', () => {
    const file = parse(readFileSync(TESTS, 'utf8')) as PromtoolTests;
    const alerts = shippedAlerts().map((a) => a.alert);

    it('reads the rule file the harness writes', () => {
      assert.deepEqual(file.rule_files, ['ecs-power-rules.yaml']);
    });

    for (const setup of ['single replica without leader election', 'single replica with leader election', 'two replicas with leader election']) {
      it(`healthy, ${setup}: every alert is expected silent after all its for: durations`, () => {
        const test = file.tests.find((t) => t.name.startsWith(`healthy, ${setup}`));
        assert.ok(test, `a test named "healthy, ${setup}..."`);
        const silent = (test.alert_rule_test ?? []).filter((a) => a.exp_alerts.length === 0 && a.eval_time === '2h').map((a) => a.alertname);
        assert.deepEqual([...silent].sort(), [...alerts].sort());
        assert.ok((test.alert_rule_test ?? []).every((a) => a.exp_alerts.length === 0));
      });
    }

    it('every alert fires in some test, and is expected silent before its for: duration somewhere', () => {
      const all = file.tests.flatMap((t) => t.alert_rule_test ?? []);
      for (const alert of alerts) {
        assert.ok(all.some((a) => a.alertname === alert && a.exp_alerts.length > 0), `${alert} fires in a test`);
        const unhealthy = file.tests.filter((t) => !t.name.startsWith('healthy')).flatMap((t) => t.alert_rule_test ?? []);
        assert.ok(unhealthy.some((a) => a.alertname === alert && a.exp_alerts.length === 0), `${alert} is checked silent in a failure test`);
      }
    });
  });
});
