import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule, resolveSetting } from '../../../dev/host/ncrontab';
import { parseTimeSpan, readHostConfig } from '../../../dev/host/host-config';
import { fixtureRepo } from './helpers';

test('six-field NCRONTAB is evaluated in UTC, with seconds', () => {
  const everyFiveMinutes = parseSchedule('0 */5 * * * *');
  assert.equal(everyFiveMinutes.next(new Date('2024-03-10T10:04:59.000Z')).toISOString(), '2024-03-10T10:05:00.000Z');
  assert.equal(everyFiveMinutes.next(new Date('2024-03-10T10:05:00.000Z')).toISOString(), '2024-03-10T10:10:00.000Z');
  const weekdaysAtNine = parseSchedule('0 0 9 * * 1-5');
  // 2024-01-06 is a Saturday: the next run is Monday 09:00 UTC whatever the local zone.
  assert.equal(weekdaysAtNine.next(new Date('2024-01-06T10:00:00Z')).toISOString(), '2024-01-08T09:00:00.000Z');
  assert.equal(
    parseSchedule('30 15 * * * *').next(new Date('2024-01-01T00:00:00Z')).toISOString(),
    '2024-01-01T00:15:30.000Z',
  );
});

test('%Setting% schedules resolve from the settings, then the environment', () => {
  const schedule = parseSchedule('%INGEST_SCHEDULE%', { INGEST_SCHEDULE: '0 0 * * * *' });
  assert.equal(schedule.text, '0 0 * * * *');
  assert.equal(schedule.next(new Date('2024-01-01T05:30:00Z')).toISOString(), '2024-01-01T06:00:00.000Z');
  process.env.HOST_TEST_SCHEDULE_FROM_ENV = '*/10 * * * * *';
  assert.equal(
    parseSchedule('%HOST_TEST_SCHEDULE_FROM_ENV%').next(new Date('2024-01-01T00:00:01Z')).toISOString(),
    '2024-01-01T00:00:10.000Z',
  );
  assert.throws(() => parseSchedule('%MISSING_SCHEDULE_SETTING%', {}), /MISSING_SCHEDULE_SETTING/);
  assert.equal(resolveSetting('plain-queue', {}), 'plain-queue');
});

test('five-field cron and garbage are rejected; TimeSpan intervals are accepted', () => {
  assert.throws(() => parseSchedule('*/5 * * * *'), /six fields/);
  assert.throws(() => parseSchedule('0 0 25 * * *'));
  const hourly = parseSchedule('01:00:00');
  assert.equal(hourly.next(new Date('2024-01-01T05:30:00Z')).toISOString(), '2024-01-01T06:00:00.000Z');
});

test('previous occurrence is found for past-due detection', () => {
  const s = parseSchedule('0 */5 * * * *');
  assert.equal(s.previous(new Date('2024-01-01T00:07:00Z'))?.toISOString(), '2024-01-01T00:05:00.000Z');
});

test('host.json TimeSpans and overrides', () => {
  assert.equal(parseTimeSpan('00:00:10'), 10_000);
  assert.equal(parseTimeSpan('1.02:00:00.5'), 26 * 3600_000 + 500);
  assert.throws(() => parseTimeSpan('10s'));
  const config = readHostConfig(fixtureRepo(), {
    extensions: { queues: { maxDequeueCount: 2, visibilityTimeout: '00:00:01' } },
  });
  assert.equal(config.queues.maxDequeueCount, 2);
  assert.equal(config.queues.visibilityTimeoutMs, 1000);
  assert.equal(config.queues.batchSize, 16, 'values not overridden come from host.json');
  assert.equal(config.routePrefix, 'api');
});
