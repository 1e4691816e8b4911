import { odata } from '@azure/data-tables';
import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import type { DeliveryRow, DeliveryStatus } from '../store/delivery-ledger';
import type { ItemRow } from '../store/item-ledger';
import type { HeldMessage, MailboxInventory } from './mailbox-inventory';
import type { ReconcileRange } from './reconcile-range';
import { mapLimited } from '../parallel';

/** Ledger states that mean "this mailbox should hold this item": convert wrote them from the mapping. */
const EXPECTED: ReadonlySet<DeliveryStatus> = new Set(['pending', 'inProgress', 'delivered', 'failed']);
/** Item keys listed per mailbox and problem; counts are always complete. */
const MAX_LISTED_KEYS = 50;
/** Mailboxes listed at once; each sees one request at a time, so Outlook's 4-per-mailbox limit holds. */
const DEFAULT_PARALLEL_MAILBOXES = 8;

/** The counts reported per mailbox and, summed, for the whole range. */
export interface ReconcileCounts {
  expected: number;
  found: number;
  missing: number;
  duplicates: number;
  unexpected: number;
  /** Ledger rows that say delivered. */
  ledgerDelivered: number;
  /** Found in the mailbox while the ledger does not (yet) say delivered. */
  notInLedger: number;
  /** Ledger says delivered, yet the mailbox does not hold that item. */
  ledgerWithoutMessage: number;
}

export interface MailboxReconciliation extends ReconcileCounts {
  mailbox: string;
  missingKeys: string[];
  duplicateKeys: string[];
  unexpectedKeys: string[];
  error?: string;
}

export interface Reconciliation extends ReconcileCounts {
  from: string;
  to: string;
  mailboxes: number;
  /** Captured item versions in range that convert has not fanned out yet (no mailbox knows of them). */
  notConverted: number;
  notConvertedKeys: string[];
  /** Mailboxes that could not be listed; their expected items count as missing. */
  unreadable: number;
  /** Nothing missing, duplicated, unconverted or unreadable. */
  complete: boolean;
  perMailbox: MailboxReconciliation[];
}

interface ExpectedRow { itemKey: string; status: DeliveryStatus; graphMessageId?: string }

/**
 * Source × mapping (the deliveries ledger rows convert wrote) against what each mailbox holds,
 * for the items whose time is in the range. Read-only: it never writes to storage or a mailbox.
 */
export class Reconciler {
  constructor(
    private readonly storage: StorageAccount,
    private readonly inventory: MailboxInventory,
    private readonly parallelMailboxes = DEFAULT_PARALLEL_MAILBOXES,
  ) {}

  async reconcile(range: ReconcileRange): Promise<Reconciliation> {
    const [expectedByMailbox, notConvertedKeys, userIds] = await Promise.all([this.expected(range), this.notConverted(range), this.userIds()]);
    const mailboxes = [...expectedByMailbox.keys()].sort();
    const perMailbox = await mapLimited(mailboxes, this.parallelMailboxes, async (mailbox) => {
      const expected = expectedByMailbox.get(mailbox)!;
      try {
        const held = await this.inventory.heldIn({ mailbox, userId: userIds.get(mailbox) ?? mailbox }, range);
        return compare(mailbox, expected, held);
      } catch (err) {
        return { ...compare(mailbox, expected, []), error: (err as Error).message.slice(0, 300) };
      }
    });
    const sum = (pick: (m: MailboxReconciliation) => number) => perMailbox.reduce((n, m) => n + pick(m), 0);
    const result = {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      mailboxes: perMailbox.length,
      expected: sum((m) => m.expected),
      found: sum((m) => m.found),
      missing: sum((m) => m.missing),
      duplicates: sum((m) => m.duplicates),
      unexpected: sum((m) => m.unexpected),
      ledgerDelivered: sum((m) => m.ledgerDelivered),
      notInLedger: sum((m) => m.notInLedger),
      ledgerWithoutMessage: sum((m) => m.ledgerWithoutMessage),
      notConverted: notConvertedKeys.length,
      notConvertedKeys: notConvertedKeys.slice(0, MAX_LISTED_KEYS),
      unreadable: perMailbox.filter((m) => m.error).length,
      perMailbox,
    };
    return { ...result, complete: result.missing === 0 && result.duplicates === 0 && result.notConverted === 0 && result.unreadable === 0 };
  }

