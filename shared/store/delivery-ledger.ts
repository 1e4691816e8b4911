import type { TableEntityResult } from '@azure/data-tables';
import type { StorageAccount } from './storage-account';
import { TABLES } from './names';
import { tableKey } from './keys';
import { stripUndefined } from './error-log';
import { ClaimLostError } from '../errors';
import { MailboxRegistry } from './mailbox-registry';

export type DeliveryStatus = 'pending' | 'inProgress' | 'delivered' | 'failed' | 'notDelivered';

export interface DeliveryRow {
  mailbox: string;
  itemKey: string;
  status: DeliveryStatus;
  kind?: string;
  chatId?: string;
  itemTime?: string;
  attempts?: number;
  claimedUntil?: string;
  graphMessageId?: string;
  deliveredAt?: string;
  reason?: string;
  size?: number;
  /** How many files travel with the message (reconciliation checks that each arrived once). */
  files?: number;
}

export type Claim =
  | { outcome: 'claimed'; etag: string; uncertain: boolean; attempts: number; claimedUntil: Date }
  | { outcome: 'alreadyDelivered'; graphMessageId?: string }
  | { outcome: 'busy'; retryAfterSeconds: number };

/** A claim's current ETag and end, after it was taken or renewed. */
export interface ClaimState { etag: string; claimedUntil: Date }

// Twice the time a write the client gave up on is given to land (composition.ts sets it from the
// Graph client's time-out), so a worker that cannot renew stops writing that long before another
// one can claim the pair.
const DEFAULT_CLAIM_SECONDS = 240;

/**
 * The deliveries ledger: PartitionKey = mailbox, RowKey = item version. It is also the lock
 * that keeps one (mailbox, item) pair with one worker: a claim is an ETag-conditional write, and
 * every later write of that worker is conditional on the claim's ETag (fencing), so a worker whose
 * claim lapsed and was taken over can change nothing.
 */
export class DeliveryLedger {
  readonly claimSeconds: number;

  private readonly mailboxes: MailboxRegistry;

  constructor(private readonly account: StorageAccount, opts: { claimSeconds?: number } = {}) {
    this.claimSeconds = opts.claimSeconds ?? DEFAULT_CLAIM_SECONDS;
    this.mailboxes = new MailboxRegistry(account);
  }

  private get table() {
    return this.account.table(TABLES.deliveries);
  }

  private keys(mailbox: string, itemKey: string) {
    return { partitionKey: tableKey(mailbox), rowKey: tableKey(itemKey) };
  }

