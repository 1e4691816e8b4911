import type { StorageAccount } from '../store/storage-account';
import type { WorkQueues } from '../store/work-queues';
import { QUEUES, TABLES, poisonQueueOf, type QueueName } from '../store/names';
import { odata, tableKey } from '../store/keys';
import { messageBlobName } from '../store/blob-names';
import type { DeliverItemMessage } from '../pipeline/messages';
import type { LedgerScan, TimeRange } from './ledger-scan';
import { isNotFound } from '../store/storage-errors';

export interface PoisonReplay {
  moved: Record<string, number>;
  total: number;
}
export interface FailedReplay {
  requeued: number;
  mailboxes: string[];
}

// Long enough that one replay never receives the same poison message twice.
const RECEIVE_INVISIBLE_SECONDS = 300;

/** Admin replays: poison messages back into their queues, failed deliveries back into `deliver`. */
export class Replayer {
  constructor(
    private readonly account: StorageAccount,
    private readonly queues: WorkQueues,
    private readonly scan: LedgerScan,
  ) {}

  /**
   * Moves every message of every `<queue>-poison` back to `<queue>`. The poison copy holds the
   * original base64 text the host wrote; the replayed copy is base64 JSON again, with its
   * reschedule count cleared so it gets a fresh start. Send first, then delete: a crash in
   * between replays a message twice, which every stage tolerates.
   */
  async replayPoison(): Promise<PoisonReplay> {
    const moved: Record<string, number> = {};
    let total = 0;
    for (const queue of Object.values(QUEUES)) {
      const poison = this.account.queue(poisonQueueOf(queue));
      const target = this.account.queue(queue);
      moved[queue] = 0;
      for (;;) {
        const { receivedMessageItems } = await poison.receiveMessages({
          numberOfMessages: 32,
          visibilityTimeout: RECEIVE_INVISIBLE_SECONDS,
        });
        if (receivedMessageItems.length === 0) break;
        for (const message of receivedMessageItems) {
          await target.sendMessage(freshText(message.messageText), { messageTimeToLive: -1 });
          await poison.deleteMessage(message.messageId, message.popReceipt);
          moved[queue]++;
          total++;
        }
      }
    }
    return { moved, total };
  }

  /** Queues a new deliver message for every failed delivery of a mailbox and/or item time range. */
  async replayFailed(opts: { mailbox?: string; range?: TimeRange }): Promise<FailedReplay> {
    let requeued = 0;
    const mailboxes = new Set<string>();
    const userIds = new Map<string, string>();
    for await (const row of this.scan.deliveries({ mailbox: opts.mailbox, range: opts.range, status: 'failed' })) {
      let userId = userIds.get(row.mailbox);
      if (!userId) userIds.set(row.mailbox, (userId = await this.userIdOf(row.mailbox)));
      const message: DeliverItemMessage = {
        itemKey: row.itemKey,
        mailbox: row.mailbox,
        userId,
        messageBlob: messageBlobName(row.itemKey),
      };
      await this.queues.send(QUEUES.deliver as QueueName, message);
      mailboxes.add(row.mailbox);
      requeued++;
    }
    return { requeued, mailboxes: [...mailboxes].sort() };
  }

  /** The Entra object id the mapping cached for this mailbox; Graph also accepts the address itself. */
  private async userIdOf(mailbox: string): Promise<string> {
    const people = this.account.table(TABLES.people);
    try {
      const row = await people.getEntity<{ userId?: string }>('email', tableKey(mailbox.toLowerCase()));
      if (row.userId) return row.userId;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    for await (const row of people.listEntities<{ userId?: string }>({
      queryOptions: { filter: `mail eq ${odata(mailbox)}` },
    })) {
      if (row.userId) return row.userId;
    }
    return mailbox;
  }
}

function freshText(poisonText: string): string {
  const decoded = Buffer.from(poisonText, 'base64').toString('utf8');
  let message: unknown;
  try {
    message = JSON.parse(
      Buffer.from(decoded, 'utf8').toString('base64') === poisonText.replace(/\s/g, '') ? decoded : poisonText,
    );
  } catch {
    // Not JSON: hand it back exactly as the host wrote it.
    return poisonText;
  }
  if (message && typeof message === 'object' && !Array.isArray(message))
    delete (message as { reschedules?: number }).reschedules;
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}
