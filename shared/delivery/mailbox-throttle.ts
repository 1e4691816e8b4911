import type { MailboxLimiter } from './item-deliverer';
import type { MailboxPacer } from './mailbox-pacer';
import type { MailboxSlots } from './mailbox-slots';

export interface GraphCost {
  requests?: number;
  uploadBytes?: number;
}

/**
 * Graph's two per-mailbox limits together: a slot (at most 4 requests in flight across every
 * worker, MailboxSlots) and the request and upload budget (MailboxPacer).
 *
 * The budget is charged while the slot is held, so that a run rescheduled for want of a slot has
 * not spent any of it. A saturated mailbox waits for its window in the pacer, holding the slot,
 * for at most two pacing buckets (20 s).
 */
export class MailboxThrottle implements MailboxLimiter {
  constructor(
    private readonly slots: MailboxSlots,
    private readonly pacer: MailboxPacer,
  ) {}

  run<T>(mailbox: string, fn: () => Promise<T>, cost: GraphCost = {}): Promise<T> {
    return this.slots.hold(mailbox, async () => {
      await this.pacer.take(mailbox, cost.requests ?? 1, cost.uploadBytes ?? 0);
      return fn();
    });
  }
}
