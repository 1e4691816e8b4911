import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ItemLedger } from '../store/item-ledger';
import type { DeliveryLedger } from '../store/delivery-ledger';
import type { WorkQueues } from '../store/work-queues';
import type { ErrorLog } from '../store/error-log';
import type { RawRecords } from '../store/raw-records';
import { CONTAINERS, QUEUES } from '../store/names';
import { blobSegment } from '../store/keys';
import type { ExportChat, ExportPerson, ExportPost } from '../ringcentral/export-records';
import { validatePost, versionOf } from '../ringcentral/record-validation';
import { renderPost } from '../archive/render-post';
import { composeEml } from '../archive/eml';
import type { Participant } from '../archive/people-directory';
import type { MailboxResolver } from '../mapping/mailbox-resolver';
import type { ConvertItemMessage, DeliverItemMessage } from '../pipeline/messages';
import { InvalidInputError } from '../errors';

export function messageBlobName(itemKey: string, extension: 'json' | 'eml' = 'json'): string {
  const [kind, ...rest] = itemKey.split(':');
  return `${kind}/${blobSegment(rest.join(':'))}.${extension}`;
}

export interface ConvertResult { deliveries: number; notDelivered: number }

/**
 * Post + chat + people → archive message, stored once; then one deliver message per mapped
 * mailbox, and a not-delivered ledger row (with its reason) for everyone else.
 */
export class PostConverter {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly raw: RawRecords,
    private readonly items: ItemLedger,
    private readonly deliveries: DeliveryLedger,
    private readonly queues: WorkQueues,
    private readonly resolver: MailboxResolver,
    private readonly errors: ErrorLog,
  ) {}

  async handle(message: ConvertItemMessage): Promise<ConvertResult> {
    const checked = validatePost(await this.blobs.getJson<unknown>(CONTAINERS.raw, message.rawBlob));
    if (!checked.ok) throw new InvalidInputError(`stored post ${message.rawBlob} is malformed: ${checked.reason}`);
    const post: ExportPost = checked.record;
    const version = versionOf(post);

    const chat = await this.raw.latest<ExportChat>('chats', post.chatId);
    if (!chat) await this.errors.report({ stage: 'convert', itemKey: message.itemKey, reason: `chat ${post.chatId} is not in the export; delivering to the creator only` });
    const guestIds = new Set((chat?.guestIds ?? []).map(String));
    const memberIds = unique([String(post.creator.id), ...(chat?.memberIds ?? []).map(String)]).filter((id) => !guestIds.has(id));
    const members = await Promise.all(memberIds.map((id) => this.participant(id, false)));
    const guests = await Promise.all([...guestIds].map((id) => this.participant(id, true)));
    const creator = [...members, ...guests].find((p) => p.id === String(post.creator.id))!;

    const archived = renderPost(post, version, { chat, creator, members, guests });
    const messageBlob = messageBlobName(archived.itemKey);
    await this.blobs.putJsonOnce(CONTAINERS.messages, messageBlob, archived);
    if (!(await this.blobs.exists(CONTAINERS.messages, messageBlobName(archived.itemKey, 'eml')))) {
      await this.blobs.putStreamOnce(CONTAINERS.messages, messageBlobName(archived.itemKey, 'eml'), composeEml(archived), 'message/rfc822');
    }

    const result: ConvertResult = { deliveries: 0, notDelivered: 0 };
    const seenMailboxes = new Set<string>();
    const base = { itemKey: archived.itemKey, kind: archived.kind, chatId: post.chatId, itemTime: archived.sentAt };
    for (const p of [...members, ...guests]) {
      const resolution = await this.resolver.resolve(p);
      if (resolution.kind === 'notDelivered') {
        await this.deliveries.recordNotDelivered({ ...base, mailbox: resolution.key, reason: resolution.reason });
        result.notDelivered++;
        continue;
      }
      if (seenMailboxes.has(resolution.mailbox)) continue;
      seenMailboxes.add(resolution.mailbox);
      // The pending row comes first: a deliver that finds no row knows the ledger lost it.
      await this.deliveries.recordPending({ ...base, mailbox: resolution.mailbox });
      const deliver: DeliverItemMessage = { itemKey: archived.itemKey, mailbox: resolution.mailbox, userId: resolution.userId, messageBlob };
      await this.queues.send(QUEUES.deliver, deliver);
      result.deliveries++;
    }
    await this.items.record({ itemKey: archived.itemKey, kind: archived.kind, state: 'converted', convertedAt: new Date().toISOString(), recipients: result.deliveries });
    return result;
  }

  private async participant(id: string, guest: boolean): Promise<Participant> {
    const person = guest
      ? await this.raw.latest<ExportPerson>('guests', id)
      : (await this.raw.latest<ExportPerson>('members', id)) ?? undefined;
    return { id, person, guest };
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
