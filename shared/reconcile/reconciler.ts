import { odata } from '@azure/data-tables';
import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import type { DeliveryRow, DeliveryStatus } from '../store/delivery-ledger';
import type { ItemRow } from '../store/item-ledger';
import type { HeldMessage, MailboxInventory } from './mailbox-inventory';
import { tableKey } from '../store/keys';
import { isNotFound } from '../store/storage-errors';
import type { ArchiveBlobs } from '../store/archive-blobs';
import { CONTAINERS } from '../store/names';
import type { ArchiveMessage } from '../archive/archive-message';
import { messageBlobName } from '../store/blob-names';
import { attachmentIdentity, compareAttachments, type ExpectedAttachment } from '../mailbox/attachment-identity';
import type { MailboxRef } from '../mailbox/mailbox-target';
import type { ReconcileRange } from './mailbox-inventory';

export type { ReconcileRange };

/**
 * How a reconciliation's `from`/`to` are read (parseDateRange in shared/operations/http-input.ts): both
 * optional, defaulting to the retention period up to now, and widened to whole seconds (from down,
 * to up) so an item's time is in range exactly when its mailbox copy's receivedDateTime is.
 */
export function reconcileRangeRules(retentionDays: number, now = new Date()) {
  return { defaults: { from: new Date(now.getTime() - retentionDays * 86_400_000), to: now }, wholeSeconds: true };
}

/** Ledger states that mean "this mailbox should hold this item": convert wrote them from the mapping. */
const EXPECTED: ReadonlySet<DeliveryStatus> = new Set(['pending', 'inProgress', 'delivered', 'failed']);
/** Item keys listed per mailbox and problem; counts are always complete. */
const MAX_LISTED_KEYS = 50;
/** Items whose expected files are kept while one mailbox is compared. */
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

export interface ExpectedRow {
  itemKey: string;
  status: DeliveryStatus;
  graphMessageId?: string;
  files?: number;
}

/** Captured item versions in a range that convert has not fanned out yet: the count and the first keys. */
export interface NotConverted {
  count: number;
  keys: string[];
}

/**
 * Source × mapping (the deliveries ledger rows convert wrote) against what each mailbox holds,
 * for the items whose time is in the range, one mailbox at a time: each step reads one ledger
 * partition and pages one mailbox, so memory grows with a mailbox, never with the tenant.
 * Read-only: it never writes to storage or a mailbox. Jobs drive it (reconcile-jobs.ts).
 */
export class Reconciler {
  private readonly expectedFiles = new Map<string, Promise<ExpectedAttachment[]>>();

  constructor(
    private readonly storage: StorageAccount,
    private readonly blobs: ArchiveBlobs,
    private readonly inventory: MailboxInventory,
  ) {}

  /**
   * One mailbox: undefined when the ledger expects nothing of it in the range (it is then not
   * listed, as it never was: a mailbox without ledger rows in range is not part of the answer).
   */
  async mailbox(mailbox: string, range: ReconcileRange): Promise<MailboxReconciliation | undefined> {
    const expected = await this.expected(mailbox, range);
    if (!expected.size) return undefined;
    const target = { mailbox, userId: await this.userId(mailbox) };
    try {
      const held = await this.inventory.heldIn(target, range);
      const messages = compareMailbox(mailbox, expected, held);
      try {
        return { ...messages, ...(await this.compareFiles(target, expected, held)) };
      } catch (err) {
        // The messages were counted; only the file check could not be completed.
        return { ...messages, error: `attachments not checked: ${(err as Error).message}`.slice(0, 300) };
      }
    } catch (err) {
      return { ...compareMailbox(mailbox, expected, []), error: (err as Error).message.slice(0, 300) };
    }
  }

  /** Pages the items table on its state; keeps the count and the first keys in key order only. */
  async notConverted(range: ReconcileRange): Promise<NotConverted> {
    const filter = odata`state eq ${'captured'} and itemTime ge ${range.from.toISOString()} and itemTime lt ${range.to.toISOString()}`;
    const rows = this.storage
      .table(TABLES.items)
      .listEntities<ItemRow>({ queryOptions: { filter, select: ['itemKey', 'itemTime'] } });
    let count = 0;
    let keys: string[] = [];
    for await (const row of rows) {
      if (!inRange(row.itemTime, range)) continue;
      count++;
      keys.push(row.itemKey);
      if (keys.length >= 4 * MAX_LISTED_KEYS) keys = keys.sort().slice(0, MAX_LISTED_KEYS);
    }
    return { count, keys: keys.sort().slice(0, MAX_LISTED_KEYS) };
  }

  /**
   * Each held copy of an expected item against the item's files, compared on the identity every
   * attachment was created with. Only messages that should carry files, or do, cost a request.
   */
  async compareFiles(target: MailboxRef, expected: Map<string, ExpectedRow>, held: HeldMessage[]) {
    const out = {
      attachmentsMissing: 0,
      attachmentsDuplicated: 0,
      attachmentsMissingKeys: [] as string[],
      attachmentsDuplicatedKeys: [] as string[],
    };
    for (const message of held) {
      const row = message.itemKey ? expected.get(message.itemKey) : undefined;
      // Rows written before the ledger counted files say nothing: read the archive message then.
      if (!row || (row.files === 0 && !message.hasAttachments)) continue;
      const files = await this.filesOf(row.itemKey);
      if (!files.length && !message.hasAttachments) continue;
      const { missing, duplicated } = compareAttachments(files, await this.inventory.attachmentsOf(target, message.id));
      out.attachmentsMissing += missing.length;
      out.attachmentsDuplicated += duplicated;
      if (missing.length && out.attachmentsMissingKeys.length < MAX_LISTED_KEYS)
        out.attachmentsMissingKeys.push(row.itemKey);
      if (duplicated && out.attachmentsDuplicatedKeys.length < MAX_LISTED_KEYS)
        out.attachmentsDuplicatedKeys.push(row.itemKey);
    }
    return out;
  }

