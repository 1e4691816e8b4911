import { createHash } from 'node:crypto';
import type { StorageAccount } from '../../shared/store/storage-account';
import { ItemLedger, type ItemRow } from '../../shared/store/item-ledger';
import { MailboxRegistry } from '../../shared/store/mailbox-registry';
import { ITEM_KEY_PROPERTY } from '../../shared/mailbox/mapi-properties';
import { mapLimited } from '../../shared/parallel';
import type { GraphDouble } from '../../dev/doubles/graph/server';
import { TABLES } from '../../shared/store/names';
import { TalliedPartition, tallyGroups } from '../../shared/store/ledger-tally';
import { tableKey } from '../../shared/store/keys';

// A tenant's history written straight into storage through the archiver's own store classes
// (ItemLedger, DeliveryLedger, MailboxRegistry), not through Graph or the pipeline, so whatever
// those classes maintain besides the rows is maintained too. The Graph double's mailboxes get
// the matching messages put straight into its state. Every item is a pure function of its index,
// so a history can be written in parts (a tenth first, then the rest) and still add up to one.

export type SyntheticStatus = 'delivered' | 'failed' | 'pending' | 'notDelivered';

export interface SyntheticHistoryOptions {
  /** Item versions in the whole history. */
  items: number;
  /** Member mailboxes (each a user of the Graph double). */
  mailboxes: number;
  /** Days the items' times spread over, ending an hour before `end`. */
  days: number;
  end: Date;
  /** Participants without a mailbox: their copies are notDelivered rows. */
  guests?: number;
}

export interface SyntheticDelivery {
  mailbox: string;
  status: SyntheticStatus;
}

export interface SyntheticItem {
  index: number;
  itemKey: string;
  kind: string;
  chatId: string;
  /** Whole seconds: Exchange keeps message times to the second. */
  itemTime: string;
  state: ItemRow['state'];
  deliveries: SyntheticDelivery[];
}

/** What a part of the history wrote, by kind of row. */
export interface HistoryCounts {
  items: number;
  converted: number;
  captured: number;
  invalid: number;
  deliveries: number;
  byStatus: Record<SyntheticStatus, number>;
  messagesSeeded: number;
}

const KINDS = ['post', 'post', 'post', 'post', 'post', 'post', 'post', 'task', 'note', 'event'];

export const emptyCounts = (): HistoryCounts => ({
  items: 0,
  converted: 0,
  captured: 0,
  invalid: 0,
  deliveries: 0,
  byStatus: { delivered: 0, failed: 0, pending: 0, notDelivered: 0 },
  messagesSeeded: 0,
});

export function addCounts(a: HistoryCounts, b: HistoryCounts): HistoryCounts {
  const byStatus = { ...a.byStatus };
  for (const s of Object.keys(byStatus) as SyntheticStatus[]) byStatus[s] += b.byStatus[s];
  return {
    items: a.items + b.items,
    converted: a.converted + b.converted,
    captured: a.captured + b.captured,
    invalid: a.invalid + b.invalid,
    deliveries: a.deliveries + b.deliveries,
    byStatus,
    messagesSeeded: a.messagesSeeded + b.messagesSeeded,
  };
}

export class SyntheticHistory {
  readonly mailboxes: string[];
  readonly guests: string[];
  readonly from: Date;
  readonly to: Date;

  constructor(readonly opts: SyntheticHistoryOptions) {
    this.mailboxes = Array.from(
      { length: opts.mailboxes },
      (_, i) => `member${String(i).padStart(4, '0')}@size.example`,
    );
    this.guests = Array.from(
      { length: opts.guests ?? 20 },
      (_, i) => `guest${String(i).padStart(3, '0')}@partner.example`,
    );
    this.to = new Date(Math.floor(opts.end.getTime() / 1000) * 1000 - 3_600_000);
    this.from = new Date(this.to.getTime() - opts.days * 86_400_000);
  }

  /** The Graph double's users for the member mailboxes. */
  users() {
    return this.mailboxes.map((mail, i) => ({
      id: `u-size-${String(i).padStart(4, '0')}`,
      mail,
      userPrincipalName: mail,
      displayName: `Member ${i}`,
    }));
  }

  /**
   * Item `index`: 98% converted (fanned out to 2-18 mailboxes of one "chat", about 10 on average),
   * 1.5% captured but not converted, 0.5% invalid. Of the copies: 92% delivered, 3% failed, 2%
   * pending; each item also has a notDelivered row for a guest one time in three.
   */
  item(index: number): SyntheticItem {
    const h = hash(index);
    const span = this.to.getTime() - this.from.getTime() - 1000;
    const time = new Date(Math.floor((this.from.getTime() + (h.readUIntBE(0, 6) % span)) / 1000) * 1000);
    const kind = KINDS[h[6]! % KINDS.length]!;
    const chat = (h[12]! * 256 + h[13]!) % 300;
    const itemKey = `${kind}:syn-${index}:${time.toISOString()}`;
    const roll = (h[7]! * 256 + h[8]!) % 1000;
    const state: ItemRow['state'] = roll < 15 ? 'captured' : roll < 20 ? 'invalid' : 'converted';
    const deliveries: SyntheticDelivery[] = [];
    if (state === 'converted') {
      const count = 2 + (h[9]! % 17);
      const first = (chat * 37) % this.mailboxes.length;
      for (let r = 0; r < count && r < this.mailboxes.length; r++) {
        const s = (hash(index * 64 + r)[0]! * 256 + hash(index * 64 + r)[1]!) % 100;
        deliveries.push({
          mailbox: this.mailboxes[(first + r) % this.mailboxes.length]!,
          status: s < 95 ? 'delivered' : s < 98 ? 'failed' : 'pending',
        });
      }
      if (h[10]! % 3 === 0)
        deliveries.push({ mailbox: this.guests[h[11]! % this.guests.length]!, status: 'notDelivered' });
    }
    return { index, itemKey, kind, chatId: `chat-${chat}`, itemTime: time.toISOString(), state, deliveries };
  }

