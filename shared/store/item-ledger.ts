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

/** One row per captured item version: the source side of status and reconciliation. */
export class ItemLedger {
  constructor(private readonly account: StorageAccount) {}

  private keys(itemKey: string, kind: string) {
    return { partitionKey: kind, rowKey: tableKey(itemKey) };
  }

  async record(row: ItemRow): Promise<void> {
    await this.account.table(TABLES.items).upsertEntity({ ...this.keys(row.itemKey, row.kind), ...stripUndefined(row) }, 'Merge');
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