  private async expected(range: ReconcileRange): Promise<Map<string, Map<string, ExpectedRow>>> {
    // itemTime is written as toISOString(), so string order is time order and the table can filter.
    const filter = odata`itemTime ge ${range.from.toISOString()} and itemTime lt ${range.to.toISOString()}`;
    const byMailbox = new Map<string, Map<string, ExpectedRow>>();
    const rows = this.storage.table(TABLES.deliveries).listEntities<DeliveryRow>({
      queryOptions: { filter, select: ['mailbox', 'itemKey', 'status', 'graphMessageId', 'itemTime'] },
    });
    for await (const row of rows) {
      if (!EXPECTED.has(row.status) || !inRange(row.itemTime, range)) continue;
      let keys = byMailbox.get(row.mailbox);
      if (!keys) byMailbox.set(row.mailbox, (keys = new Map()));
      keys.set(row.itemKey, { itemKey: row.itemKey, status: row.status, graphMessageId: row.graphMessageId });
    }
    return byMailbox;
  }

  private async notConverted(range: ReconcileRange): Promise<string[]> {
    const keys: string[] = [];
    const rows = this.storage.table(TABLES.items).listEntities<ItemRow>({ queryOptions: { filter: odata`state eq ${'captured'}` } });
    for await (const row of rows) if (inRange(row.itemTime, range)) keys.push(row.itemKey);
    return keys.sort();
  }

  /** The mapping cache knows each mailbox's directory id; the address works as a fallback. */
  private async userIds(): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    const rows = this.storage.table(TABLES.people).listEntities<{ userId?: string; mail?: string; found?: boolean }>();
    for await (const row of rows) if (row.found && row.userId && row.mail) ids.set(row.mail, row.userId);
    return ids;
  }
}

function compare(mailbox: string, expected: Map<string, ExpectedRow>, held: HeldMessage[]): MailboxReconciliation {
  const copies = new Map<string, string[]>();
  for (const m of held) {
    if (!m.itemKey) continue; // not written by the archiver
    copies.set(m.itemKey, [...(copies.get(m.itemKey) ?? []), m.id]);
  }
  const missingKeys = [...expected.keys()].filter((k) => !copies.has(k));
  const duplicateKeys = [...copies.entries()].filter(([, ids]) => ids.length > 1).map(([k]) => k);
  const unexpectedKeys = [...copies.keys()].filter((k) => !expected.has(k));
  const rows = [...expected.values()];
  const delivered = rows.filter((r) => r.status === 'delivered');
  return {
    mailbox,
    expected: expected.size,
    found: expected.size - missingKeys.length,
    missing: missingKeys.length,
    duplicates: duplicateKeys.length,
    unexpected: unexpectedKeys.length,
    ledgerDelivered: delivered.length,
    notInLedger: rows.filter((r) => r.status !== 'delivered' && copies.has(r.itemKey)).length,
    ledgerWithoutMessage: delivered.filter((r) => !copies.has(r.itemKey)).length,
    missingKeys: missingKeys.sort().slice(0, MAX_LISTED_KEYS),
    duplicateKeys: duplicateKeys.sort().slice(0, MAX_LISTED_KEYS),
    unexpectedKeys: unexpectedKeys.sort().slice(0, MAX_LISTED_KEYS),
  };
}

function inRange(time: string | undefined, range: ReconcileRange): boolean {
  const t = Date.parse(time ?? '');
  return t >= range.from.getTime() && t < range.to.getTime();
}


/** The short form the CLI prints and the tests assert on. */
export function reconciliationSummary(r: Reconciliation) {
  return {
    expected: r.expected, found: r.found, missing: r.missing, duplicates: r.duplicates, unexpected: r.unexpected,
    mailboxes: r.mailboxes, ledgerDelivered: r.ledgerDelivered, notInLedger: r.notInLedger, ledgerWithoutMessage: r.ledgerWithoutMessage,
    notConverted: r.notConverted, unreadable: r.unreadable, complete: r.complete, from: r.from, to: r.to,
  };
}
