import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import { tableKey } from '../store/keys';
import { statusOf } from '../store/delivery-ledger';
import type { Participant } from '../archive/people-directory';
import { isPlausibleEmail } from '../archive/people-directory';
import type { UserDirectory } from './user-directory';

export type Resolution =
  | { kind: 'mailbox'; mailbox: string; userId: string }
  | { kind: 'notDelivered'; key: string; reason: string };

interface PersonRow { found: boolean; userId?: string; mail?: string; checkedAt: string }

/**
 * Participant → mailbox by the Email property (automatic mapping). Look-ups are cached in
 * Table storage with a TTL, so people are resolved once per TTL across every instance.
 */
export class MailboxResolver {
  private readonly memo = new Map<string, Promise<PersonRow>>();

  constructor(private readonly account: StorageAccount, private readonly directory: UserDirectory, private readonly ttlHours: number) {}

  async resolve(p: Participant): Promise<Resolution> {
    const email = p.person?.email?.trim().toLowerCase();
    const key = email && isPlausibleEmail(email) ? email : `person:${p.id}`;
    if (p.guest) return { kind: 'notDelivered', key, reason: 'guest (external participant): not archived into tenant mailboxes' };
    if (!p.person) return { kind: 'notDelivered', key, reason: `RingCentral person ${p.id} is not in the export` };
    if (!email || !isPlausibleEmail(email)) return { kind: 'notDelivered', key, reason: `RingCentral person ${p.id} has no valid email address` };
    const row = await this.lookup(email);
    if (!row.found || !row.userId) return { kind: 'notDelivered', key, reason: `no Microsoft 365 mailbox for ${email}` };
    return { kind: 'mailbox', mailbox: row.mail ?? email, userId: row.userId };
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
      setTimeout(() => this.memo.delete(email), Math.min(this.ttlHours * 3_600_000, 10 * 60_000)).unref();
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
      if (statusOf(err) !== 404) throw err;
    }
    const user = await this.directory.findByEmail(email);
    const row: PersonRow = user
      ? { found: user.accountEnabled, userId: user.id, mail: user.mail, checkedAt: new Date().toISOString() }
      : { found: false, checkedAt: new Date().toISOString() };
    await table.upsertEntity({ partitionKey: 'email', rowKey, ...row }, 'Replace');
    return row;
  }
}
