import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRateLimits, DEFAULT_RATE_LIMITS } from '../../shared/ringcentral/rate-groups';

test('rate limits parse from the setting; unknown groups and junk are refused', () => {
  assert.deepEqual(parseRateLimits('Light=100, heavy=5'), { ...DEFAULT_RATE_LIMITS, Light: 100, Heavy: 5 });
  assert.deepEqual(parseRateLimits(''), DEFAULT_RATE_LIMITS);
  assert.throws(() => parseRateLimits('Huge=1'));
  assert.throws(() => parseRateLimits('Light=fast'));
});
