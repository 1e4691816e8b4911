import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import { tableKey } from '../store/keys';
import { isNotFound } from '../store/storage-errors';

/** The override target that excludes a person from every delivery. */
export const SKIP = 'skip';

/** A manual mapping: RingCentral email → target mailbox address, or SKIP. Addresses are lower case. */
export interface MappingOverride {
  email: string;
  mailbox: string;
  note?: string;
}

interface OverrideRow extends MappingOverride {
  updatedAt: string;
}

const PARTITION = 'email';
// Table transactions take at most 100 operations, all in one partition.
const BATCH = 100;

/** The `mappings` table: one row per overridden email (PK 'email', RK tableKey(email)). */
export class MappingOverrides {
  private readonly table: TableClient;

  constructor(account: StorageAccount) {
    this.table = account.table(TABLES.mappings);
  }

  async get(email: string): Promise<MappingOverride | undefined> {
    try {
      const row = await this.table.getEntity<OverrideRow>(PARTITION, tableKey(email.toLowerCase()));
      return { email: row.email, mailbox: row.mailbox, ...(row.note ? { note: row.note } : {}) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Inserts or replaces each row (a replaced row loses a note the new one lacks). */
  async put(overrides: MappingOverride[]): Promise<void> {
    const updatedAt = new Date().toISOString();
    for (let i = 0; i < overrides.length; i += BATCH) {
      const actions: TransactionAction[] = overrides.slice(i, i + BATCH).map((o) => [
        'upsert',
        {
          partitionKey: PARTITION,
          rowKey: tableKey(o.email),
          email: o.email,
          mailbox: o.mailbox,
          ...(o.note ? { note: o.note } : {}),
          updatedAt,
        },
        'Replace',
      ]);
      await this.table.submitTransaction(actions);
    }
  }

  /** False when there was no override for the address. */
  async remove(email: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(PARTITION, tableKey(email.toLowerCase()));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<MappingOverride & { updatedAt: string }> {
    for await (const row of this.table.listEntities<OverrideRow>()) {
      yield { email: row.email, mailbox: row.mailbox, note: row.note, updatedAt: row.updatedAt };
    }
  }
}
