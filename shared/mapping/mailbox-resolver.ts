import type { StorageAccount } from '../store/storage-account';
import type { Participant } from '../archive/people-directory';
import { isPlausibleEmail } from '../archive/people-directory';
import type { UserDirectory } from './user-directory';
import { PeopleCache } from './people-cache';

export type Resolution =
  | { kind: 'mailbox'; mailbox: string; userId: string }
  | { kind: 'notDelivered'; key: string; reason: string };

/**
 * One participant → mailbox by automatic mapping only. Superseded by MailboxRecipientPlanner
 * (overrides, fallback, fan-out limit); kept until the converter switches to the planner.
 */
export class MailboxResolver {
  private readonly people: PeopleCache;

  constructor(account: StorageAccount, directory: UserDirectory, ttlHours: number) {
    this.people = new PeopleCache(account, directory, ttlHours);
  }

  async resolve(p: Participant): Promise<Resolution> {
    const email = p.person?.email?.trim().toLowerCase();
    const key = email && isPlausibleEmail(email) ? email : `person:${p.id}`;
    if (p.guest) return { kind: 'notDelivered', key, reason: 'guest (external participant): not archived into tenant mailboxes' };
    if (!p.person) return { kind: 'notDelivered', key, reason: `RingCentral person ${p.id} is not in the export` };
    if (!email || !isPlausibleEmail(email)) return { kind: 'notDelivered', key, reason: `RingCentral person ${p.id} has no valid email address` };
    const user = await this.people.find(email);
    if (!user || !user.enabled) return { kind: 'notDelivered', key, reason: `no Microsoft 365 mailbox for ${email}` };
    return { kind: 'mailbox', mailbox: user.mailbox, userId: user.userId };
  }
}
