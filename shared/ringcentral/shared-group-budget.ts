import type { TableClient } from '@azure/data-tables';
import { MailboxPacer, type PacerClock } from '../delivery/mailbox-pacer';
import { RetryLaterError } from '../errors';
import type { RateGroup } from './rate-groups';

/** Takes one request from a RingCentral rate group's budget, or throws RetryLaterError. */
export interface GroupBudget {
  take(group: RateGroup): void | Promise<void>;
}

/**
 * Keeps a request back from each group's limit for what admission cannot see: a request reserved
 * at the end of a bucket that reaches RingCentral a little later, or the SDK's own retry.
 */
const SAFETY_MARGIN = 0.05;
const WINDOW_MS = 60_000;

/**
 * Each rate group's budget is one for the whole app, however many instances run: it lives in a
 * Table row per group (table `ratelimit`, PartitionKey `ringcentral-<group>` in lower case), reserved with an
 * ETag-conditional write a small block at a time and spent locally. The sliding-window accounting
 * is the same as the per-mailbox Graph pacer's (60 buckets, admission over 61, so a little
 * stricter than RingCentral, never looser); a reservation is good only in its one-second bucket.
 */
export class SharedGroupBudget implements GroupBudget {
  private readonly pacers = new Map<RateGroup, MailboxPacer>();

  constructor(
    private readonly table: TableClient,
    private readonly limits: Record<RateGroup, number>,
    private readonly clock?: PacerClock,
  ) {}

  async take(group: RateGroup): Promise<void> {
    let pacer = this.pacers.get(group);
    if (!pacer) {
      const limit = this.limits[group];
      pacer = new MailboxPacer(
        this.table,
        {
          requestsPerWindow: Math.max(1, Math.floor(limit * (1 - SAFETY_MARGIN))),
          requestWindowMs: WINDOW_MS,
          uploadBytesPerWindow: Number.MAX_SAFE_INTEGER,
          uploadWindowMs: WINDOW_MS,
          // Blocks live one second, so keep them small: two for the 40–50/min groups, one below.
          requestBlock: Math.max(1, Math.floor(limit / 20)),
        },
        this.clock,
      );
      this.pacers.set(group, pacer);
    }
    try {
      await pacer.take(`ringcentral-${group}`, 1, 0);
    } catch (err) {
      // The pacer speaks of mailboxes; say which RingCentral budget is spent.
      if (err instanceof RetryLaterError)
        throw new RetryLaterError(
          err.delaySeconds,
          `RingCentral ${group} budget (${this.limits[group]}/min, all instances) spent`,
        );
      throw err;
    }
  }
}
