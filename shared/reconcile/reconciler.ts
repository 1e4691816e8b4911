import { odata } from '@azure/data-tables';
import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import type { DeliveryRow, DeliveryStatus } from '../store/delivery-ledger';
import type { ItemRow } from '../store/item-ledger';
import type { HeldMessage, MailboxInventory } from './mailbox-inventory';
import type { ReconcileRange } from './reconcile-range';
import { mapLimited } from '../parallel';
import type { ArchiveBlobs } from '../store/archive-blobs';
import { CONTAINERS } from '../store/names';
import type { ArchiveMessage } from '../archive/archive-message';
import { messageBlobName } from '../conversion/item-converter';
import { attachmentIdentity, compareAttachments, type ExpectedAttachment } from '../mailbox/attachment-identity';
import type { MailboxRef } from '../mailbox/mailbox-target';

/** Ledger states that mean "this mailbox should hold this item": convert wrote them from the mapping. */
const EXPECTED: ReadonlySet<DeliveryStatus> = new Set(['pending', 'inProgress', 'delivered', 'failed']);
/** Item keys listed per mailbox and problem; counts are always complete. */
const MAX_LISTED_KEYS = 50;
/** Mailboxes listed at once; each sees one request at a time, so Outlook's 4-per-mailbox limit holds. */
const DEFAULT_PARALLEL_MAILBOXES = 8;
/** Items whose expected files are kept while a reconciliation runs (one item reaches many mailboxes). */
const EXPECTED_FILES_CACHE = 2_000;

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
  /** Files of held messages that the message does not carry. */
  attachmentsMissing: number;
  /** Extra copies of files that a held message carries more than once. */
  attachmentsDuplicated: number;
}

export interface MailboxReconciliation extends ReconcileCounts {
  mailbox: string;
  missingKeys: string[];
  duplicateKeys: string[];
  unexpectedKeys: string[];
  attachmentsMissingKeys: string[];
  attachmentsDuplicatedKeys: string[];
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
  /** First `<mailbox> <item key>` pairs whose message lacks a file, or holds one twice. */
  attachmentsMissingKeys: string[];
  attachmentsDuplicatedKeys: string[];
  /** Nothing missing, duplicated (message or file), unconverted or unreadable. */
  complete: boolean;
  perMailbox: MailboxReconciliation[];
}

interface ExpectedRow { itemKey: string; status: DeliveryStatus; graphMessageId?: string; files?: number }

/**
 * Source × mapping (the deliveries ledger rows convert wrote) against what each mailbox holds,
 * for the items whose time is in the range. Read-only: it never writes to storage or a mailbox.
 */
export class Reconciler {
  private readonly expectedFiles = new Map<string, Promise<ExpectedAttachment[]>>();

  constructor(
    private readonly storage: StorageAccount,
    private readonly blobs: ArchiveBlobs,
    private readonly inventory: MailboxInventory,
    private readonly parallelMailboxes = DEFAULT_PARALLEL_MAILBOXES,
  ) {}

