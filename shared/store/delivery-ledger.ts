import type { TableEntityResult } from '@azure/data-tables';
import type { StorageAccount } from './storage-account';
import { TABLES } from './names';
import { tableKey } from './keys';
import { stripUndefined } from './error-log';
import { ClaimLostError } from '../errors';
import { MailboxRegistry } from './mailbox-registry';
import { isNotFound, isConflict, isPreconditionFailed } from './storage-errors';
import { movesBetween, TalliedPartition, tallyGroups, type Tally } from './ledger-tally';

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
  | ({ outcome: 'claimed'; uncertain: boolean; attempts: number } & ClaimState)
  | { outcome: 'alreadyDelivered'; graphMessageId?: string }
  | { outcome: 'busy'; retryAfterSeconds: number };

/** A claim's current ETag and end, after it was taken or renewed, and the groups its row is counted in. */
export interface ClaimState {
  etag: string;
  claimedUntil: Date;
  groups: string[];
}

// Twice the time a write the client gave up on is given to land (composition.ts sets it from the
// Graph client's time-out), so a worker that cannot renew stops writing that long before another
// one can claim the pair.
const DEFAULT_CLAIM_SECONDS = 240;
const BUSY_RECHECK_SECONDS = 15;

/**
 * The deliveries ledger: PartitionKey = mailbox, RowKey = item version. It is also the lock
 * that keeps one (mailbox, item) pair with one worker: a claim is an ETag-conditional write, and
 * every later write of that worker is conditional on the claim's ETag (fencing), so a worker whose
 * claim lapsed and was taken over can change nothing.
 */
export class DeliveryLedger {
  readonly claimSeconds: number;

  private readonly mailboxes: MailboxRegistry;
  private readonly tallied: TalliedPartition;

