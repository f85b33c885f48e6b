// metav1.LabelSelector with apimachinery's semantics: which selectors are valid (and the field a
// bad one names), and which label sets a selector matches.
import assert from 'node:assert/strict';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { matchesSelector, sameLabels, validateSelector } from '../../src/runtime/label-selector.ts';

const sel = (s: unknown): V1LabelSelector => s as V1LabelSelector;

describe('validateSelector()', () => {
  const valid: [string, unknown][] = [
    ['{} (selects everything)', {}],
    ['matchLabels', { matchLabels: { app: 'batch', 'ecspower.io/team': 'a-1_b.c' } }],
    ['an empty label value', { matchLabels: { app: '' } }],
    ['63-character name and value', { matchLabels: { ['k'.repeat(63)]: 'v'.repeat(63) } }],
    ['a 253-character prefix', { matchLabels: { [`${'a'.repeat(61)}.${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(67)}/x`]: 'y' } }],
    ['In and NotIn with values', { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }, { key: 'tier', operator: 'NotIn', values: ['db'] }] }],
    ['Exists and DoesNotExist without values', { matchExpressions: [{ key: 'app', operator: 'Exists' }, { key: 'x', operator: 'DoesNotExist', values: [] }] }],
    ['null lists (as some clients send them)', { matchLabels: null, matchExpressions: null }],
  ];
  for (const [name, selector] of valid) {
    it(`accepts ${name}`, () => assert.equal(validateSelector(sel(selector)), undefined));
  }

  const invalid: [string, unknown, string, RegExp?][] = [
    ['not an object', 'app=batch', 'selector', /label selector object/],
    ['null', null, 'selector'],
    ['matchLabels a list', { matchLabels: ['app'] }, 'selector.matchLabels'],
    ['a key with a space', { matchLabels: { 'my app': 'x' } }, 'selector.matchLabels', /name part must consist of alphanumeric/],
    ['a key of 64 characters', { matchLabels: { ['k'.repeat(64)]: 'x' } }, 'selector.matchLabels', /no more than 63/],
    ['an uppercase prefix', { matchLabels: { 'Example.com/app': 'x' } }, 'selector.matchLabels', /prefix part must be a lowercase DNS subdomain/],
    ['an empty prefix', { matchLabels: { '/app': 'x' } }, 'selector.matchLabels', /prefix part must be non-empty/],
    ['two slashes', { matchLabels: { 'a/b/c': 'x' } }, 'selector.matchLabels', /at most one '\/'/],
    ['an empty key', { matchLabels: { '': 'x' } }, 'selector.matchLabels', /name part must be non-empty/],
    ['a value starting with a dash', { matchLabels: { app: '-x' } }, 'selector.matchLabels.app', /start and end with an alphanumeric/],
    ['a value of 64 characters', { matchLabels: { app: 'v'.repeat(64) } }, 'selector.matchLabels.app', /no more than 63/],
    ['a number as value', { matchLabels: { app: 1 } }, 'selector.matchLabels.app', /string/],
    ['matchExpressions not a list', { matchExpressions: { key: 'app' } }, 'selector.matchExpressions'],
    ['a requirement without key', { matchExpressions: [{ operator: 'Exists' }] }, 'selector.matchExpressions[0].key'],
    ['a requirement with a bad key', { matchExpressions: [{ key: 'a b', operator: 'Exists' }] }, 'selector.matchExpressions[0].key'],
    ['operator Equals', { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['x'] }] }, 'selector.matchExpressions[0].operator', /not one of In, NotIn, Exists, DoesNotExist/],
    ['In without values', { matchExpressions: [{ key: 'app', operator: 'In' }] }, 'selector.matchExpressions[0].values', /must be specified when operator is In/],
    ['NotIn with an empty list', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [] }] }, 'selector.matchExpressions[0].values'],
    ['Exists with values', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }, 'selector.matchExpressions[0].values', /may not be specified/],
    ['DoesNotExist with values', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist', values: ['x'] }] }, 'selector.matchExpressions[0].values'],
    ['a bad value in In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['ok', 'not ok'] }] }, 'selector.matchExpressions[0].values[1]'],
    ['values not strings', { matchExpressions: [{ key: 'app', operator: 'In', values: [1] }] }, 'selector.matchExpressions[0].values'],
    ['the second requirement', { matchExpressions: [{ key: 'app', operator: 'Exists' }, { key: 'x', operator: 'in', values: ['y'] }] }, 'selector.matchExpressions[1].operator'],
  ];
  for (const [name, selector, field, message] of invalid) {
    it(`refuses ${name}, naming ${field}`, () => {
      const problem = validateSelector(sel(selector));
      assert.ok(problem?.startsWith(`${field}: `), `expected a message naming ${field}, got ${String(problem)}`);
      if (message) assert.match(problem ?? '', message);
    });
  }

  it('names the field under the path it is given', () => {
    assert.match(validateSelector(sel({ matchExpressions: [{ key: 'app', operator: 'In' }] }), 'spec.selector') ?? '', /^spec\.selector\.matchExpressions\[0\]\.values: /);
  });
});

