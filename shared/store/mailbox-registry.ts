import type { StorageAccount } from './storage-account';
import { TABLES } from './names';
import { tableKey } from './keys';
import { isConflict } from './storage-errors';

const PARTITION = 'mailboxes';

/**
 * Every mailbox the deliveries ledger has a row for, one row each, so that status and
 * reconciliation can walk the mailboxes without scanning the ledger (which grows with history).
 * A mailbox is registered before its first delivery row is written, so none is ever missing.
 */
export class MailboxRegistry {
  // Registration is idempotent; this only saves the repeat writes within a process.
  private readonly known = new Set<string>();

  constructor(private readonly account: StorageAccount) {}

  async register(mailbox: string): Promise<void> {
    if (this.known.has(mailbox)) return;
    try {
      await this.account
        .table(TABLES.totals)
        .createEntity({ partitionKey: PARTITION, rowKey: tableKey(mailbox), mailbox });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    this.known.add(mailbox);
  }

  /** The registered mailboxes, a page (at most 1,000) at a time. */
  async *list(): AsyncGenerator<string> {
    const pages = this.account
      .table(TABLES.totals)
      .listEntities<{ mailbox: string }>({
        queryOptions: { filter: `PartitionKey eq '${PARTITION}'`, select: ['mailbox'] },
      })
      .byPage({ maxPageSize: 1000 });
    for await (const page of pages) for (const row of page) yield row.mailbox;
  }

  /** One page of registered mailboxes and the token of the next: a job can carry it in a queue message. */
  async page(size: number, continuation?: string): Promise<{ mailboxes: string[]; continuation?: string }> {
    const pages = this.account
      .table(TABLES.totals)
      .listEntities<{ mailbox: string }>({
        queryOptions: { filter: `PartitionKey eq '${PARTITION}'`, select: ['mailbox'] },
      })
      .byPage({ maxPageSize: size, continuationToken: continuation });
    const first = await pages.next();
    if (first.done) return { mailboxes: [] };
    return { mailboxes: first.value.map((row) => row.mailbox), continuation: first.value.continuationToken };
  }
}
