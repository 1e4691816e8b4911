import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EXPORT_RANGE_MS, TARGET_RECORDS_PER_WINDOW, WindowPlanner } from '../../shared/capture/window-planner';
import { captureLatency } from '../../shared/operations/status-report';
import type { CaptureWindow, CaptureWindows } from '../../shared/store/capture-windows';
import type { WorkQueues } from '../../shared/store/work-queues';

// Window width follows the record counts of earlier windows, under MAX_WINDOW_HOURS and
// RingCentral's 6-month range. (Planning against storage is covered in tests/capture.)
const HOUR = 3_600_000;
const planner = (maxWindowHours: number) =>
  new WindowPlanner(
    {
      start: new Date(0),
      lagMinutes: 15,
      retentionDays: 90,
      maxWindowHours,
      exportPollSeconds: 30,
      sources: ['teammessaging'],
    },
    {} as CaptureWindows,
    {} as WorkQueues,
  );
const stored = (fromH: number, toH: number, records: number, backfill = false): CaptureWindow => ({
  windowId: String(fromH),
  from: new Date(fromH * HOUR).toISOString(),
  to: new Date(toH * HOUR).toISOString(),
  status: 'stored',
  records,
  backfill,
});

test('with nothing known, a window is as wide as allowed: MAX_WINDOW_HOURS, never past 180 days', () => {
  assert.equal(planner(4320).widthMs([]), MAX_EXPORT_RANGE_MS);
  assert.equal(planner(100_000).widthMs([]), MAX_EXPORT_RANGE_MS, 'an admin bound above 6 months is capped');
  assert.equal(planner(24).widthMs([]), 24 * HOUR, 'the admin bound applies');
});

test('sparse data keeps windows wide; dense data narrows them to about the target record count', () => {
  assert.equal(planner(4320).widthMs([stored(0, 24 * 90, 5_000)]), MAX_EXPORT_RANGE_MS);
  // 200,000 records in 10 days: 20,000 records is one day.
  assert.equal(TARGET_RECORDS_PER_WINDOW, 20_000);
  assert.equal(planner(4320).widthMs([stored(0, 240, 200_000)]), 24 * HOUR);
  // Never narrower than 15 minutes by volume alone.
  assert.equal(planner(4320).widthMs([stored(0, 1, 100_000_000)]), 15 * 60_000);
});

test('only recent regular windows with counts guide the width; backfills and old windows do not', () => {
  const history = [
    stored(0, 24, 10_000_000),
    ...Array.from({ length: 5 }, (_, i) => stored(24 + i, 25 + i, 1)),
    stored(100, 101, 10_000_000, true),
  ];
  assert.equal(planner(4320).widthMs(history), MAX_EXPORT_RANGE_MS, 'the last 5 regular windows are sparse');
  const unknown: CaptureWindow = { ...stored(30, 31, 0), records: undefined };
  assert.equal(planner(4320).widthMs([unknown]), MAX_EXPORT_RANGE_MS);
});

test('capture latency: median and 95th percentile of storedAt − from over regular windows stored in the last day', () => {
  const now = new Date('2026-01-02T12:00:00Z');
  const w = (fromIso: string, storedIso: string, extra: Partial<CaptureWindow> = {}) => ({
    from: fromIso,
    storedAt: storedIso,
    status: 'stored',
    ...extra,
  });
  const windows = [
    ...Array.from({ length: 19 }, (_, i) =>
      w(`2026-01-02T${String(i % 10).padStart(2, '0')}:00:00Z`, `2026-01-02T${String(i % 10).padStart(2, '0')}:30:00Z`),
    ),
    w('2026-01-01T12:00:00Z', '2026-01-02T11:00:00Z'), // 23 h: the slow one
    w('2025-12-01T00:00:00Z', '2026-01-01T00:00:00Z'), // stored over a day ago: left out
    w('2025-12-01T00:00:00Z', '2026-01-02T11:00:00Z', { backfill: true }), // an admin backfill: left out
    { from: '2026-01-02T10:00:00Z', status: 'exporting' },
  ];
  assert.deepEqual(captureLatency(windows, now), { windows: 20, medianMinutes: 30, p95Minutes: 30 });
  assert.deepEqual(captureLatency(windows.slice(19), now), { windows: 1, medianMinutes: 23 * 60, p95Minutes: 23 * 60 });
  assert.deepEqual(captureLatency([], now), { windows: 0 });
});
