import type { TableClient } from '@azure/data-tables';
import { RetryLaterError } from '../errors';
import { tableKey } from '../store/keys';
import { isConflict, isNotFound, isPreconditionFailed } from '../store/storage-errors';

export interface PacingLimits {
  requestsPerWindow: number;
  requestWindowMs: number;
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
  /** Requests a worker reserves from the shared row at a time (fewer near a bucket's end). */
  requestBlock?: number;
}

/**
 * Graph's per-mailbox limits as pacing: the request budget from `GRAPH_MAILBOX_PACING`
 * (shared/config.ts) and uploads at Graph's 150 MB per 5 minutes. The reservation block is 50 at
 * the production budget (9,700 per window) and the same share of a bucket's requests at any other,
 * so a bench that shortens the window at the same rate reserves as often per bucket as production.
 */
export function graphMailboxPacing(requests: { requestsPerWindow: number; requestWindowMs: number }): PacingLimits {
  return {
    ...requests,
    uploadBytesPerWindow: 150 * 1024 * 1024,
    uploadWindowMs: 300_000,
    requestBlock: Math.max(1, Math.round((50 * requests.requestsPerWindow) / 9_700)),
  };
}

// Admission counts one bucket more than the window (a sliding window touches BUCKETS + 1 of
// them), so the sustained rate is BUCKETS / (BUCKETS + 1) of the limit: 98% with 60 buckets,
// where 10 buckets held a saturated mailbox to 91%.
const BUCKETS_PER_WINDOW = 60;
const MAX_WRITE_ATTEMPTS = 6;

interface Budget {
  requestBucket: number;
  requestsLeft: number;
  uploadBucket: number;
  uploadBytesLeft: number;
}

interface CounterEntity {
  partitionKey: string;
  rowKey: string;
  /** JSON [[bucket, used], ...], newest last. */
  requests?: string;
  uploads?: string;
}

/**
 * Per-mailbox request and upload pacing shared by every worker, at a few Table operations per
 * *block* of requests rather than per request.
 *
 * Why shared counters and not per-process token buckets: the number of live Functions instances is
 * not known to a worker, and a wrong guess either wastes the mailbox's budget or overruns it. The
 * shared row is exact, and the cost stays low because a worker reserves a block (`requestBlock`
 * requests, or the upload's bytes) with one read and one ETag-conditional write, then spends it
 * locally. A reservation is only good in the bucket it was recorded in; leftovers are dropped when
 * the bucket turns over, so the shared count never trails real use.
 *
 * The row (table `ratelimit`, PartitionKey = mailbox, RowKey = 'graph') keeps counts in buckets of a
 * sixtieth of each window (10 s of Graph's 10 minutes). A sliding window can touch 61 such buckets,
 * so admission checks the last 61: a little stricter than Graph, never looser. Blocks shrink as a
 * bucket nears its end, so little reserved budget is dropped unused at the turn.
 *
 * When the budget is spent and frees within two buckets (20 s for Graph), the run waits here
 * instead of being rescheduled: a saturated mailbox then resumes when the oldest bucket leaves the
 * window, not a queue visibility delay and a polling interval later.
 */
export class MailboxPacer {
  private readonly budgets = new Map<string, Budget>();
  private readonly reserving = new Map<string, Promise<void>>();
  /** Requests asked for and not yet granted in this process, per mailbox: one reservation covers them all. */
  private readonly waiting = new Map<string, number>();
  /** Two request buckets: long enough to ride out a spent bucket, short enough not to hold a slot for long. */
  private readonly maxWaitMs: number;

  constructor(
    private readonly table: TableClient,
    private readonly limits: PacingLimits,
    private readonly clock: PacerClock = SYSTEM_CLOCK,
  ) {
    this.maxWaitMs = (2 * limits.requestWindowMs) / BUCKETS_PER_WINDOW;
  }

