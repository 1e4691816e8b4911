import type { StorageAccount } from '../store/storage-account';
import type { Participant } from '../archive/people-directory';
import { isPlausibleEmail } from '../email-address';
import type { UserDirectory } from './user-directory';
import type { RecipientContext, RecipientPlan, RecipientPlanner } from './recipient-plan';
import { PeopleCache, type DirectoryEntry } from './people-cache';
import { MappingOverrides, SKIP } from './mapping-overrides';
import { mapLimited } from '../parallel';

export interface RecipientPlannerOptions {
  /** PEOPLE_CACHE_HOURS */
  ttlHours: number;
  /** FALLBACK_MAILBOX */
  fallbackMailbox?: string;
  /** FANOUT_LIMIT; 0 = off. */
  fanoutLimit: number;
}

type Via = RecipientPlan['deliveries'][number]['via'];
type Decision =
  | { kind: 'mailbox'; mailbox: string; userId: string; via: Via }
  | { kind: 'skip'; reason: string }
  | { kind: 'unmapped'; reason: string };

const GUEST_REASON = 'guest (external participant): not archived into tenant mailboxes';
// Lookups per item run this many at a time: fast for large chats, gentle on Table storage and Graph.
const PARALLEL_LOOKUPS = 8;
// Overrides are re-read at most this often per process, so an uploaded CSV takes effect within it.
const OVERRIDE_MEMO_MS = 60_000;
const FALLBACK_MEMO_MS = 10 * 60_000;

/**
 * Who receives an item. Order of decisions per participant: guest → never; fan-out limit → only the
 * creator; manual override (mailbox or skip) → automatic mapping by mail/UPN/proxyAddresses →
 * unmapped internal people go to FALLBACK_MAILBOX (once per item) or are reported.
 */
export class MailboxRecipientPlanner implements RecipientPlanner {
  private readonly people: PeopleCache;
  private readonly overrides: MappingOverrides;
  private readonly overrideMemo = new Map<string, { at: number; value: Promise<string | undefined> }>();
  private fallback?: { at: number; value: Promise<Decision> };

  constructor(
    account: StorageAccount,
    directory: UserDirectory,
    private readonly options: RecipientPlannerOptions,
  ) {
    this.people = new PeopleCache(account, directory, options.ttlHours);
    this.overrides = new MappingOverrides(account);
  }

  async plan(participants: Participant[], context: RecipientContext): Promise<RecipientPlan> {
    const plan: RecipientPlan = { deliveries: [], notDelivered: [] };
    const reported = new Set<string>();
    const report = (key: string, reason: string) => {
      if (reported.has(key)) return;
      reported.add(key);
      plan.notDelivered.push({ key, reason });
    };
    const deliver = (d: { mailbox: string; userId: string; via: Via }) => {
      if (plan.deliveries.some((x) => x.mailbox === d.mailbox)) return;
      plan.deliveries.push({ mailbox: d.mailbox, userId: d.userId, via: d.via });
    };

    const { fanoutLimit } = this.options;
    const overLimit = fanoutLimit > 0 && context.chatMemberCount > fanoutLimit;
    const people = [...new Map(participants.map((p) => [p.id, p])).values()];
    const decisions = await mapLimited(people, PARALLEL_LOOKUPS, (p) => {
      if (p.guest) return Promise.resolve<Decision>({ kind: 'skip', reason: GUEST_REASON });
      if (overLimit && p.id !== context.creatorId) {
        const to = this.options.fallbackMailbox ? 'the sender and the fallback mailbox only' : 'the sender only';
        return Promise.resolve<Decision>({
          kind: 'skip',
          reason: `fan-out limit: the chat has ${context.chatMemberCount} members, over FANOUT_LIMIT ${fanoutLimit}; delivered to ${to}`,
        });
      }
      return this.decide(p);
    });

    const unmapped: Array<{ key: string; reason: string }> = [];
    people.forEach((p, i) => {
      const d = decisions[i]!;
      if (d.kind === 'mailbox') deliver(d);
      else if (d.kind === 'skip') report(keyOf(p), d.reason);
      else unmapped.push({ key: keyOf(p), reason: d.reason });
    });

    if (unmapped.length || overLimit) {
      const fallback = await this.fallbackMailbox();
      if (fallback.kind === 'mailbox') deliver(fallback);
      else for (const u of unmapped) report(u.key, `${u.reason}; ${fallback.reason}`);
    }
    return plan;
  }

  private async decide(p: Participant): Promise<Decision> {
    if (!p.person) return { kind: 'unmapped', reason: `RingCentral person ${p.id} is not in the export` };
    const email = p.person.email?.trim().toLowerCase();
    if (!email || !isPlausibleEmail(email))
      return { kind: 'unmapped', reason: `RingCentral person ${p.id} has no valid email address` };

    const target = await this.overrideFor(email);
    if (target === SKIP) return { kind: 'skip', reason: `excluded by a mapping override for ${email}` };
    if (target) {
      const user = await this.people.find(target);
      const problem = unusable(user);
      if (problem)
        return { kind: 'unmapped', reason: `mapping override for ${email} points to ${target}, which ${problem}` };
      return { kind: 'mailbox', mailbox: user!.mailbox, userId: user!.userId, via: 'override' };
    }

    const user = await this.people.find(email);
    const problem = unusable(user);
    if (problem)
      return {
        kind: 'unmapped',
        reason:
          problem === 'has no Microsoft 365 mailbox' ? `no Microsoft 365 mailbox for ${email}` : `${email} ${problem}`,
      };
    return { kind: 'mailbox', mailbox: user!.mailbox, userId: user!.userId, via: 'automatic' };
  }

  private overrideFor(email: string): Promise<string | undefined> {
    const memo = this.overrideMemo.get(email);
    if (memo && Date.now() - memo.at < OVERRIDE_MEMO_MS) return memo.value;
    const value = this.overrides.get(email).then((o) => o?.mailbox);
    value.catch(() => this.overrideMemo.delete(email));
    this.overrideMemo.set(email, { at: Date.now(), value });
    return value;
  }

  /** FALLBACK_MAILBOX resolved through the directory like anyone else; a 'mailbox' or why it cannot be used. */
  private fallbackMailbox(): Promise<Decision> {
    const address = this.options.fallbackMailbox?.trim().toLowerCase();
    if (!address) return Promise.resolve({ kind: 'unmapped', reason: 'FALLBACK_MAILBOX is not set' });
    if (this.fallback && Date.now() - this.fallback.at < FALLBACK_MEMO_MS) return this.fallback.value;
    const value = this.people.find(address).then((user): Decision => {
      const problem = unusable(user);
      if (problem) return { kind: 'unmapped', reason: `FALLBACK_MAILBOX ${address} ${problem}` };
      return { kind: 'mailbox', mailbox: user!.mailbox, userId: user!.userId, via: 'fallback' };
    });
    value.catch(() => (this.fallback = undefined));
    this.fallback = { at: Date.now(), value };
    return value;
  }
}

function unusable(user: DirectoryEntry | undefined): string | undefined {
  if (!user) return 'has no Microsoft 365 mailbox';
  if (!user.enabled) return 'has a disabled Microsoft 365 account';
  return undefined;
}

/** The ledger key for someone who gets no delivery: the address when there is one, else the person id. */
function keyOf(p: Participant): string {
  const email = p.person?.email?.trim().toLowerCase();
  return email && isPlausibleEmail(email) ? email : `person:${p.id}`;
}
