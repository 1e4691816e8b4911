import { randomUUID } from 'node:crypto';
import type { BlobLeaseClient, ContainerClient } from '@azure/storage-blob';
import { RetryLaterError } from '../errors';
import { blobSegment } from '../store/keys';
import { CONTAINERS } from '../store/names';
import type { StorageAccount } from '../store/storage-account';
import { isConflict, isNotFound, isPreconditionFailed, statusOf } from '../store/storage-errors';

export interface MailboxSlotsOptions {
  /** Blob lease length, 15-60 s: how long a crashed worker's slot stays taken. Renewed at a third. */
  leaseSeconds?: number;
  /** How long a run waits for a slot before the message is rescheduled. */
  waitMs?: number;
  /** How long an idle slot is kept for the next run in this process before it is released. */
  lingerMs?: number;
}

interface HeldSlot {
  key: string;
  index: number;
  lease: BlobLeaseClient;
  renewTimer: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  /** The lease could not be renewed (another worker may hold the slot now): never reuse it. */
  lost: boolean;
}

interface MailboxState {
  held: Set<HeldSlot>;
  idle: HeldSlot[];
  acquiring: boolean;
  nextPollAt: number;
  /** Slots were seen taken: list them before trying one, instead of guessing. */
  crowded: boolean;
  waiters: Set<() => void>;
}

/** Graph's per-app, per-mailbox concurrency. */
const SLOTS_PER_MAILBOX = 4;
const POLL_MS: [number, number] = [150, 350];

/**
 * At most 4 concurrent holders per mailbox across every worker: a semaphore kept
 * in Blob leases. Each slot is a lease on `mailbox-slots/<mailbox>/slot-<i>`; whoever holds the
 * lease may run one request (or one sequence of requests) against the mailbox. A crashed worker's
 * leases expire, so its slots come back without anyone cleaning up.
 *
 * In front of storage sits an in-process layer: one acquisition per mailbox at a time, and a slot
 * that finishes is handed to the next local run (kept for `lingerMs`) instead of being released and
 * re-acquired, so a burst for one mailbox costs about two lease operations per slot, not per item.
 * When no slot frees within `waitMs` the run throws RetryLaterError: the queue reschedules the
 * message and the function never sleeps for long.
 */
export class MailboxSlots {
  private readonly container: ContainerClient;
  private readonly mailboxes = new Map<string, MailboxState>();
  private readonly leaseSeconds: number;
  private readonly waitMs: number;
  private readonly lingerMs: number;

  constructor(account: StorageAccount, opts: MailboxSlotsOptions = {}) {
    this.container = account.container(CONTAINERS.mailboxSlots);
    this.leaseSeconds = opts.leaseSeconds ?? 30;
    this.waitMs = opts.waitMs ?? 1500;
    this.lingerMs = opts.lingerMs ?? 1000;
  }

  /** Runs `fn` holding one of the mailbox's slots, or throws RetryLaterError when none frees in time. */
  async hold<T>(mailbox: string, fn: () => Promise<T>): Promise<T> {
    const slot = await this.take(mailbox.toLowerCase());
    try {
      return await fn();
    } finally {
      this.giveBack(slot);
    }
  }