  async reconcile(range: ReconcileRange): Promise<Reconciliation> {
    const [expectedByMailbox, notConvertedKeys, userIds] = await Promise.all([this.expected(range), this.notConverted(range), this.userIds()]);
    const mailboxes = [...expectedByMailbox.keys()].sort();
    const perMailbox = await mapLimited(mailboxes, this.parallelMailboxes, async (mailbox) => {
      const expected = expectedByMailbox.get(mailbox)!;
      const target = { mailbox, userId: userIds.get(mailbox) ?? mailbox };
      try {
        const held = await this.inventory.heldIn(target, range);
        const messages = compare(mailbox, expected, held);
        try {
          return { ...messages, ...(await this.compareFiles(target, expected, held)) };
        } catch (err) {
          // The messages were counted; only the file check could not be completed.
          return { ...messages, error: `attachments not checked: ${(err as Error).message}`.slice(0, 300) };
        }
      } catch (err) {
        return { ...compare(mailbox, expected, []), error: (err as Error).message.slice(0, 300) };
      }
    });
    this.expectedFiles.clear();
    const firstPairs = (pick: (m: MailboxReconciliation) => string[]) => perMailbox.flatMap((m) => pick(m).map((k) => `${m.mailbox} ${k}`)).slice(0, MAX_LISTED_KEYS);
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
      attachmentsMissing: sum((m) => m.attachmentsMissing),
      attachmentsDuplicated: sum((m) => m.attachmentsDuplicated),
      attachmentsMissingKeys: firstPairs((m) => m.attachmentsMissingKeys),
      attachmentsDuplicatedKeys: firstPairs((m) => m.attachmentsDuplicatedKeys),
      notConverted: notConvertedKeys.length,
      notConvertedKeys: notConvertedKeys.slice(0, MAX_LISTED_KEYS),
      unreadable: perMailbox.filter((m) => m.error).length,
      perMailbox,
    };
    const complete = result.missing === 0 && result.duplicates === 0 && result.attachmentsMissing === 0 && result.attachmentsDuplicated === 0 && result.notConverted === 0 && result.unreadable === 0;
    return { ...result, complete };
  }

  /**
   * Each held copy of an expected item against the item's files, compared on the identity every
   * attachment was created with. Only messages that should carry files, or do, cost a request.
   */
  private async compareFiles(target: MailboxRef, expected: Map<string, ExpectedRow>, held: HeldMessage[]) {
    const out = { attachmentsMissing: 0, attachmentsDuplicated: 0, attachmentsMissingKeys: [] as string[], attachmentsDuplicatedKeys: [] as string[] };
    for (const message of held) {
      const row = message.itemKey ? expected.get(message.itemKey) : undefined;
      // Rows written before the ledger counted files say nothing: read the archive message then.
      if (!row || (row.files === 0 && !message.hasAttachments)) continue;
      const files = await this.filesOf(row.itemKey);
      if (!files.length && !message.hasAttachments) continue;
      const { missing, duplicated } = compareAttachments(files, await this.inventory.attachmentsOf(target, message.id));
      out.attachmentsMissing += missing.length;
      out.attachmentsDuplicated += duplicated;
      if (missing.length && out.attachmentsMissingKeys.length < MAX_LISTED_KEYS) out.attachmentsMissingKeys.push(row.itemKey);
      if (duplicated && out.attachmentsDuplicatedKeys.length < MAX_LISTED_KEYS) out.attachmentsDuplicatedKeys.push(row.itemKey);
    }
    return out;
  }

  private filesOf(itemKey: string): Promise<ExpectedAttachment[]> {
    let files = this.expectedFiles.get(itemKey);
    if (!files) {
      files = this.blobs
        .getJson<ArchiveMessage>(CONTAINERS.messages, messageBlobName(itemKey))
        .then((m) => (m.attachments ?? []).map((file, i) => ({ contentId: attachmentIdentity(file, i), name: file.name, size: file.size })));
      // A failed read is not remembered: the next mailbox holding the item tries again.
      files.catch(() => this.expectedFiles.delete(itemKey));
      if (this.expectedFiles.size >= EXPECTED_FILES_CACHE) this.expectedFiles.delete(this.expectedFiles.keys().next().value!);
      this.expectedFiles.set(itemKey, files);
    }
    return files;
  }

  private async expected(range: ReconcileRange): Promise<Map<string, Map<string, ExpectedRow>>> {
    // itemTime is written as toISOString(), so string order is time order and the table can filter.
    const filter = odata`itemTime ge ${range.from.toISOString()} and itemTime lt ${range.to.toISOString()}`;
    const byMailbox = new Map<string, Map<string, ExpectedRow>>();
    const rows = this.storage.table(TABLES.deliveries).listEntities<DeliveryRow>({
      queryOptions: { filter, select: ['mailbox', 'itemKey', 'status', 'graphMessageId', 'itemTime', 'files'] },
    });
    for await (const row of rows) {
      if (!EXPECTED.has(row.status) || !inRange(row.itemTime, range)) continue;
      let keys = byMailbox.get(row.mailbox);
      if (!keys) byMailbox.set(row.mailbox, (keys = new Map()));
      keys.set(row.itemKey, { itemKey: row.itemKey, status: row.status, graphMessageId: row.graphMessageId, files: row.files });
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
  const noFileProblems = { attachmentsMissing: 0, attachmentsDuplicated: 0, attachmentsMissingKeys: [], attachmentsDuplicatedKeys: [] };
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
    ...noFileProblems,
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
    attachmentsMissing: r.attachmentsMissing, attachmentsDuplicated: r.attachmentsDuplicated,
    attachmentsMissingKeys: r.attachmentsMissingKeys, attachmentsDuplicatedKeys: r.attachmentsDuplicatedKeys,
    mailboxes: r.mailboxes, ledgerDelivered: r.ledgerDelivered, notInLedger: r.notInLedger, ledgerWithoutMessage: r.ledgerWithoutMessage,
    notConverted: r.notConverted, unreadable: r.unreadable, complete: r.complete, from: r.from, to: r.to,
  };
}