describe('matchesSelector()', () => {
  const labels = { app: 'batch', tier: 'worker', 'ecspower.io/team': 'a' };
  const table: [string, unknown, Record<string, string> | undefined, boolean][] = [
    ['{} matches everything', {}, labels, true],
    ['{} matches an object without labels', {}, undefined, true],
    ['null matches nothing', null, labels, false],
    ['undefined matches nothing', undefined, labels, false],
    ['matchLabels: every pair holds', { matchLabels: { app: 'batch', tier: 'worker' } }, labels, true],
    ['matchLabels: one pair differs', { matchLabels: { app: 'batch', tier: 'db' } }, labels, false],
    ['matchLabels: a key is missing', { matchLabels: { zone: 'a' } }, labels, false],
    ['matchLabels: an empty value does not match a missing key', { matchLabels: { zone: '' } }, labels, false],
    ['matchLabels: an empty value matches an empty label', { matchLabels: { zone: '' } }, { zone: '' }, true],
    ['a prefixed key', { matchLabels: { 'ecspower.io/team': 'a' } }, labels, true],
    ['In: value listed', { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'batch'] }] }, labels, true],
    ['In: value not listed', { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, labels, false],
    ['In: key missing', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, false],
    ['NotIn: value listed', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['batch'] }] }, labels, false],
    ['NotIn: value not listed', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels, true],
    ['NotIn: key missing matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels, true],
    ['Exists: present', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels, true],
    ['Exists: absent', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels, false],
    ['DoesNotExist: absent', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels, true],
    ['DoesNotExist: present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels, false],
    ['matchLabels and expressions are ANDed (both hold)', { matchLabels: { app: 'batch' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['worker'] }] }, labels, true],
    ['matchLabels and expressions are ANDed (one fails)', { matchLabels: { app: 'batch' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels, false],
    ['an unknown operator matches nothing', { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['batch'] }] }, labels, false],
    ['labels inherited from Object.prototype do not count', { matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, labels, false],
  ];
  for (const [name, selector, objLabels, want] of table) {
    it(`${name} -> ${want}`, () => assert.equal(matchesSelector(sel(selector), objLabels), want));
  }
});

describe('sameLabels()', () => {
  const table: [Record<string, string> | undefined, Record<string, string> | undefined, boolean][] = [
    [undefined, {}, true],
    [{ a: '1' }, { a: '1' }, true],
    [{ a: '1', b: '2' }, { b: '2', a: '1' }, true],
    [{ a: '1' }, { a: '2' }, false],
    [{ a: '1' }, { a: '1', b: '2' }, false],
    [{ a: '' }, {}, false],
  ];
  for (const [a, b, want] of table) it(`${JSON.stringify(a)} vs ${JSON.stringify(b)} -> ${want}`, () => assert.equal(sameLabels(a, b), want));
});