  /** Takes `requests` and `uploadBytes` from the mailbox's budget, or throws RetryLaterError. */
  async take(mailbox: string, requestCount: number, uploadByteCount: number): Promise<void> {
    const key = mailbox.toLowerCase();
    // Graph refuses anything over a whole window anyway; cap so such a cost waits for an empty window.
    const requests = Math.min(requestCount, this.limits.requestsPerWindow);
    const uploadBytes = Math.min(uploadByteCount, this.limits.uploadBytesPerWindow);
    this.waiting.set(key, (this.waiting.get(key) ?? 0) + requests);
    try {
      for (;;) {
        // One reservation per mailbox at a time in a process; the others spend what it brings.
        const inFlight = this.reserving.get(key);
        if (inFlight) {
          await inFlight.catch(() => undefined);
          continue;
        }
        if (this.spendLocal(key, requests, uploadBytes)) return;
        const reservation = this.reserve(key, requests, uploadBytes).finally(() => this.reserving.delete(key));
        this.reserving.set(key, reservation);
        await reservation;
      }
    } finally {
      this.waiting.set(key, this.waiting.get(key)! - requests);
    }
  }

  private spendLocal(key: string, requests: number, uploadBytes: number): boolean {
    const budget = this.currentBudget(key);
    if (budget.requestsLeft < requests || budget.uploadBytesLeft < uploadBytes) return false;
    budget.requestsLeft -= requests;
    budget.uploadBytesLeft -= uploadBytes;
    return true;
  }

  private currentBudget(key: string): Budget {
    const [requestBucket, uploadBucket] = this.buckets();
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = { requestBucket, requestsLeft: 0, uploadBucket, uploadBytesLeft: 0 };
      this.budgets.set(key, budget);
    }
    if (budget.requestBucket !== requestBucket) Object.assign(budget, { requestBucket, requestsLeft: 0 });
    if (budget.uploadBucket !== uploadBucket) Object.assign(budget, { uploadBucket, uploadBytesLeft: 0 });
    return budget;
  }

  private buckets(): [number, number] {
    const now = this.clock.now();
    return [
      Math.floor(now / (this.limits.requestWindowMs / BUCKETS_PER_WINDOW)),
      Math.floor(now / (this.limits.uploadWindowMs / BUCKETS_PER_WINDOW)),
    ];
  }

  /** Moves budget from the shared row into this process, enough for the request at hand. */
  private async reserve(key: string, requests: number, uploadBytes: number): Promise<void> {
    const pk = tableKey(key);
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const budget = this.currentBudget(key);
      const [requestBucket, uploadBucket] = [budget.requestBucket, budget.uploadBucket];
      const needRequests = Math.max(0, requests - budget.requestsLeft);
      const needBytes = Math.max(0, uploadBytes - budget.uploadBytesLeft);

      const { entity, etag } = await this.read(pk);
      // Read after the row, so that runs which arrived meanwhile are covered too.
      const wantedRequests = Math.max(needRequests, (this.waiting.get(key) ?? 0) - budget.requestsLeft);
      const requestCounts = prune(parse(entity?.requests), requestBucket);
      const uploadCounts = prune(parse(entity?.uploads), uploadBucket);
      const requestsFree = this.limits.requestsPerWindow - sum(requestCounts);
      const bytesFree = this.limits.uploadBytesPerWindow - sum(uploadCounts);
      if (needRequests > requestsFree || needBytes > bytesFree) {
        const now = this.clock.now();
        const [waitMs, reason] =
          needRequests > requestsFree
            ? [
                msUntilFree(requestCounts, needRequests - requestsFree, this.limits.requestWindowMs, now),
                'mailbox request budget spent',
              ]
            : [
                msUntilFree(uploadCounts, needBytes - bytesFree, this.limits.uploadWindowMs, now),
                'mailbox upload budget spent',
              ];
        // Twice at most: a budget another worker took first is a reason to queue, not to spin.
        if (waitMs > this.maxWaitMs || waited >= 2)
          throw new RetryLaterError(Math.max(1, Math.ceil(waitMs / 1000)), reason);
        waited += 1;
        await this.clock.sleep(waitMs);
        attempt = 0;
        continue;
      }
      const takeRequests =
        needRequests > 0 ? Math.min(requestsFree, Math.max(wantedRequests, this.blockSize(requestBucket))) : 0;
      const takeBytes = needBytes;
      add(requestCounts, requestBucket, takeRequests);
      add(uploadCounts, uploadBucket, takeBytes);
      const next: CounterEntity = {
        partitionKey: pk,
        rowKey: 'graph',
        requests: JSON.stringify(requestCounts),
        uploads: JSON.stringify(uploadCounts),
      };
      if (await this.write(next, etag)) {
        budget.requestsLeft += takeRequests;
        budget.uploadBytesLeft += takeBytes;
        return;
      }
      if (attempt >= MAX_WRITE_ATTEMPTS) throw new RetryLaterError(2, 'mailbox pacing row is contended');
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80 * attempt));
    }
  }

  /** A full block early in a bucket, less as it ends: what is left at the turn is dropped. */
  private blockSize(bucket: number): number {
    const bucketMs = this.limits.requestWindowMs / BUCKETS_PER_WINDOW;
    const leftMs = (bucket + 1) * bucketMs - this.clock.now();
    return Math.max(1, Math.ceil((this.limits.requestBlock ?? 50) * Math.min(1, leftMs / bucketMs)));
  }

  private async read(pk: string): Promise<{ entity?: CounterEntity; etag?: string }> {
    try {
      const entity = await this.table.getEntity<CounterEntity>(pk, 'graph');
      return { entity, etag: entity.etag };
    } catch (err) {
      if (isNotFound(err)) return {};
      throw err;
    }
  }

  /** false when another worker wrote first (ETag mismatch or a racing insert). */
  private async write(entity: CounterEntity, etag: string | undefined): Promise<boolean> {
    try {
      if (etag) await this.table.updateEntity(entity, 'Replace', { etag });
      else await this.table.createEntity(entity);
      return true;
    } catch (err) {
      if (isPreconditionFailed(err) || isConflict(err)) return false;
      throw err;
    }
  }
}

