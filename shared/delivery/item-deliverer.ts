import type { ArchiveBlobs } from '../store/archive-blobs';
import type { DeliveryLedger } from '../store/delivery-ledger';
import type { ErrorLog } from '../store/error-log';
import { CONTAINERS } from '../store/names';
import type { ArchiveMessage } from '../archive/archive-message';
import type { MailboxTarget } from '../mailbox/mailbox-target';
import type { DeliverItemMessage } from '../pipeline/messages';
import type { MailboxSlots } from './mailbox-slots';
import { GraphCallError } from '../mailbox/graph-client';
import { RetryLaterError, errorMessage } from '../errors';

export type DeliverOutcome = 'delivered' | 'alreadyDelivered' | 'foundInMailbox' | 'failed';

// Mailbox errors that retrying will not fix soon; the ledger says why, and replay can retry.
const PERMANENT_CODES = new Set(['MailboxNotEnabledForRESTAPI', 'MailboxNotFound', 'ResourceNotFound', 'ErrorAccessDenied', 'ErrorInvalidRecipients', 'ErrorItemTooBig', 'ErrorQuotaExceeded']);

/**
 * Exactly-once delivery of one item into one mailbox:
 * claim the ledger row → (only when a previous attempt may have written) look the item up by its
 * named property → create → record. The happy path costs one Graph request.
 */
export class ItemDeliverer {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly ledger: DeliveryLedger,
    private readonly mailboxes: MailboxTarget,
    private readonly slots: MailboxSlots,
    private readonly errors: ErrorLog,
  ) {}

  async handle(message: DeliverItemMessage): Promise<DeliverOutcome> {
    const target = { mailbox: message.mailbox, userId: message.userId };
    const claim = await this.ledger.claim(message.mailbox, message.itemKey, { itemKey: message.itemKey });
    if (claim.outcome === 'alreadyDelivered') return 'alreadyDelivered';
    if (claim.outcome === 'busy') throw new RetryLaterError(claim.retryAfterSeconds, 'another worker holds this delivery');

    try {
      const archived = await this.blobs.getJson<ArchiveMessage>(CONTAINERS.messages, message.messageBlob);
      return await this.slots.run(message.mailbox, async () => {
        const folderId = await this.mailboxes.archiveFolder(target);
        if (claim.uncertain) {
          const existing = await this.mailboxes.findByItemKey(target, folderId, message.itemKey);
          if (existing) {
            await this.ledger.markDelivered(message.mailbox, message.itemKey, existing);
            return 'foundInMailbox';
          }
        }
        const id = await this.mailboxes.create(target, folderId, archived);
        await this.ledger.markDelivered(message.mailbox, message.itemKey, id);
        return 'delivered';
      });
    } catch (err) {
      if (err instanceof RetryLaterError) {
        await this.ledger.release(message.mailbox, message.itemKey);
        throw err;
      }
      if (err instanceof GraphCallError && PERMANENT_CODES.has(err.code)) {
        await this.ledger.markFailed(message.mailbox, message.itemKey, err.message);
        await this.errors.report({ stage: 'deliver', itemKey: message.itemKey, mailbox: message.mailbox, reason: err.message });
        return 'failed';
      }
      await this.ledger.markFailed(message.mailbox, message.itemKey, errorMessage(err));
      throw err;
    }
  }
}
