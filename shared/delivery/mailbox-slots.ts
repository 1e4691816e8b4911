/**
 * Graph allows 4 concurrent requests per mailbox. This bounds one process; work for a busy
 * mailbox waits here briefly instead of provoking 429s.
 */
export class MailboxSlots {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly perMailbox = 4) {}

  async run<T>(mailbox: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(mailbox);
    try {
      return await fn();
    } finally {
      this.release(mailbox);
    }
  }

  private acquire(mailbox: string): Promise<void> {
    const n = this.active.get(mailbox) ?? 0;
    if (n < this.perMailbox) {
      this.active.set(mailbox, n + 1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(mailbox) ?? [];
      queue.push(resolve);
      this.waiting.set(mailbox, queue);
    });
  }

  private release(mailbox: string): void {
    const next = this.waiting.get(mailbox)?.shift();
    if (next) return next(); // the slot passes straight to the next waiter
    const n = (this.active.get(mailbox) ?? 1) - 1;
    if (n <= 0) this.active.delete(mailbox);
    else this.active.set(mailbox, n);
    if (this.waiting.get(mailbox)?.length === 0) this.waiting.delete(mailbox);
  }
}
