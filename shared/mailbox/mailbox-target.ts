import type { ArchiveMessage } from '../archive/archive-message';

export interface MailboxRef { mailbox: string; userId: string }

/**
 * Where archive messages land. Graph in production; an .eml folder for dry runs.
 * `fence` aborts when the caller may no longer write (its delivery claim is about to lapse):
 * no write starts after that, and a request in flight is abandoned.
 */
export interface MailboxTarget {
  /** Id of Inbox/<ARCHIVE_FOLDER>, created when missing. */
  archiveFolder(target: MailboxRef, fence?: AbortSignal): Promise<string>;
  /** The message already created for this item version, if any (the retry guard). */
  findByItemKey(target: MailboxRef, folderId: string, itemKey: string, fence?: AbortSignal): Promise<string | undefined>;
  /** Creates the message as a received, non-draft item with its original dates; returns its id. */
  create(target: MailboxRef, folderId: string, message: ArchiveMessage, fence?: AbortSignal): Promise<string>;
}
