import type { StorageAccount } from './storage-account';
import { TABLES } from './names';
import { tableKey } from './keys';
import { stripUndefined } from './error-log';

export type ItemState = 'captured' | 'converted' | 'invalid';

export interface ItemRow {
  itemKey: string;
  kind: string;
  state: ItemState;
  sourceId?: string;
  chatId?: string;
  itemTime?: string;
  windowId?: string;
  capturedAt?: string;
  convertedAt?: string;
  recipients?: number;
  reason?: string;
  /** Files that travel as attachments. */
  attachments?: number;
  /** JSON list of files kept in Blob storage behind a notice (too large for the mailbox, or gone). */
  fileNotices?: string;
}

/** The Table service's limit on operations in one batch transaction. */
const BATCH_SIZE = 100;

/** One row per captured item version: the source side of status and reconciliation. */
export class ItemLedger {
  constructor(private readonly account: StorageAccount) {}

  private keys(itemKey: string, kind: string) {
    return { partitionKey: kind, rowKey: tableKey(itemKey) };
  }

  async record(row: ItemRow): Promise<void> {
    await this.account.table(TABLES.items).upsertEntity({ ...this.keys(row.itemKey, row.kind), ...stripUndefined(row) }, 'Merge');
  }

  /**
   * Many rows in Table batch transactions: one per 100 rows of a partition (kind), where
   * upserting them one by one would cost a transaction each.
   */
  async recordMany(rows: ItemRow[]): Promise<void> {
    const byPartition = new Map<string, Map<string, ItemRow>>();
    for (const row of rows) {
      const k = this.keys(row.itemKey, row.kind);
      let partition = byPartition.get(k.partitionKey);
      if (!partition) byPartition.set(k.partitionKey, (partition = new Map()));
      // A batch may not touch a row twice; the later row wins, as sequential upserts would.
      partition.set(k.rowKey, row);
    }
    const table = this.account.table(TABLES.items);
    const batches: Array<Promise<unknown>> = [];
    for (const partition of byPartition.values()) {
      const entries = [...partition.values()];
      for (let i = 0; i < entries.length; i += BATCH_SIZE) {
        batches.push(table.submitTransaction(entries.slice(i, i + BATCH_SIZE).map((row) => ['upsert', { ...this.keys(row.itemKey, row.kind), ...stripUndefined(row) }, 'Merge'] as const)));
      }
    }
    await Promise.all(batches);
  }

  async get(itemKey: string, kind: string): Promise<ItemRow | undefined> {
    const k = this.keys(itemKey, kind);
    try {
      return await this.account.table(TABLES.items).getEntity<ItemRow>(k.partitionKey, k.rowKey);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async *all(): AsyncIterable<ItemRow> {
    yield* this.account.table(TABLES.items).listEntities<ItemRow>();
  }
}