  /**
   * Writes items [fromIndex, toIndex): item rows in batch transactions (ItemLedger.recordMany),
   * delivery rows in their final state in batch transactions of 99 per mailbox partition, each with
   * its partition's counts moved in the same transaction (TalliedPartition, as the ledgers do it),
   * and the delivered copies into the Graph double. Everything goes to Azurite.
   */
  async write(
    storage: StorageAccount,
    graph: Pick<GraphDouble, 'seedMessages'>,
    fromIndex: number,
    toIndex: number,
    opts: { concurrency?: number; log?: (line: string) => void } = {},
  ): Promise<HistoryCounts> {
    await storage.ensureCreated();
    const items = new ItemLedger(storage);
    const deliveries = new TalliedPartition(storage.table(TABLES.deliveries));
    const registry = new MailboxRegistry(storage);
    for (const m of [...this.mailboxes, ...this.guests]) await registry.register(m);
    const counts = emptyCounts();
    const CHUNK = 2000;
    const started = Date.now();
    const done = new Date(this.to.getTime() + 1800_000).toISOString();
    for (let start = fromIndex; start < toIndex; start += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, toIndex - start) }, (_, i) => this.item(start + i));
      const now = new Date(this.to.getTime() + 1800_000).toISOString();
      await items.recordMany(
        chunk.map((it) => ({
          itemKey: it.itemKey,
          kind: it.kind,
          state: it.state,
          sourceId: `syn-${it.index}`,
          chatId: it.chatId,
          itemTime: it.itemTime,
          capturedAt: now,
          ...(it.state === 'converted'
            ? {
                convertedAt: now,
                recipients: it.deliveries.filter((d) => d.status !== 'notDelivered').length,
                attachments: 0,
              }
            : {}),
          ...(it.state === 'invalid' ? { reason: 'synthetic: malformed record' } : {}),
        })),
      );
      const pairs = chunk.flatMap((it) => it.deliveries.map((d) => ({ it, d })));
      const rowsByMailbox = new Map<string, typeof pairs>();
      for (const pair of pairs) {
        let list = rowsByMailbox.get(pair.d.mailbox);
        if (!list) rowsByMailbox.set(pair.d.mailbox, (list = []));
        list.push(pair);
      }
      const batches = [...rowsByMailbox.entries()].flatMap(([mailbox, list]) =>
        Array.from({ length: Math.ceil(list.length / 99) }, (_, k) => ({
          mailbox,
          rows: list.slice(k * 99, k * 99 + 99),
        })),
      );
      await mapLimited(batches, opts.concurrency ?? 16, async ({ mailbox, rows }) => {
        const partitionKey = tableKey(mailbox);
        const entities = rows.map(({ it, d }) => ({
          partitionKey,
          rowKey: tableKey(it.itemKey),
          mailbox,
          itemKey: it.itemKey,
          kind: it.kind,
          chatId: it.chatId,
          itemTime: it.itemTime,
          size: 0,
          files: 0,
          status: d.status,
          ...(d.status === 'notDelivered'
            ? { reason: 'no Microsoft 365 mailbox' }
            : { attempts: d.status === 'pending' ? 0 : 1 }),
          ...(d.status === 'delivered'
            ? { graphMessageId: `AAMkAG-syn-${it.index}-${d.mailbox}`, deliveredAt: done }
            : {}),
          ...(d.status === 'failed' ? { reason: 'synthetic: Graph answered 400 ErrorInvalidRecipients' } : {}),
        }));
        await deliveries.write(
          partitionKey,
          entities.map((e) => ['create', e] as const),
          entities.map((e) => ({ groups: tallyGroups(e.itemTime, e.kind), bucket: e.status, delta: 1 as const })),
        );
      });
      const byMailbox = new Map<
        string,
        Array<{
          receivedDateTime: string;
          subject: string;
          singleValueExtendedProperties: Array<{ id: string; value: string }>;
        }>
      >();
      for (const { it, d } of pairs) {
        counts.deliveries++;
        counts.byStatus[d.status]++;
        if (d.status !== 'delivered') continue;
        let list = byMailbox.get(d.mailbox);
        if (!list) byMailbox.set(d.mailbox, (list = []));
        list.push({
          receivedDateTime: it.itemTime,
          subject: `${it.kind} ${it.index}`,
          singleValueExtendedProperties: [{ id: ITEM_KEY_PROPERTY, value: it.itemKey }],
        });
      }
      for (const [mailbox, messages] of byMailbox) counts.messagesSeeded += graph.seedMessages(mailbox, messages);
      for (const it of chunk) {
        counts.items++;
        counts[it.state]++;
      }
      opts.log?.(
        `synthetic history: ${start + chunk.length - fromIndex}/${toIndex - fromIndex} items, ${counts.deliveries} delivery rows, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }
    return counts;
  }
}

function hash(n: number): Buffer {
  return createHash('sha256').update(`synthetic-history:${n}`).digest();
}
