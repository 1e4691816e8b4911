import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupPacer, parseRateLimits, DEFAULT_RATE_LIMITS } from '../../shared/ringcentral/group-pacer';
import { RetryLaterError } from '../../shared/errors';

test('a group never sends more than its budget per minute; the call after is rescheduled until the window turns', () => {
  let now = 1_000_000;
  const pacer = new GroupPacer({ ...DEFAULT_RATE_LIMITS, Heavy: 3 }, () => now);
  for (let i = 0; i < 3; i++) { pacer.take('Heavy'); now += 1000; }
  assert.throws(() => pacer.take('Heavy'), (err: unknown) => err instanceof RetryLaterError && err.delaySeconds === 57);
  pacer.take('Medium'); // other groups are unaffected
  now += 57_000;
  pacer.take('Heavy');
});

test('rate limits parse from the setting; unknown groups and junk are refused', () => {
  assert.deepEqual(parseRateLimits('Light=100, heavy=5'), { ...DEFAULT_RATE_LIMITS, Light: 100, Heavy: 5 });
  assert.deepEqual(parseRateLimits(''), DEFAULT_RATE_LIMITS);
  assert.throws(() => parseRateLimits('Huge=1'));
  assert.throws(() => parseRateLimits('Light=fast'));
});
