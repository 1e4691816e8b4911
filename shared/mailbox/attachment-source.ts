import type { Readable } from 'node:stream';

/** A file to attach, read from Blob storage on demand (from `start` when resuming). */
export interface AttachmentSource {
  /** The file's identity in the mailbox (see attachment-identity.ts), sent as the attachment's contentId. */
  contentId: string;
  name: string;
  contentType: string;
  size: number;
  open(start?: number): Promise<Readable>;
}

/** An attachment a message holds; `contentId` is absent on attachments the archiver did not identify. */
export interface ExistingAttachment {
  name: string;
  size: number;
  contentId?: string;
}

/**
 * Adds attachments to a message that already exists in a mailbox. `fence` aborts when the caller
 * may no longer write (its delivery claim is about to lapse): no write starts after that.
 */
export interface MailboxAttachments {
  list(
    target: { mailbox: string; userId: string },
    messageId: string,
    fence?: AbortSignal,
  ): Promise<ExistingAttachment[]>;
  add(
    target: { mailbox: string; userId: string },
    messageId: string,
    file: AttachmentSource,
    fence?: AbortSignal,
  ): Promise<void>;
  /** How many requests `add` makes for this file, so the caller can reserve the mailbox's pacing for them up front. */
  requestsToAdd(file: { name: string; contentType?: string; size: number }): number;
}
