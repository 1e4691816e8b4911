import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ItemLedger } from '../store/item-ledger';
import type { DeliveryLedger } from '../store/delivery-ledger';
import type { WorkQueues } from '../store/work-queues';
import { CONTAINERS, QUEUES } from '../store/names';
import { messageBlobName } from '../store/blob-names';
import type { ArchiveMessage, FileNotice } from '../archive/archive-message';
import { composeEml } from '../archive/eml';
import type { RecipientPlan } from '../mapping/recipient-plan';
import type { DeliverItemMessage } from '../pipeline/messages';

export interface ConvertResult {
  deliveries: number;
  notDelivered: number;
  attachments: number;
  notices: number;
}

/**
 * What every converter does with a rendered item: store it once (JSON and .eml), write a pending
 * ledger row and a deliver message per mailbox, a not-delivered row with its reason for everyone
 * else, and mark the item converted. Re-running it changes nothing already written.
 */
export class ArchiveOutput {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly items: ItemLedger,
    private readonly deliveries: DeliveryLedger,
    private readonly queues: WorkQueues,
  ) {}

  async publish(archived: ArchiveMessage, plan: RecipientPlan, notices: FileNotice[]): Promise<ConvertResult> {
    const messageBlob = messageBlobName(archived.itemKey);
    await this.blobs.putJsonOnce(CONTAINERS.messages, messageBlob, archived);
    await this.storeEml(archived);
    const result: ConvertResult = {
      deliveries: 0,
      notDelivered: 0,
      attachments: archived.attachments.length,
      notices: notices.length,
    };
    const base = {
      itemKey: archived.itemKey,
      kind: archived.kind,
      chatId: archived.source.chatId,
      itemTime: archived.sentAt,
      size: archived.attachments.reduce((n, a) => n + a.size, 0),
      files: archived.attachments.length,
    };
    for (const skipped of plan.notDelivered) {
      await this.deliveries.recordNotDelivered({ ...base, mailbox: skipped.key, reason: skipped.reason });
      result.notDelivered++;
    }
    for (const target of plan.deliveries) {
      // The pending row comes first: a deliver that finds no row knows the ledger lost it.
      await this.deliveries.recordPending({ ...base, mailbox: target.mailbox });
      await this.queues.send(QUEUES.deliver, {
        itemKey: archived.itemKey,
        mailbox: target.mailbox,
        userId: target.userId,
        messageBlob,
      } satisfies DeliverItemMessage);
      result.deliveries++;
    }
    await this.items.record({
      itemKey: archived.itemKey,
      kind: archived.kind,
      state: 'converted',
      convertedAt: new Date().toISOString(),
      recipients: result.deliveries,
      attachments: archived.attachments.length,
      fileNotices: notices.length ? JSON.stringify(notices).slice(0, 30_000) : undefined,
    });
    return result;
  }

  private async storeEml(archived: ArchiveMessage): Promise<void> {
    const name = messageBlobName(archived.itemKey, 'eml');
    if (!archived.attachments.length) {
      // Small and bodies only: one conditional write, no existence check, no block staging.
      const chunks: Buffer[] = [];
      for await (const chunk of composeEml(archived)) chunks.push(chunk as Buffer);
      await this.blobs.putTextOnce(CONTAINERS.messages, name, Buffer.concat(chunks).toString('utf8'), 'message/rfc822');
      return;
    }
    if (await this.blobs.exists(CONTAINERS.messages, name)) return;
    const attachments = await Promise.all(
      archived.attachments.map(async (a) => ({
        filename: a.name,
        contentType: a.contentType,
        content: await this.blobs.openRead(CONTAINERS.files, a.blob),
      })),
    );
    await this.blobs.putStreamOnce(CONTAINERS.messages, name, composeEml(archived, attachments), 'message/rfc822');
  }
}