  async get(mailbox: string, itemKey: string): Promise<TableEntityResult<DeliveryRow> | undefined> {
    const k = this.keys(mailbox, itemKey);
    try {
      return await this.table.getEntity<DeliveryRow>(k.partitionKey, k.rowKey);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Written by convert before the deliver message is sent; never downgrades a later state. */
  async recordPending(row: Omit<DeliveryRow, 'status'>): Promise<void> {
    await this.mailboxes.register(row.mailbox);
    try {
      await this.table.createEntity({ ...this.keys(row.mailbox, row.itemKey), ...stripUndefined(row), status: 'pending', attempts: 0 });
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
  }

  async recordNotDelivered(row: Omit<DeliveryRow, 'status'> & { reason: string }): Promise<void> {
    await this.mailboxes.register(row.mailbox);
    const existing = await this.get(row.mailbox, row.itemKey);
    if (existing?.status === 'delivered') return;
    await this.table.upsertEntity({ ...this.keys(row.mailbox, row.itemKey), ...stripUndefined(row), status: 'notDelivered' }, 'Merge');
  }

  /**
   * Takes the (mailbox, item) pair for one worker. `uncertain` means an earlier attempt may have
   * created the message already (or the ledger lost its row), so the mailbox must be checked.
   */
  async claim(mailbox: string, itemKey: string, base: Partial<DeliveryRow>, now = new Date()): Promise<Claim> {
    const until = new Date(now.getTime() + this.claimSeconds * 1000);
    const existing = await this.get(mailbox, itemKey);
    if (existing?.status === 'delivered') return { outcome: 'alreadyDelivered', graphMessageId: existing.graphMessageId };
    if (existing?.status === 'inProgress' && existing.claimedUntil && Date.parse(existing.claimedUntil) > now.getTime()) {
      return { outcome: 'busy', retryAfterSeconds: Math.ceil((Date.parse(existing.claimedUntil) - now.getTime()) / 1000) + 1 };
    }
    const k = this.keys(mailbox, itemKey);
    const attempts = (existing?.attempts ?? 0) + 1;
    const entity = { ...k, ...stripUndefined(base), mailbox, itemKey, status: 'inProgress' as const, attempts, claimedUntil: until.toISOString() };
    try {
      if (existing) {
        const res = await this.table.updateEntity(entity, 'Merge', { etag: existing.etag });
        return { outcome: 'claimed', etag: res.etag!, uncertain: attempts > 1, attempts, claimedUntil: until };
      }
      await this.mailboxes.register(mailbox);
      const res = await this.table.createEntity(entity);
      // No row at all: convert always writes one first, so the ledger lost it. Check the mailbox.
      return { outcome: 'claimed', etag: res.etag!, uncertain: true, attempts, claimedUntil: until };
    } catch (err) {
      if (statusOf(err) === 409 || statusOf(err) === 412) return { outcome: 'busy', retryAfterSeconds: 2 };
      throw err;
    }
  }

  /** Extends a held claim; ClaimLostError when another worker has taken it since. */
  async renew(mailbox: string, itemKey: string, etag: string, opts: { now?: Date; abortSignal?: AbortSignal } = {}): Promise<ClaimState> {
    const until = new Date((opts.now ?? new Date()).getTime() + this.claimSeconds * 1000);
    const newEtag = await this.fenced(etag, { claimedUntil: until.toISOString() }, mailbox, itemKey, opts.abortSignal);
    return { etag: newEtag, claimedUntil: until };
  }

  async markDelivered(mailbox: string, itemKey: string, graphMessageId: string, etag: string, now = new Date()): Promise<void> {
    await this.fenced(etag, { status: 'delivered', graphMessageId, deliveredAt: now.toISOString(), claimedUntil: '', reason: '' }, mailbox, itemKey);
  }

  async markFailed(mailbox: string, itemKey: string, reason: string, etag: string): Promise<void> {
    await this.fenced(etag, { status: 'failed', reason: reason.slice(0, 2000), claimedUntil: '' }, mailbox, itemKey);
  }

  /**
   * Keeps the pair for `seconds` more without renewing: a write whose answer was lost may still
   * land, and no attempt may look for it before it would have.
   */
  async hold(mailbox: string, itemKey: string, etag: string, seconds: number, now = new Date()): Promise<void> {
    await this.fenced(etag, { claimedUntil: new Date(now.getTime() + seconds * 1000).toISOString() }, mailbox, itemKey);
  }

  /**
   * Gives the claim back so a rescheduled message can take it at once. `attempts` rewinds the
   * count when the attempt never reached the mailbox, so the next one need not look it up.
   */
  async release(mailbox: string, itemKey: string, etag: string, opts: { attempts?: number } = {}): Promise<void> {
    await this.fenced(etag, { claimedUntil: '', ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}) }, mailbox, itemKey);
  }

  /** A write that holds only while the row still carries the claim's ETag. */
  private async fenced(etag: string, fields: Partial<DeliveryRow>, mailbox: string, itemKey: string, abortSignal?: AbortSignal): Promise<string> {
    try {
      const res = await this.table.updateEntity({ ...this.keys(mailbox, itemKey), ...fields }, 'Merge', { etag, abortSignal });
      return res.etag!;
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 404) throw new ClaimLostError(`the delivery claim on ${itemKey} was taken over`);
      throw err;
    }
  }

  async *all(): AsyncIterable<DeliveryRow> {
    yield* this.table.listEntities<DeliveryRow>({ queryOptions: { select: ['mailbox', 'itemKey', 'status', 'kind', 'reason', 'graphMessageId'] } });
  }
}

export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}