type Counts = Array<[bucket: number, used: number]>;

function parse(json: string | undefined): Counts {
  try {
    const value = json ? (JSON.parse(json) as unknown) : [];
    return Array.isArray(value) ? (value as Counts).filter((c) => Array.isArray(c) && c.length === 2) : [];
  } catch {
    return [];
  }
}

/** Keeps the buckets a sliding window ending in `current` can still touch. */
function prune(counts: Counts, current: number): Counts {
  return counts.filter(([bucket]) => bucket > current - BUCKETS_PER_WINDOW - 1 && bucket <= current);
}

function sum(counts: Counts): number {
  return counts.reduce((total, [, used]) => total + used, 0);
}

function add(counts: Counts, bucket: number, amount: number): void {
  if (amount <= 0) return;
  const entry = counts.find(([b]) => b === bucket);
  if (entry) entry[1] += amount;
  else counts.push([bucket, amount]);
}

/** Milliseconds until the oldest buckets have left the window and freed `short` units. */
function msUntilFree(counts: Counts, short: number, windowMs: number, now: number): number {
  const bucketMs = windowMs / BUCKETS_PER_WINDOW;
  let freed = 0;
  for (const [bucket, used] of [...counts].sort((a, b) => a[0] - b[0])) {
    freed += used;
    // A few ms past the turn, so the next look lands in the new bucket.
    if (freed >= short) return Math.max(1, Math.ceil((bucket + BUCKETS_PER_WINDOW + 1) * bucketMs - now) + 5);
  }
  return windowMs;
}

export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: PacerClock = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
