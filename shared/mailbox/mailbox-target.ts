import type { ArchiveMessage } from '../archive/archive-message';

export interface MailboxRef {
  mailbox: string;
  userId: string;
}

/**
 * Where archive messages land. Graph in production; an .eml folder for dry runs.
 * `fence` aborts when the caller may no longer write (its delivery claim is about to lapse):
 * no write starts after that, and a request in flight is abandoned.
 */
export interface MailboxTarget {
  /** Id of Inbox/<ARCHIVE_FOLDER>, created when missing. */
  archiveFolder(target: MailboxRef, fence?: AbortSignal): Promise<string>;
  /** The message already created for this item version, if any (the retry guard). */
  findByItemKey(
    target: MailboxRef,
    folderId: string,
    itemKey: string,
    fence?: AbortSignal,
  ): Promise<string | undefined>;
  /** Creates the message as a received, non-draft item with its original dates; returns its id. */
  create(target: MailboxRef, folderId: string, message: ArchiveMessage, fence?: AbortSignal): Promise<string>;
}

// What a mailbox target (and its attachments) raises when the mailbox says no, in terms of what
// the deliverer does next, so it never reads a vendor's error codes. A write whose answer was lost
// is the third case: OutcomeUnknownError (shared/errors.ts). Anything else is a plain failure.

/** The mailbox refuses this item for good (access denied, too big, over quota): report it, do not retry. */
export class MailboxRejectedError extends Error {
  /** `code` is the mailbox service's own name for the refusal, kept for the report. */
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MailboxRejectedError';
  }
}

/** The mailbox is missing or not enabled (yet): an admin may fix that, so the item waits and tries again. */
export class MailboxUnavailableError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MailboxUnavailableError';
  }
}
