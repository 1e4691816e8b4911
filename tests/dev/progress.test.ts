import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ProgressCounter, formatProgress, progressDisplay } from '../../dev/progress';
import { logLine } from '../../dev/host/logging';

// The `npm start` progress line: counts from the host's stage events, an estimate of the time left,
// and how it is shown (a live line on a terminal, plain lines otherwise).
const event = (fn: string, body: object) => logLine('information', fn, 'inv-1', [JSON.stringify(body)]);

test('counts converted items and delivered copies from stage events, and ignores everything else', () => {
  let now = 1_000_000;
  const counter = new ProgressCounter(() => now);
  counter.observe(
    event('convert', { event: 'convert.done', stage: 'convert', result: { deliveries: 3, notDelivered: 1 } }),
  );
  counter.observe(
    event('convert', { event: 'convert.done', stage: 'convert', result: { deliveries: 3, notDelivered: 0 } }),
  );
  now += 30_000;
  for (let i = 0; i < 4; i++)
    counter.observe(
      event('deliver', { event: 'deliver.done', stage: 'deliver', mailbox: 'a@x.example', result: 'delivered' }),
    );
  counter.observe(event('deliver', { event: 'deliver.done', stage: 'deliver', result: 'failed' }));
  counter.observe(event('deliver', { event: 'deliver.rescheduled', stage: 'deliver', delaySeconds: 3 }));
  counter.observe(event('unpack', { event: 'unpack.done', stage: 'unpack', result: { converts: 9 } }));
  counter.observe('2026-01-01T00:00:00.000Z INFO host - host started');
  counter.observe('{"event":"convert.done", truncated');
  const windows = [
    { status: 'stored' as const, from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
    { status: 'exporting' as const, from: '2026-01-02T00:00:00Z', to: '2026-01-03T00:00:00Z' },
  ];
  const s = counter.snapshot(windows, '2026-01-03T00:00:00Z');
  assert.deepEqual(
    { ...s, etaSeconds: undefined },
    {
      windowsStored: 1,
      windowsPlanned: 2,
      converted: 2,
      delivered: 4,
      failed: 1,
      pendingDeliveries: 1,
      ratePerMinute: 8,
      etaSeconds: undefined,
    },
  );
  // Capture: one day stored in 30 s, one day to go: 30 s. Delivery: 1 pending at 8/min: 7.5 s.
  assert.equal(s.etaSeconds, 30);
  assert.equal(formatProgress(s), 'windows 1/2 · converted 2 · delivered 4 (1 failed) · 8/min · about 30 s left');
});

test('caught up when every window is stored and nothing is pending', () => {
  const counter = new ProgressCounter();
  const s = counter.snapshot(
    [{ status: 'stored', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }],
    '2026-01-02T00:00:00Z',
  );
  assert.match(formatProgress(s), /windows 1\/1 · converted 0 · delivered 0 · 0\/min · caught up$/);
});

test('on a terminal the line is redrawn in place (log-update); otherwise each update is a plain line', async () => {
  const tty = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 120,
    rows: 40,
  }) as unknown as NodeJS.WriteStream;
  let written = '';
  (tty as unknown as PassThrough).on('data', (d: Buffer) => {
    written += d.toString();
  });
  const live = await progressDisplay(tty);
  live.update('windows 0/1');
  live.update('windows 1/1');
  live.done('windows 1/1 · caught up');
  await new Promise((r) => setImmediate(r));
  assert.equal(live.everyMs, 2000);
  assert.ok(written.includes('\u001b['), 'ANSI cursor/erase sequences: the line is rewritten, not appended');
  assert.ok(written.includes('windows 1/1 · caught up'));

  const file = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
  let plain = '';
  (file as unknown as PassThrough).on('data', (d: Buffer) => {
    plain += d.toString();
  });
  const display = await progressDisplay(file);
  display.update('windows 0/1');
  display.done('windows 1/1');
  await new Promise((r) => setImmediate(r));
  assert.equal(display.everyMs, 30_000);
  assert.doesNotMatch(plain, /\u001b\[/);
  assert.match(plain, /^\S+Z progress: windows 0\/1\n\S+Z progress: windows 1\/1\n$/);
});
