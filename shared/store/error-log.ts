import { randomBytes } from 'node:crypto';
import type { StorageAccount } from './storage-account';
import { TABLES } from './names';

export interface ErrorEntry {
  stage: string;
  reason: string;
  itemKey?: string;
  windowId?: string;
  mailbox?: string;
  at: string;
}

// Partition per UTC day, RowKey in reverse time order, so "recent errors" is one cheap query.
const MAX_TICKS = 9_999_999_999_999;

export class ErrorLog {
  constructor(private readonly account: StorageAccount) {}

  async report(entry: Omit<ErrorEntry, 'at'>, now = new Date()): Promise<void> {
    const rowKey = `${String(MAX_TICKS - now.getTime()).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
    await this.account.table(TABLES.errors).createEntity({
      partitionKey: now.toISOString().slice(0, 10),
      rowKey,
      ...stripUndefined(entry),
      reason: entry.reason.slice(0, 4000),
      at: now.toISOString(),
    });
  }

  async recent(limit = 20, now = new Date()): Promise<ErrorEntry[]> {
    const out: ErrorEntry[] = [];
    for (let day = 0; day < 7 && out.length < limit; day++) {
      const partition = new Date(now.getTime() - day * 86_400_000).toISOString().slice(0, 10);
      const rows = this.account
        .table(TABLES.errors)
        .listEntities<ErrorEntry>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } });
      for await (const row of rows) {
        out.push({
          stage: row.stage,
          reason: row.reason,
          itemKey: row.itemKey,
          windowId: row.windowId,
          mailbox: row.mailbox,
          at: row.at,
        });
        if (out.length >= limit) break;
      }
    }
    return out;
  }
}

export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
