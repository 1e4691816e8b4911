import type { ArchiveBlobs } from '../store/archive-blobs';
import type { DeliveryLedger } from '../store/delivery-ledger';
import type { ErrorLog } from '../store/error-log';
import { CONTAINERS } from '../store/names';
import type { ArchiveAttachment, ArchiveMessage } from '../archive/archive-message';
import {
  MailboxRejectedError,
  MailboxUnavailableError,
  type MailboxRef,
  type MailboxTarget,
} from '../mailbox/mailbox-target';
import type { AttachmentSource, MailboxAttachments } from '../mailbox/attachment-source';
import type { DeliverItemMessage } from '../pipeline/messages';
import { attachmentIdentity, compareAttachments } from '../mailbox/attachment-identity';
import { HeldClaim } from './held-claim';
import { ClaimLostError, OutcomeUnknownError, RetryLaterError, errorMessage } from '../errors';

export type DeliverOutcome = 'delivered' | 'alreadyDelivered' | 'foundInMailbox' | 'failed';

/** Runs Graph work for one mailbox within its concurrency and pacing limits. */
export interface MailboxLimiter {
  run<T>(mailbox: string, fn: () => Promise<T>, cost?: { requests?: number; uploadBytes?: number }): Promise<T>;
}

// A missing or disabled mailbox is tried again this much later (an admin may enable it); a
// rejected item is marked failed, reported, and can be replayed.
const MAILBOX_MISSING_RETRY_SECONDS = 3600;

/**
 * Exactly-once delivery of one item into one mailbox:
 * claim the ledger row → (only when a previous attempt may have written) look the item up by its
 * named property → create → add the attachments it does not have yet → record.
 * The happy path of an item without files costs one Graph request.
 */
export class ItemDeliverer {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly ledger: DeliveryLedger,
    private readonly mailboxes: MailboxTarget,
    private readonly attachments: MailboxAttachments,
    private readonly limiter: MailboxLimiter,
    private readonly errors: ErrorLog,
    /** How long a write whose answer was lost may still land (the mailbox service's settle time). */
    private readonly settleSeconds: number,
  ) {}

  async handle(message: DeliverItemMessage): Promise<DeliverOutcome> {
    const target: MailboxRef = { mailbox: message.mailbox, userId: message.userId };
    const claim = await this.ledger.claim(message.mailbox, message.itemKey, { itemKey: message.itemKey });
    if (claim.outcome === 'alreadyDelivered') return 'alreadyDelivered';
    if (claim.outcome === 'busy')
      throw new RetryLaterError(claim.retryAfterSeconds, 'another worker holds this delivery');

    const held = new HeldClaim(this.ledger, message.mailbox, message.itemKey, claim, this.settleSeconds);
    const { fence } = held;
    const ledger = this.ledger;
    let reachedMailbox = false;
    try {
      const archived = await this.blobs.getJson<ArchiveMessage>(CONTAINERS.messages, message.messageBlob);
      const files = archived.attachments ?? [];
      const uploadBytes = files.reduce((n, a) => n + a.size, 0);
      // The mailbox slot covers the Graph requests only; the ledger write happens after it is free.
      const { messageId, found } = await this.limiter.run(
        message.mailbox,
        async () => {
          fence.throwIfAborted();
          reachedMailbox = true;
          const folderId = await this.mailboxes.archiveFolder(target, fence);
          const existing = claim.uncertain
            ? await this.mailboxes.findByItemKey(target, folderId, message.itemKey, fence)
            : undefined;
          const id = existing ?? (await this.mailboxes.create(target, folderId, archived, fence));
          await this.addMissingAttachments(target, id, files, existing !== undefined, fence);
          return { messageId: id, found: existing !== undefined };
        },
        {
          requests: 1 + (claim.uncertain ? 1 : 0) + files.reduce((n, f) => n + this.attachments.requestsToAdd(f), 0),
          uploadBytes,
        },
      );
      await held.end((state) => ledger.markDelivered(message.mailbox, message.itemKey, messageId, state));
      return found ? 'foundInMailbox' : 'delivered';
    } catch (err) {
      if (err instanceof OutcomeUnknownError) {
        // The lost write may still land: the pair stays claimed until it would have, so no attempt
        // looks for it before then (and the look-up of the next attempt finds it).
        await held.endQuietly((state) => ledger.hold(message.mailbox, message.itemKey, state, err.delaySeconds));
        throw err;
      }
      if (err instanceof RetryLaterError) {
        // Turned away by the mailbox limits before any Graph request: this attempt changed nothing
        // in the mailbox, so a first attempt stays a first attempt (no look-up on the happy path).
        const untouched = !reachedMailbox && !claim.uncertain;
        await held.endQuietly((state) =>
          ledger.release(message.mailbox, message.itemKey, state, untouched ? { attempts: claim.attempts - 1 } : {}),
        );
        throw err;
      }
      if (err instanceof MailboxUnavailableError) {
        await held.endQuietly((state) =>
          ledger.markFailed(
            message.mailbox,
            message.itemKey,
            `mailbox unavailable (${err.code}); retrying in ${MAILBOX_MISSING_RETRY_SECONDS / 60} min`,
            state,
          ),
        );
        await this.errors.report({
          stage: 'deliver',
          itemKey: message.itemKey,
          mailbox: message.mailbox,
          reason: `mailbox unavailable (${err.code}); will retry`,
        });
        throw new RetryLaterError(MAILBOX_MISSING_RETRY_SECONDS, `mailbox ${message.mailbox} unavailable: ${err.code}`);
      }
      if (err instanceof MailboxRejectedError) {
        // Nothing retries a delivery that ends here, so its failed state must be written (or the
        // message retried); a claim taken over meanwhile belongs to a worker that will say.
        await held
          .end((state) => ledger.markFailed(message.mailbox, message.itemKey, err.message, state))
          .catch((e: unknown) => {
            if (!(e instanceof ClaimLostError)) throw e;
          });
        await this.errors.report({
          stage: 'deliver',
          itemKey: message.itemKey,
          mailbox: message.mailbox,
          reason: err.message,
        });
        return 'failed';
      }
      await held.endQuietly((state) => ledger.markFailed(message.mailbox, message.itemKey, errorMessage(err), state));
      throw err;
    } finally {
      held.stop();
    }
  }

  /**
   * After a fresh create nothing is attached yet; after a retry that found the message, only
   * the files it lacks are added, compared on each file's identity, so none is ever added twice.
   */
  private async addMissingAttachments(
    target: MailboxRef,
    messageId: string,
    files: ArchiveAttachment[],
    messageExisted: boolean,
    fence: AbortSignal,
  ): Promise<void> {
    if (!files.length) return;
    const expected = files.map((file, i) => ({
      file,
      contentId: attachmentIdentity(file, i),
      name: file.name,
      size: file.size,
    }));
    const missing = messageExisted
      ? compareAttachments(expected, await this.attachments.list(target, messageId, fence)).missing
      : expected;
    for (const { file, contentId } of missing) {
      await this.attachments.add(target, messageId, this.source(file, contentId), fence);
    }
  }

  private source(file: ArchiveAttachment, contentId: string): AttachmentSource {
    return {
      contentId,
      name: file.name,
      contentType: file.contentType,
      size: file.size,
      open: (start = 0) => this.blobs.openRead(CONTAINERS.files, file.blob, start),
    };
  }
}