  private async take(key: string): Promise<HeldSlot> {
    const state = this.stateOf(key);
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const idle = state.idle.pop();
      if (idle) {
        clearTimeout(idle.idleTimer);
        return idle;
      }
      const now = Date.now();
      if (state.held.size < SLOTS_PER_MAILBOX && !state.acquiring && now >= state.nextPollAt) {
        state.acquiring = true;
        let slot: HeldSlot | undefined;
        try {
          slot = await this.acquire(key, state);
        } finally {
          state.acquiring = false;
          if (!slot) state.nextPollAt = Date.now() + POLL_MS[0] + Math.random() * (POLL_MS[1] - POLL_MS[0]);
          wake(state);
        }
        if (slot) return slot;
      }
      const waitUntil = Math.min(
        deadline,
        state.held.size < SLOTS_PER_MAILBOX && !state.acquiring ? state.nextPollAt : deadline,
      );
      if (Date.now() >= deadline) {
        throw new RetryLaterError(
          2 + Math.floor(Math.random() * 4),
          `mailbox has ${SLOTS_PER_MAILBOX} Graph requests in flight across workers`,
        );
      }
      await waitForChange(state, Math.max(1, waitUntil - Date.now()));
    }
  }

  private giveBack(slot: HeldSlot): void {
    const state = this.stateOf(slot.key);
    if (slot.lost) {
      void this.drop(slot);
    } else {
      state.idle.push(slot);
      slot.idleTimer = setTimeout(() => {
        const at = state.idle.indexOf(slot);
        if (at >= 0) {
          state.idle.splice(at, 1);
          void this.drop(slot);
        }
      }, this.lingerMs);
      slot.idleTimer.unref();
    }
    wake(state);
  }

  private async drop(slot: HeldSlot): Promise<void> {
    clearInterval(slot.renewTimer);
    clearTimeout(slot.idleTimer);
    const state = this.stateOf(slot.key);
    state.held.delete(slot);
    wake(state);
    if (slot.lost) return;
    // A failed release only means the slot stays taken until the lease expires.
    await slot.lease.releaseLease().catch(() => undefined);
  }

  /** One attempt at a free slot in storage; undefined when all are taken. */
  private async acquire(key: string, state: MailboxState): Promise<HeldSlot | undefined> {
    const mine = new Set([...state.held].map((s) => s.index));
    const free = shuffle([...Array(SLOTS_PER_MAILBOX).keys()].filter((i) => !mine.has(i)));
    if (!state.crowded) {
      const outcome = await this.tryLease(key, free[0]!, state);
      if (outcome !== 'busy') return outcome;
      state.crowded = true;
    }
    const leased = new Set<number>();
    const existing = new Set<number>();
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix: `${blobSegment(key)}/` })) {
        const index = Number(/\/slot-(\d+)$/.exec(blob.name)?.[1]);
        existing.add(index);
        if (blob.properties.leaseState === 'leased' || blob.properties.leaseState === 'breaking') leased.add(index);
      }
    } catch (err) {
      throw storageUnavailable(err);
    }
    const candidates = free.filter((i) => !leased.has(i));
    if (candidates.length > 1) state.crowded = false;
    for (const index of candidates) {
      const outcome = await this.tryLease(key, index, state, existing.has(index));
      if (outcome !== 'busy') return outcome;
    }
    return undefined;
  }

  private async tryLease(key: string, index: number, state: MailboxState, exists = true): Promise<HeldSlot | 'busy'> {
    const blob = this.container.getBlockBlobClient(`${blobSegment(key)}/slot-${index}`);
    if (!exists) await this.createSlot(blob);
    const lease = blob.getBlobLeaseClient(randomUUID());
    for (let attempt = 0; ; attempt++) {
      try {
        await lease.acquireLease(this.leaseSeconds);
        break;
      } catch (err) {
        if (isConflict(err)) return 'busy';
        if (isNotFound(err) && attempt === 0) {
          await this.createSlot(blob);
          continue;
        }
        throw storageUnavailable(err);
      }
    }
    const slot: HeldSlot = {
      key,
      index,
      lease,
      lost: false,
      renewTimer: setInterval(() => void this.renew(slot), (this.leaseSeconds * 1000) / 3),
    };
    slot.renewTimer.unref();
    state.held.add(slot);
    return slot;
  }

  private async renew(slot: HeldSlot): Promise<void> {
    try {
      await slot.lease.renewLease();
    } catch (err) {
      // Lost to expiry and another worker: stop counting it as ours. A running request finishes
      // regardless (it cannot be recalled); Graph's own 429 covers that rare overlap.
      if (isConflict(err) || isPreconditionFailed(err) || isNotFound(err)) {
        slot.lost = true;
        const state = this.stateOf(slot.key);
        const at = state.idle.indexOf(slot);
        if (at >= 0) state.idle.splice(at, 1);
        if (at >= 0) void this.drop(slot);
        else clearInterval(slot.renewTimer);
      }
      // Anything else is transient: the next renewal, a third of the lease later, tries again.
    }
  }

  private async createSlot(blob: ReturnType<ContainerClient['getBlockBlobClient']>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
        return;
      } catch (err) {
        if (isConflict(err) || isPreconditionFailed(err)) return; // another worker made it
        if (isNotFound(err) && attempt === 0) {
          await this.container.createIfNotExists();
          continue;
        }
        throw storageUnavailable(err);
      }
    }
  }

  private stateOf(key: string): MailboxState {
    let state = this.mailboxes.get(key);
    if (!state) {
      state = { held: new Set(), idle: [], acquiring: false, nextPollAt: 0, crowded: false, waiters: new Set() };
      this.mailboxes.set(key, state);
    }
    return state;
  }
}

function wake(state: MailboxState): void {
  for (const waiter of [...state.waiters]) waiter();
}

function waitForChange(state: MailboxState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      state.waiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    state.waiters.add(done);
  });
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Storage trouble is a reason to come back later, not to poison the message. */
function storageUnavailable(err: unknown): Error {
  const status = statusOf(err);
  if (status === undefined || status >= 500 || status === 429) {
    return new RetryLaterError(5, `lease storage unavailable: ${(err as Error).message ?? String(err)}`.slice(0, 300));
  }
  return err as Error;
}