  constructor(
    private readonly account: StorageAccount,
    opts: { claimSeconds?: number } = {},
  ) {
    this.claimSeconds = opts.claimSeconds ?? DEFAULT_CLAIM_SECONDS;
    this.mailboxes = new MailboxRegistry(account);
    this.tallied = new TalliedPartition(account.table(TABLES.deliveries));
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
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Written by convert before the deliver message is sent; never downgrades a later state. */
  async recordPending(row: Omit<DeliveryRow, 'status'>): Promise<void> {
    await this.mailboxes.register(row.mailbox);
    const entity = {
      ...this.keys(row.mailbox, row.itemKey),
      ...stripUndefined(row),
      status: 'pending' as const,
      attempts: 0,
    };
    try {
      await this.tallied.write(entity.partitionKey, [['create', entity]], movesBetween(undefined, counted(entity)));
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  async recordNotDelivered(row: Omit<DeliveryRow, 'status'> & { reason: string }): Promise<void> {
    await this.mailboxes.register(row.mailbox);
    for (let tries = 0; ; tries++) {
      const existing = await this.get(row.mailbox, row.itemKey);
      if (existing?.status === 'delivered') return;
      const entity = {
        ...this.keys(row.mailbox, row.itemKey),
        ...stripUndefined(row),
        status: 'notDelivered' as const,
      };
      try {
        await this.tallied.write(
          entity.partitionKey,
          [existing ? ['update', entity, 'Merge', { etag: existing.etag }] : ['create', entity]],
          movesBetween(counted(existing), counted({ ...existing, ...entity })),
        );
        return;
      } catch (err) {
        if ((!isConflict(err) && !isPreconditionFailed(err)) || tries >= 5) throw err;
      }
    }
  }

  /**
   * Takes the (mailbox, item) pair for one worker. `uncertain` means an earlier attempt may have
   * created the message already (or the ledger lost its row), so the mailbox must be checked.
   */
  async claim(mailbox: string, itemKey: string, base: Partial<DeliveryRow>, now = new Date()): Promise<Claim> {
    const until = new Date(now.getTime() + this.claimSeconds * 1000);
    const existing = await this.get(mailbox, itemKey);
    if (existing?.status === 'delivered')
      return { outcome: 'alreadyDelivered', graphMessageId: existing.graphMessageId };
    if (
      existing?.status === 'inProgress' &&
      existing.claimedUntil &&
      Date.parse(existing.claimedUntil) > now.getTime()
    ) {
      // An attempt usually ends long before its claim would lapse: look again soon, not at the lapse.
      return {
        outcome: 'busy',
        retryAfterSeconds: Math.min(
          BUSY_RECHECK_SECONDS,
          Math.ceil((Date.parse(existing.claimedUntil) - now.getTime()) / 1000) + 1,
        ),
      };
    }
    const k = this.keys(mailbox, itemKey);
    const attempts = (existing?.attempts ?? 0) + 1;
    const entity = {
      ...k,
      ...stripUndefined(base),
      mailbox,
      itemKey,
      status: 'inProgress' as const,
      attempts,
      claimedUntil: until.toISOString(),
    };
    const claimed = { ...existing, ...entity };
    const groups = tallyGroups(claimed.itemTime, claimed.kind);
    try {
      const moves = movesBetween(counted(existing), counted(claimed));
      if (existing && !moves.length) {
        const res = await this.table.updateEntity(entity, 'Merge', { etag: existing.etag });
        return { outcome: 'claimed', etag: res.etag!, uncertain: attempts > 1, attempts, claimedUntil: until, groups };
      }
      // A failed delivery tried again, or a row the ledger lost: the counts move with the claim.
      if (!existing) await this.mailboxes.register(mailbox);
      await this.tallied.write(
        k.partitionKey,
        [existing ? ['update', entity, 'Merge', { etag: existing.etag }] : ['create', entity]],
        moves,
      );
      const now = await this.get(mailbox, itemKey);
      if (!now || now.claimedUntil !== entity.claimedUntil) return { outcome: 'busy', retryAfterSeconds: 2 };
      // With no row at all, convert (which always writes one first) lost it: check the mailbox.
      return {
        outcome: 'claimed',
        etag: now.etag,
        uncertain: !existing || attempts > 1,
        attempts,
        claimedUntil: until,
        groups,
      };
    } catch (err) {
      if (isConflict(err) || isPreconditionFailed(err)) return { outcome: 'busy', retryAfterSeconds: 2 };
      throw err;
    }
  }

  /** Extends a held claim; ClaimLostError when another worker has taken it since. */
  async renew(
    mailbox: string,
    itemKey: string,
    claim: ClaimState,
    opts: { now?: Date; abortSignal?: AbortSignal } = {},
  ): Promise<ClaimState> {
    const until = new Date((opts.now ?? new Date()).getTime() + this.claimSeconds * 1000);
    const etag = await this.fenced(claim, { claimedUntil: until.toISOString() }, mailbox, itemKey, opts.abortSignal);
    return { ...claim, etag, claimedUntil: until };
  }

  async markDelivered(
    mailbox: string,
    itemKey: string,
    graphMessageId: string,
    claim: ClaimState,
    now = new Date(),
  ): Promise<void> {
    await this.fencedMove(
      claim,
      'delivered',
      { status: 'delivered', graphMessageId, deliveredAt: now.toISOString(), claimedUntil: '', reason: '' },
      mailbox,
      itemKey,
    );
  }

  async markFailed(mailbox: string, itemKey: string, reason: string, claim: ClaimState): Promise<void> {
    await this.fencedMove(
      claim,
      'failed',
      { status: 'failed', reason: reason.slice(0, 2000), claimedUntil: '' },
      mailbox,
      itemKey,
    );
  }

  /**
   * Keeps the pair for `seconds` more without renewing: a write whose answer was lost may still
   * land, and no attempt may look for it before it would have.
   */
  async hold(mailbox: string, itemKey: string, claim: ClaimState, seconds: number, now = new Date()): Promise<void> {
    await this.fenced(
      claim,
      { claimedUntil: new Date(now.getTime() + seconds * 1000).toISOString() },
      mailbox,
      itemKey,
    );
  }

  /**
   * Gives the claim back so a rescheduled message can take it at once. `attempts` rewinds the
   * count when the attempt never reached the mailbox, so the next one need not look it up.
   */
  async release(mailbox: string, itemKey: string, claim: ClaimState, opts: { attempts?: number } = {}): Promise<void> {
    await this.fenced(
      claim,
      { claimedUntil: '', ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}) },
      mailbox,
      itemKey,
    );
  }

  /** The counts of one mailbox, kept beside its rows (see TalliedPartition). */
  tally(mailbox: string): Promise<Tally> {
    return this.tallied.tally(tableKey(mailbox));
  }

  /** A write that holds only while the row still carries the claim's ETag. */
  private async fenced(
    claim: ClaimState,
    fields: Partial<DeliveryRow>,
    mailbox: string,
    itemKey: string,
    abortSignal?: AbortSignal,
  ): Promise<string> {
    try {
      const res = await this.table.updateEntity({ ...this.keys(mailbox, itemKey), ...fields }, 'Merge', {
        etag: claim.etag,
        abortSignal,
      });
      return res.etag!;
    } catch (err) {
      throw claimLost(err, itemKey);
    }
  }

  /** A fenced write that ends the claim in another bucket, with its count moved in one transaction. */
  private async fencedMove(
    claim: ClaimState,
    bucket: string,
    fields: Partial<DeliveryRow>,
    mailbox: string,
    itemKey: string,
  ): Promise<void> {
    const k = this.keys(mailbox, itemKey);
    try {
      await this.tallied.write(
        k.partitionKey,
        [['update', { ...k, ...fields }, 'Merge', { etag: claim.etag }]],
        movesBetween({ groups: claim.groups, bucket: 'pending' }, { groups: claim.groups, bucket }),
      );
    } catch (err) {
      throw claimLost(err, itemKey);
    }
  }
}

/** The bucket a row is counted in: an attempt in progress is still pending. */
function counted(
  row: Partial<Pick<DeliveryRow, 'status' | 'itemTime' | 'kind'>> | undefined,
): { groups: string[]; bucket: string } | undefined {
  if (!row?.status) return undefined;
  return { groups: tallyGroups(row.itemTime, row.kind), bucket: row.status === 'inProgress' ? 'pending' : row.status };
}

function claimLost(err: unknown, itemKey: string): unknown {
  if (isPreconditionFailed(err) || isNotFound(err))
    return new ClaimLostError(`the delivery claim on ${itemKey} was taken over`);
  return err;
}
