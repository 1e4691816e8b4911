import { Readable } from 'node:stream';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import type { DeliveryRow } from '../store/delivery-ledger';
import type { LedgerScan, TimeRange } from './ledger-scan';

/** One row of the downloadable log: one item version × one mailbox (or not-delivered participant). */
export interface LogRow {
  time: string;
  kind: string;
  itemKey: string;
  sourceId: string;
  version: string;
  chatId: string;
  mailbox: string;
  status: string;
  graphMessageId: string;
  size: string;
  attempts: string;
  deliveredAt: string;
  error: string;
}

export const LOG_COLUMNS: Array<keyof LogRow> = [
  'time',
  'kind',
  'itemKey',
  'sourceId',
  'version',
  'chatId',
  'mailbox',
  'status',
  'graphMessageId',
  'size',
  'attempts',
  'deliveredAt',
  'error',
];

export type LogFormat = 'csv' | 'jsonl';

/** The deliveries ledger as a log, streamed from table pages to the caller: nothing is collected. */
export class DeliveryLog {
  constructor(private readonly scan: LedgerScan) {}

  async *rows(range?: TimeRange): AsyncGenerator<LogRow> {
    for await (const row of this.scan.deliveries({ range })) yield toLogRow(row);
  }

  stream(format: LogFormat, range?: TimeRange): Readable {
    return format === 'csv' ? toCsv(this.rows(range)) : toJsonLines(this.rows(range));
  }
}

export function toLogRow(row: DeliveryRow): LogRow {
  // itemKey = <kind>:<source id>:<version>; the version (an ISO time) itself contains colons.
  const [kind, sourceId, ...version] = row.itemKey.split(':');
  return {
    time: row.itemTime ?? '',
    kind: row.kind ?? kind ?? '',
    itemKey: row.itemKey,
    sourceId: sourceId ?? '',
    version: version.join(':'),
    chatId: row.chatId ?? '',
    mailbox: row.mailbox,
    status: row.status,
    graphMessageId: row.graphMessageId ?? '',
    size: row.size === undefined ? '' : String(row.size),
    attempts: row.attempts === undefined ? '' : String(row.attempts),
    deliveredAt: row.deliveredAt ?? '',
    error: row.reason ?? '',
  };
}

/**
 * CSV that Excel opens as UTF-8 (byte order mark) with CRLF line ends, written by csv-stringify.
 * Cells that start with = + - @ are prefixed with ' so a spreadsheet never evaluates data as a formula.
 */
export function toCsv(rows: AsyncIterable<LogRow>): Readable {
  const csv = stringify({
    header: true,
    columns: LOG_COLUMNS,
    bom: true,
    record_delimiter: 'windows',
    cast: { string: neutraliseFormula },
  });
  // Written by hand with backpressure: piping Readable.from(rows) kept every row alive on Node 20.
  void (async () => {
    try {
      for await (const row of rows) {
        if (csv.destroyed) break;
        if (!csv.write(row)) await drainedOrClosed(csv);
      }
      if (!csv.destroyed) csv.end();
    } catch (err) {
      csv.destroy(err as Error);
    }
  })();
  return csv;
}

/** Waits for `drain` (or the reader going away), then takes off the listener that did not fire. */
async function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  const cancel = new AbortController();
  try {
    await Promise.race([
      once(stream, 'drain', { signal: cancel.signal }),
      once(stream, 'close', { signal: cancel.signal }),
    ]);
  } finally {
    // Without this every wait would leave a 'close' listener behind: thousands on a long log.
    cancel.abort();
  }
}

export function toJsonLines(rows: AsyncIterable<LogRow>): Readable {
  return Readable.from(
    (async function* () {
      for await (const row of rows) yield `${JSON.stringify(row)}\n`;
    })(),
  );
}

function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
