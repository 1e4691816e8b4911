import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import assert from 'node:assert/strict';
import { toCsv, toJsonLines, type LogRow } from '../../shared/operations/delivery-log';

// The log formatters hold no rows: memory after garbage collection stays flat however many rows
// flow. (250,000 rows keep the run short on a shared CI machine; nothing here grows with the count.)
const ROWS = 250_000;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function* rows(count: number, sample: () => void): AsyncGenerator<LogRow> {
  for (let i = 0; i < count; i++) {
    if (i % 25_000 === 0) sample();
    yield {
      time: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
      kind: 'post',
      itemKey: `post:${i}:2025-01-01T00:00:00.000Z`,
      sourceId: String(i),
      version: '2025-01-01T00:00:00.000Z',
      chatId: `chat-${i % 97}`,
      mailbox: `user${i % 500}@example.com`,
      status: i % 10 ? 'delivered' : 'notDelivered',
      graphMessageId: `AAMkAGI2-${i}`,
      size: String(1000 + (i % 5000)),
      attempts: '1',
      deliveredAt: '2025-01-02T00:00:00.000Z',
      error: i % 10 ? '' : 'guest, "quoted", with comma',
    };
  }
}

async function measure(
  format: (source: AsyncIterable<LogRow>) => NodeJS.ReadableStream,
): Promise<{ lines: number; bytes: number; growthMb: number }> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  // Live heap, not garbage: collect, then read.
  const sample = () => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  let bytes = 0;
  let lines = 0;
  for await (const chunk of format(rows(ROWS, sample))) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buffer.length;
    for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
  }
  return { lines, bytes, growthMb: (peak - base) / 1_048_576 };
}

test(`CSV: ${ROWS.toLocaleString('en-US')} rows stream through with bounded memory`, async () => {
  const r = await measure(toCsv);
  assert.equal(r.lines, ROWS + 1, 'header + one line per row');
  assert.ok(r.bytes > 150 * ROWS, `${r.bytes} bytes`);
  // Holding the rows would take hundreds of MB; streaming keeps the heap within a few pages.
  assert.ok(r.growthMb < 16, `heap grew ${r.growthMb.toFixed(1)} MB`);
  console.log(
    `csv: ${ROWS} rows, ${(r.bytes / 1_048_576).toFixed(0)} MB out, peak heap growth ${r.growthMb.toFixed(1)} MB`,
  );
});

test('CSV: waiting for a slow reader leaves no listener behind', async () => {
  const csv = toCsv(rows(20_000, () => undefined));
  let waits = 0;
  let mostCloseListeners = 0;
  csv.on('drain', () => waits++);
  for await (const _chunk of csv) {
    mostCloseListeners = Math.max(mostCloseListeners, csv.listenerCount('close'));
    // A slow reader: the writer meets backpressure again and again.
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(waits > 20, `the writer waited for the reader ${waits} times`);
  assert.ok(
    mostCloseListeners <= 3,
    `at most a few 'close' listeners at once, not one per wait: ${mostCloseListeners}`,
  );
});

test(`JSONL: ${ROWS.toLocaleString('en-US')} rows stream through with bounded memory`, async () => {
  const r = await measure(toJsonLines);
  assert.equal(r.lines, ROWS);
  assert.ok(r.growthMb < 16, `heap grew ${r.growthMb.toFixed(1)} MB`);
  console.log(
    `jsonl: ${ROWS} rows, ${(r.bytes / 1_048_576).toFixed(0)} MB out, peak heap growth ${r.growthMb.toFixed(1)} MB`,
  );
});

test('CSV cells are quoted where needed and formulas are neutralised', async () => {
  const row: LogRow = {
    time: 't',
    kind: 'post',
    itemKey: 'k',
    sourceId: 's',
    version: 'v',
    chatId: 'c',
    mailbox: 'm',
    status: 'failed',
    graphMessageId: '',
    size: '',
    attempts: '',
    deliveredAt: '',
    error: '=HYPERLINK("x"), "quoted"\nline',
  };
  let text = '';
  for await (const chunk of toCsv(
    (async function* () {
      yield row;
    })(),
  ))
    text += chunk.toString();
  assert.ok(text.endsWith(`,"'=HYPERLINK(""x""), ""quoted""\nline"\r\n`), JSON.stringify(text));
});
