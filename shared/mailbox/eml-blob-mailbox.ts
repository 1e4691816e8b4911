import type { ArchiveMessage } from '../archive/archive-message';
import { composeEml } from '../archive/eml';
import type { ArchiveBlobs } from '../store/archive-blobs';
import { CONTAINERS } from '../store/names';
import type { MailboxRef, MailboxTarget } from './mailbox-target';
import type { MailboxAttachments } from './attachment-source';
import { emlAttachments, emlFileName, safeSegment } from './eml-files';

/**
 * Dry-run target for Azure (MAILBOX_TARGET=eml-blob): writes
 * `eml/<mailbox>/Inbox/<folder>/<item>.eml` blobs instead of calling Graph. The Flex Consumption
 * file system is read-only, so the eml-folder target cannot run there. Same naming and the same
 * idempotency as EmlFolderMailbox: a blob is written once (If-None-Match: *), and a retry finds it.
 */
export class EmlBlobMailbox implements MailboxTarget, MailboxAttachments {
  constructor(
    private readonly folderName: string,
    private readonly blobs: ArchiveBlobs,
  ) {}

  /** A file is written in one go, as part of the message's .eml. */
  requestsToAdd(): number {
    return 1;
  }

  async archiveFolder(target: MailboxRef): Promise<string> {
    return `${safeSegment(target.mailbox)}/Inbox/${safeSegment(this.folderName)}`;
  }

  async findByItemKey(_target: MailboxRef, folderId: string, itemKey: string): Promise<string | undefined> {
    const name = `${folderId}/${emlFileName(itemKey)}`;
    return (await this.blobs.exists(CONTAINERS.eml, name)) ? name : undefined;
  }

  async create(_target: MailboxRef, folderId: string, message: ArchiveMessage): Promise<string> {
    const name = `${folderId}/${emlFileName(message.itemKey)}`;
    if (await this.blobs.exists(CONTAINERS.eml, name)) return name;
    const attachments = await emlAttachments(this.blobs, message);
    // Block blob upload commits only at the end, so a crash leaves no half-written .eml.
    await this.blobs.putStreamOnce(CONTAINERS.eml, name, composeEml(message, attachments), 'message/rfc822');
    return name;
  }

  // Attachments are written inside the .eml at create time.
  async list(): Promise<Array<{ name: string; size: number }>> {
    return [];
  }

  async add(): Promise<void> {}
}
