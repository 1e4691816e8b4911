import type { StorageAccount } from '../store/storage-account';
import type { ItemRow } from '../store/item-ledger';
import type { DeliveryRow } from '../store/delivery-ledger';
import { TABLES } from '../store/names';
import { odata, tableKey } from '../store/keys';

/** Item time range, inclusive `from`, exclusive `to`; either end may be open. */
export interface TimeRange {
  from?: Date;
  to?: Date;
}

const PAGE_SIZE = 1000;
/** Leaves out the tally rows each ledger partition keeps of its counts (RowKey '~tally|…'). */
const LEDGER_ROWS_ONLY = `RowKey lt '~'`;

/**
 * Page-by-page reads of the items and deliveries tables for the operations surface. Only one
 * page (at most 1,000 rows) is held at a time, so a scan of any size runs in constant memory.
 */
export class LedgerScan {
  constructor(private readonly account: StorageAccount) {}

  async *items(filter?: string): AsyncGenerator<ItemRow & { partitionKey?: string }> {
    yield* this.pages<ItemRow>(TABLES.items, filter ? `(${filter}) and ${LEDGER_ROWS_ONLY}` : LEDGER_ROWS_ONLY);
  }

  /** Delivery rows (every status, notDelivered included), optionally for one mailbox and an item time range. */
  async *deliveries(
    opts: { range?: TimeRange; mailbox?: string; status?: DeliveryRow['status']; itemKey?: string } = {},
  ): AsyncGenerator<DeliveryRow> {
    const clauses: string[] = [];
    if (opts.mailbox) clauses.push(`PartitionKey eq ${odata(tableKey(opts.mailbox))}`);
    if (opts.itemKey) clauses.push(`RowKey eq ${odata(tableKey(opts.itemKey))}`);
    if (opts.status) clauses.push(`status eq ${odata(opts.status)}`);
    clauses.push(...rangeClauses('itemTime', opts.range), LEDGER_ROWS_ONLY);
    yield* this.pages<DeliveryRow>(TABLES.deliveries, clauses.join(' and ') || undefined);
  }

  private async *pages<T extends object>(
    table: (typeof TABLES)[keyof typeof TABLES],
    filter?: string,
  ): AsyncGenerator<T> {
    const pages = this.account
      .table(table)
      .listEntities<T>({ queryOptions: filter ? { filter } : {} })
      .byPage({ maxPageSize: PAGE_SIZE });
    for await (const page of pages) {
      for (const row of page) yield row as T;
    }
  }
}

/** ISO strings of one format compare in time order, so a string range filter is a time range filter. */
export function rangeClauses(property: string, range?: TimeRange): string[] {
  const out: string[] = [];
  if (range?.from) out.push(`${property} ge ${odata(range.from.toISOString())}`);
  if (range?.to) out.push(`${property} lt ${odata(range.to.toISOString())}`);
  return out;
}

export function inRange(iso: string | undefined, range?: TimeRange): boolean {
  if (!range?.from && !range?.to) return true;
  if (!iso) return false;
  const t = Date.parse(iso);
  return (!range.from || t >= range.from.getTime()) && (!range.to || t < range.to.getTime());
}
