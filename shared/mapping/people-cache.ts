import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import { tableKey } from '../store/keys';
import { isNotFound } from '../store/storage-errors';
import { isPlausibleEmail } from '../email-address';
import type { UserDirectory } from './user-directory';

/** A Microsoft 365 user found for an address; `enabled: false` means the account is blocked from sign-in. */
export interface DirectoryEntry {
  userId: string;
  mailbox: string;
  enabled: boolean;
}

// `found` predates `enabled`: rows written before it carry found = accountEnabled.
interface PersonRow {
  found: boolean;
  userId?: string;
  mail?: string;
  enabled?: boolean;
  checkedAt: string;
}

const MAX_MEMO_MS = 10 * 60_000;

/**
 * Email → directory user, cached in the `people` table for `ttlHours`, so each address is looked
 * up once per TTL across every instance. Misses are cached too: a mailbox created later is found
 * after the TTL. Implausible addresses never reach the directory.
 */
export class PeopleCache {
  private readonly memo = new Map<string, Promise<PersonRow>>();

  constructor(
    private readonly account: StorageAccount,
    private readonly directory: UserDirectory,
    private readonly ttlHours: number,
  ) {}

  async find(email: string): Promise<DirectoryEntry | undefined> {
    const address = email.trim().toLowerCase();
    if (!isPlausibleEmail(address)) return undefined;
    const row = await this.lookup(address);
    if (!row.userId) return undefined;
    return { userId: row.userId, mailbox: row.mail ?? address, enabled: row.enabled ?? row.found };
  }

  private lookup(email: string): Promise<PersonRow> {
    let pending = this.memo.get(email);
    if (!pending) {
      pending = this.lookupCached(email).catch((err) => {
        this.memo.delete(email);
        throw err;
      });
      this.memo.set(email, pending);
      // The process memo must not outlive the table TTL.
      setTimeout(() => this.memo.delete(email), Math.min(this.ttlHours * 3_600_000, MAX_MEMO_MS)).unref();
    }
    return pending;
  }

  private async lookupCached(email: string): Promise<PersonRow> {
    const table = this.account.table(TABLES.people);
    const rowKey = tableKey(email);
    try {
      const row = await table.getEntity<PersonRow>('email', rowKey);
      if (Date.now() - Date.parse(row.checkedAt) < this.ttlHours * 3_600_000) return row;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const user = await this.directory.findByEmail(email);
    const checkedAt = new Date().toISOString();
    const row: PersonRow = user
      ? {
          found: user.accountEnabled,
          userId: user.id,
          mail: user.mail.toLowerCase(),
          enabled: user.accountEnabled,
          checkedAt,
        }
      : { found: false, checkedAt };
    await table.upsertEntity({ partitionKey: 'email', rowKey, ...row }, 'Replace');
    return row;
  }
}
