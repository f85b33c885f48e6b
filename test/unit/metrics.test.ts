// Series that exist from start-up at 0 (issue: dashboards read "No data" and rate() has nothing
// to work on until the first retry or error), and the ecspower_resources gauge's label sets.
import assert from 'node:assert/strict';
import { Metrics, type ResourceSummary } from '../../src/runtime/metrics.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { Workqueue } from '../../src/runtime/workqueue.ts';
import { metered } from '../../src/ecs/metered.ts';
import { createLogger } from '../../src/log.ts';
import { FakeEcsApi } from '../support/fake-ecs.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample of the registry, as Prometheus would scrape it. */
async function scrape(metrics: Metrics): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

const silent = createLogger({ level: 'error', format: 'json' }, () => {});

describe('metrics from start-up', () => {
  const metrics = new Metrics({ defaultMetrics: false });
  // Constructed, never started: a standby replica waiting for the Lease.
  new Controller({ name: 'ecsinstancepower', queue: new Workqueue(), reconcile: async () => ({ kind: 'done' }), workers: 7, metrics, log: silent });
  metered(new FakeEcsApi('cn-hangzhou'), metrics);
  let samples: Sample[] = [];
  before(async () => {
    samples = await scrape(metrics);
  });

  const cases: Array<[string, Record<string, string>, number]> = [
    ['controller_runtime_max_concurrent_reconciles', { controller: 'ecsinstancepower' }, 7],
    ['controller_runtime_active_workers', { controller: 'ecsinstancepower' }, 0],
    ['controller_runtime_reconcile_errors_total', { controller: 'ecsinstancepower' }, 0],
    ...['success', 'error', 'requeue', 'requeue_after'].map((result): [string, Record<string, string>, number] => [
      'controller_runtime_reconcile_total',
      { controller: 'ecsinstancepower', result },
      0,
    ]),
    ['controller_runtime_reconcile_time_seconds_count', { controller: 'ecsinstancepower' }, 0],
    ['controller_runtime_reconcile_time_seconds_bucket', { controller: 'ecsinstancepower', le: '+Inf' }, 0],
    ['workqueue_depth', { name: 'ecsinstancepower' }, 0],
    ['workqueue_adds_total', { name: 'ecsinstancepower' }, 0],
    ['workqueue_retries_total', { name: 'ecsinstancepower' }, 0],
    ['workqueue_queue_duration_seconds_count', { name: 'ecsinstancepower' }, 0],
    ['workqueue_work_duration_seconds_count', { name: 'ecsinstancepower' }, 0],
    ...['DescribeInstances', 'StopInstance', 'StopInstances', 'StartInstance', 'StartInstances'].flatMap(
      (action): Array<[string, Record<string, string>, number]> => [
        ['ecs_api_requests_total', { action, region: 'cn-hangzhou', code: 'OK' }, 0],
        ['ecs_api_request_duration_seconds_count', { action, region: 'cn-hangzhou' }, 0],
      ],
    ),
    ['ecspower_status_writes_total', { result: 'ok' }, 0],
    ['ecspower_status_writes_total', { result: 'conflict' }, 0],
    ['ecspower_status_writes_total', { result: 'error' }, 0],
    ['ecspower_events_dropped_total', {}, 0],
    ['ecspower_overrides_active', {}, 0],
    ['ecspower_resources', { desired_state: 'Running', ready: 'True', reason: 'Running' }, 0],
    ['ecspower_resources', { desired_state: 'Stopped', ready: 'True', reason: 'Stopped' }, 0],
  ];
  for (const [name, labels, value] of cases) {
    it(`${name}${JSON.stringify(labels)} = ${value}`, () => {
      const found = find(samples, name, labels);
      assert.equal(found.length, 1, `one series, got ${JSON.stringify(found)}`);
      assert.equal(found[0]!.value, value);
    });
  }

  it('has no leader_election_master_status (only the leader-election wiring creates it) and no region it was not told of', () => {
    assert.deepEqual(find(samples, 'leader_election_master_status', {}), []);
    assert.deepEqual(find(samples, 'ecs_api_requests_total', {}).filter((s) => s.labels['region'] !== 'cn-hangzhou'), []);
  });
});

describe('ecspower_resources', () => {
  it('counts the source at scrape time and keeps a label set at 0 once its last resource leaves it', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let now: ResourceSummary[] = [
      { desiredState: 'Stopped', ready: 'False', reason: 'StopRequested' },
      { desiredState: 'Stopped', ready: 'False', reason: 'StopRequested' },
      { desiredState: 'Running', ready: 'True', reason: 'Running' },
    ];
    metrics.countResourcesFrom(() => now);
    const value = (samples: Sample[], reason: string) => find(samples, 'ecspower_resources', { reason }).map((s) => s.value);

    let samples = await scrape(metrics);
    assert.deepEqual(value(samples, 'StopRequested'), [2]);
    assert.deepEqual(value(samples, 'Running'), [1]);
    assert.deepEqual(value(samples, 'Stopped'), [0]);

    now = [
      { desiredState: 'Stopped', ready: 'True', reason: 'Stopped' },
      { desiredState: 'Stopped', ready: 'True', reason: 'Stopped' },
    ];
    samples = await scrape(metrics);
    assert.deepEqual(value(samples, 'StopRequested'), [0]);
    assert.deepEqual(value(samples, 'Running'), [0]);
    assert.deepEqual(value(samples, 'Stopped'), [2]);
    assert.equal(find(samples, 'ecspower_resources', {}).length, 3);
  });
});