  private filesOf(itemKey: string): Promise<ExpectedAttachment[]> {
    let files = this.expectedFiles.get(itemKey);
    if (!files) {
      files = this.blobs.getJson<ArchiveMessage>(CONTAINERS.messages, messageBlobName(itemKey)).then((m) =>
        (m.attachments ?? []).map((file, i) => ({
          contentId: attachmentIdentity(file, i),
          name: file.name,
          size: file.size,
        })),
      );
      // A failed read is not remembered: the next mailbox holding the item tries again.
      files.catch(() => this.expectedFiles.delete(itemKey));
      if (this.expectedFiles.size >= EXPECTED_FILES_CACHE)
        this.expectedFiles.delete(this.expectedFiles.keys().next().value!);
      this.expectedFiles.set(itemKey, files);
    }
    return files;
  }

  /** One ledger partition, filtered on item time; rows without an item key (aggregates) are not deliveries. */
  private async expected(mailbox: string, range: ReconcileRange): Promise<Map<string, ExpectedRow>> {
    // itemTime is written as toISOString(), so string order is time order and the table can filter.
    const filter = odata`PartitionKey eq ${tableKey(mailbox)} and itemTime ge ${range.from.toISOString()} and itemTime lt ${range.to.toISOString()}`;
    const keys = new Map<string, ExpectedRow>();
    const rows = this.storage.table(TABLES.deliveries).listEntities<DeliveryRow>({
      queryOptions: { filter, select: ['mailbox', 'itemKey', 'status', 'graphMessageId', 'itemTime', 'files'] },
    });
    for await (const row of rows) {
      if (!row.itemKey || row.mailbox !== mailbox || !EXPECTED.has(row.status) || !inRange(row.itemTime, range))
        continue;
      keys.set(row.itemKey, {
        itemKey: row.itemKey,
        status: row.status,
        graphMessageId: row.graphMessageId,
        files: row.files,
      });
    }
    return keys;
  }

  /** The mapping cache knows the mailbox's directory id (a point read); the address works as a fallback. */
  private async userId(mailbox: string): Promise<string> {
    try {
      const row = await this.storage
        .table(TABLES.people)
        .getEntity<{ userId?: string; mail?: string; found?: boolean }>('email', tableKey(mailbox));
      if (row.found && row.userId && row.mail === mailbox) return row.userId;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return mailbox;
  }
}

/** The answer for a range from its per-mailbox answers (in mailbox order) and the unconverted items. */
export function summarize(
  range: ReconcileRange,
  perMailbox: MailboxReconciliation[],
  notConverted: NotConverted,
): Reconciliation {
  const firstPairs = (pick: (m: MailboxReconciliation) => string[]) =>
    perMailbox.flatMap((m) => pick(m).map((k) => `${m.mailbox} ${k}`)).slice(0, MAX_LISTED_KEYS);
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
    notConverted: notConverted.count,
    notConvertedKeys: notConverted.keys.slice(0, MAX_LISTED_KEYS),
    unreadable: perMailbox.filter((m) => m.error).length,
    perMailbox,
  };
  const complete =
    result.missing === 0 &&
    result.duplicates === 0 &&
    result.attachmentsMissing === 0 &&
    result.attachmentsDuplicated === 0 &&
    result.notConverted === 0 &&
    result.unreadable === 0;
  return { ...result, complete };
}

/** Exit/alert rule of `--reconcile`: any message or file missing or duplicated. */
export function hasLossOrDuplicate(r: Reconciliation): boolean {
  return r.missing > 0 || r.duplicates > 0 || r.attachmentsMissing > 0 || r.attachmentsDuplicated > 0;
}

/** One mailbox's messages against the ledger rows that say it should hold them. */
export function compareMailbox(
  mailbox: string,
  expected: Map<string, ExpectedRow>,
  held: HeldMessage[],
): MailboxReconciliation {
  const noFileProblems = {
    attachmentsMissing: 0,
    attachmentsDuplicated: 0,
    attachmentsMissingKeys: [],
    attachmentsDuplicatedKeys: [],
  };
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
    expected: r.expected,
    found: r.found,
    missing: r.missing,
    duplicates: r.duplicates,
    unexpected: r.unexpected,
    attachmentsMissing: r.attachmentsMissing,
    attachmentsDuplicated: r.attachmentsDuplicated,
    attachmentsMissingKeys: r.attachmentsMissingKeys,
    attachmentsDuplicatedKeys: r.attachmentsDuplicatedKeys,
    mailboxes: r.mailboxes,
    ledgerDelivered: r.ledgerDelivered,
    notInLedger: r.notInLedger,
    ledgerWithoutMessage: r.ledgerWithoutMessage,
    notConverted: r.notConverted,
    unreadable: r.unreadable,
    complete: r.complete,
    from: r.from,
    to: r.to,
  };
}
