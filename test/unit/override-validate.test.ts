// validateOverride() of SCHEDULES.md: a message naming the field, including an `until` beyond
// --max-override-duration after the creation of the override.
import assert from 'node:assert/strict';
import { DEFAULT_MAX_OVERRIDE_DURATION_MS } from '../../src/api/schedule-types.ts';
import { overrideUntil, validateOverride } from '../../src/schedule/override.ts';

const created = Date.parse('2026-11-24T22:00:00+08:00');
const valid = { selector: { matchLabels: { app: 'batch' } }, desiredState: 'Running', until: '2026-12-01T22:00:00+08:00', reason: 'INC-1234' };

describe('schedule validateOverride(): a message naming the field', () => {
  it('accepts the example of SCHEDULES.md, an empty selector and exactly the maximum duration', () => {
    assert.equal(validateOverride(valid, created, DEFAULT_MAX_OVERRIDE_DURATION_MS), undefined);
    assert.equal(validateOverride({ ...valid, selector: {} }, created, DEFAULT_MAX_OVERRIDE_DURATION_MS), undefined);
    assert.equal(validateOverride({ ...valid, until: '2026-11-25T00:00:00Z' }, new Date(created), 3600_000 * 10), undefined);
    assert.equal(overrideUntil(valid), Date.parse('2026-12-01T14:00:00Z'));
  });

  const invalid: [string, unknown, string, RegExp?][] = [
    ['until one second past the maximum', { ...valid, until: '2026-12-01T22:00:01+08:00' }, 'spec.until', /maximum override duration \(168h\)/],
    ['until without an offset', { ...valid, until: '2026-12-01T22:00:00' }, 'spec.until', /RFC 3339/],
    ['no selector', { ...valid, selector: undefined }, 'spec.selector'],
    ['operator Equals', { ...valid, selector: { matchExpressions: [{ key: 'app', operator: 'Equals' }] } }, 'spec.selector.matchExpressions[0].operator'],
    ['In without values', { ...valid, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, 'spec.selector.matchExpressions[0].values'],
    ['Exists with values', { ...valid, selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }, 'spec.selector.matchExpressions[0].values'],
    ['a label key apimachinery refuses', { ...valid, selector: { matchLabels: { 'my app': 'batch' } } }, 'spec.selector.matchLabels', /label key/],
    ['a label value apimachinery refuses', { ...valid, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['batch!'] }] } }, 'spec.selector.matchExpressions[0].values[0]', /label value/],
    ['state Off', { ...valid, desiredState: 'Off' }, 'spec.desiredState'],
    ['reason of 257 characters', { ...valid, reason: 'x'.repeat(257) }, 'spec.reason', /256/],
  ];
  for (const [name, spec, field, message] of invalid) {
    it(`${name}: ${field}`, () => {
      const msg = validateOverride(spec, created, DEFAULT_MAX_OVERRIDE_DURATION_MS);
      assert.ok(msg?.startsWith(`${field}: `), `expected a message naming ${field}, got ${String(msg)}`);
      if (message) assert.match(msg ?? '', message);
    });
  }
});
