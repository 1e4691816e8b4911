import type { StorageAccount } from './storage-account';
import { TABLES } from './names';
import { tableKey } from './keys';
import { stripUndefined } from './error-log';
import { movesBetween, TalliedPartition, tallyGroups, type Tally } from './ledger-tally';
import { isNotFound, isConflict, isPreconditionFailed } from './storage-errors';

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

/** The Table service's limit on operations in one batch transaction, less one for the tally row. */
const BATCH_SIZE = 99;
const KINDS_PARTITION = 'itemKinds';
const NOTICES_PARTITION = 'fileNotices';

/**
 * One row per captured item version: the source side of status and reconciliation. Each kind's
 * partition keeps its counts by state and day beside its rows (TalliedPartition), moved in the
 * same transaction as the row, so status reads counts instead of scanning the ledger.
 */
export class ItemLedger {
  private readonly tallied: TalliedPartition;
  private readonly knownKinds = new Set<string>();

  constructor(private readonly account: StorageAccount) {
    this.tallied = new TalliedPartition(account.table(TABLES.items));
  }

  private keys(itemKey: string, kind: string) {
    return { partitionKey: kind, rowKey: tableKey(itemKey) };
  }

  /** Writes one row (merged over what is there) and moves its count if its state or day changed. */
  async record(row: ItemRow): Promise<void> {
    await this.registerKind(row.kind);
    let itemTime = row.itemTime;
    for (let tries = 0; ; tries++) {
      const existing = await this.get(row.itemKey, row.kind);
      itemTime ??= existing?.itemTime;
      const entity = { ...this.keys(row.itemKey, row.kind), ...stripUndefined(row) };
      try {
        await this.tallied.write(
          entity.partitionKey,
          [
            existing
              ? ['update', entity, 'Merge', { etag: (existing as ItemRow & { etag: string }).etag }]
              : ['create', entity],
          ],
          movesBetween(counted(existing), counted({ ...existing, ...row })),
        );
        break;
      } catch (err) {
        if ((!isConflict(err) && !isPreconditionFailed(err)) || tries >= 5) throw err;
      }
    }
    if (row.fileNotices) await this.noteFiles(row.itemKey, itemTime, row.fileNotices);
  }

  /**
   * Many new rows in batch transactions, one per 99 rows of a partition (kind) with their counts,
   * where writing them one by one would cost a transaction each. A batch that meets a row already
   * there (a window captured again) falls back to one row at a time, so no count is taken twice.
   */
  async recordMany(rows: ItemRow[]): Promise<void> {
    const byPartition = new Map<string, Map<string, ItemRow>>();
    for (const row of rows) {
      const k = this.keys(row.itemKey, row.kind);
      let partition = byPartition.get(k.partitionKey);
      if (!partition) byPartition.set(k.partitionKey, (partition = new Map()));
      // A batch may not touch a row twice; the later row wins, as sequential writes would.
      partition.set(k.rowKey, row);
    }
    const batches: Array<Promise<unknown>> = [];
    for (const [kind, partition] of byPartition) {
      await this.registerKind(kind);
      const entries = [...partition.values()];
      for (let i = 0; i < entries.length; i += BATCH_SIZE) {
        const chunk = entries.slice(i, i + BATCH_SIZE);
        batches.push(
          this.tallied
            .write(
              kind,
              chunk.map((row) => ['create', { ...this.keys(row.itemKey, row.kind), ...stripUndefined(row) }] as const),
              chunk.flatMap((row) => movesBetween(undefined, counted(row))),
            )
            .catch(async (err: unknown) => {
              if (!isConflict(err)) throw err;
              for (const row of chunk) await this.record(row);
            }),
        );
      }
    }
    await Promise.all(batches);
  }

  async get(itemKey: string, kind: string): Promise<(ItemRow & { etag?: string }) | undefined> {
    const k = this.keys(itemKey, kind);
    try {
      return await this.account.table(TABLES.items).getEntity<ItemRow>(k.partitionKey, k.rowKey);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The kinds the ledger holds rows of (each a partition with its own counts). */
  async *kinds(): AsyncGenerator<string> {
    const rows = this.account.table(TABLES.totals).listEntities<{ kind: string }>({
      queryOptions: { filter: `PartitionKey eq '${KINDS_PARTITION}'`, select: ['kind'] },
    });
    for await (const row of rows) yield row.kind;
  }

  /** The counts of one kind, by state ("captured", "converted", "invalid") and day. */
  tally(kind: string): Promise<Tally> {
    return this.tallied.tally(kind);
  }

  /** Items whose files stay in Blob storage behind a notice, newest item first. */
  async recentFileNotices(limit: number): Promise<Array<{ itemKey: string; fileNotices: string }>> {
    const pages = this.account
      .table(TABLES.totals)
      .listEntities<{ itemKey: string; fileNotices: string }>({
        queryOptions: { filter: `PartitionKey eq '${NOTICES_PARTITION}'` },
      })
      .byPage({ maxPageSize: limit });
    for await (const page of pages) return page.slice(0, limit);
    return [];
  }

  private async registerKind(kind: string): Promise<void> {
    if (this.knownKinds.has(kind)) return;
    await this.account
      .table(TABLES.totals)
      .upsertEntity({ partitionKey: KINDS_PARTITION, rowKey: tableKey(kind), kind }, 'Replace');
    this.knownKinds.add(kind);
  }

  /** One row per item with notices, keyed newest item first, so status reads the first page only. */
  private async noteFiles(itemKey: string, itemTime: string | undefined, fileNotices: string): Promise<void> {
    const t = Date.parse(itemTime ?? '');
    const newestFirst = String(9_999_999_999_999 - (Number.isNaN(t) ? 0 : t)).padStart(13, '0');
    await this.account
      .table(TABLES.totals)
      .upsertEntity(
        { partitionKey: NOTICES_PARTITION, rowKey: `${newestFirst}|${tableKey(itemKey)}`, itemKey, fileNotices },
        'Replace',
      );
  }
}

function counted(
  row: Partial<Pick<ItemRow, 'state' | 'itemTime'>> | undefined,
): { groups: string[]; bucket: string } | undefined {
  return row?.state ? { groups: tallyGroups(row.itemTime), bucket: row.state } : undefined;
}
