import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from '../shared/retry-after';

const NOW = Date.parse('2026-01-31T08:00:00Z');

test('delay-seconds are read as seconds', () => {
  assert.equal(parseRetryAfter('120', NOW), 120);
  assert.equal(parseRetryAfter(' 0 ', NOW), 0);
});

test('an HTTP-date is the wait until then, rounded up; a date already past is no wait', () => {
  assert.equal(parseRetryAfter('Sat, 31 Jan 2026 08:01:30 GMT', NOW), 90);
  assert.equal(parseRetryAfter('Sat, 31 Jan 2026 08:00:00 GMT', NOW + 500), 0);
  assert.equal(parseRetryAfter('Fri, 30 Jan 2026 08:00:00 GMT', NOW), 0);
});

test('a missing header is undefined, so the caller applies its default', () => {
  assert.equal(parseRetryAfter(undefined, NOW), undefined);
  assert.equal(parseRetryAfter(null, NOW), undefined);
  assert.equal(parseRetryAfter('', NOW), undefined);
});

test('garbage and negative values are undefined', () => {
  for (const value of ['soon', '-5', 'NaN', 'Infinity', 'Sat, 99 Foo 2026 GMT', '2026-01-31T08:01:00Z']) {
    assert.equal(parseRetryAfter(value, NOW), undefined, value);
  }
});
