import type { Readable } from 'node:stream';

/** A file to attach, read from Blob storage on demand (from `start` when resuming). */
export interface AttachmentSource {
  name: string;
  contentType: string;
  size: number;
  open(start?: number): Promise<Readable>;
}

export interface ExistingAttachment { name: string; size: number }

/** Adds attachments to a message that already exists in a mailbox. */
export interface MailboxAttachments {
  list(target: { mailbox: string; userId: string }, messageId: string): Promise<ExistingAttachment[]>;
  add(target: { mailbox: string; userId: string }, messageId: string, file: AttachmentSource): Promise<void>;
}
