import type { ArchiveMessage } from '../archive/archive-message';

export interface MailboxRef { mailbox: string; userId: string }

/** Where archive messages land. Graph in production; an .eml folder for dry runs. */
export interface MailboxTarget {
  /** Id of Inbox/<ARCHIVE_FOLDER>, created when missing. */
  archiveFolder(target: MailboxRef): Promise<string>;
  /** The message already created for this item version, if any (the retry guard). */
  findByItemKey(target: MailboxRef, folderId: string, itemKey: string): Promise<string | undefined>;
  /** Creates the message as a received, non-draft item with its original dates; returns its id. */
  create(target: MailboxRef, folderId: string, message: ArchiveMessage): Promise<string>;
}
