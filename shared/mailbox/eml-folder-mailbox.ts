import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArchiveMessage } from '../archive/archive-message';
import { composeEml } from '../archive/eml';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { MailboxRef, MailboxTarget } from './mailbox-target';
import type { MailboxAttachments } from './attachment-source';
import { emlAttachments, emlFileName, safeSegment } from './eml-files';

/**
 * Dry-run target (MAILBOX_TARGET=eml-folder): writes `<root>/<mailbox>/Inbox/<folder>/<item>.eml`
 * instead of calling Graph, for previews and for handing an archive to other systems.
 * The file name is derived from the item key, and a file is written once (temp file + rename),
 * so it has the same idempotency as the Graph target.
 */
export class EmlFolderMailbox implements MailboxTarget, MailboxAttachments {
  private readonly root: string;

  constructor(root: string, private readonly folderName: string, private readonly blobs: ArchiveBlobs) {
    this.root = resolve(root);
  }

  async archiveFolder(target: MailboxRef): Promise<string> {
    const dir = join(this.root, safeSegment(target.mailbox), 'Inbox', safeSegment(this.folderName));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async findByItemKey(_target: MailboxRef, folderId: string, itemKey: string): Promise<string | undefined> {
    const file = join(folderId, emlFileName(itemKey));
    return existsSync(file) ? file : undefined;
  }

  async create(_target: MailboxRef, folderId: string, message: ArchiveMessage): Promise<string> {
    const file = join(folderId, emlFileName(message.itemKey));
    if (existsSync(file)) return file;
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      const attachments = await emlAttachments(this.blobs, message);
      await pipeline(composeEml(message, attachments), createWriteStream(temp, { flags: 'wx' }));
      renameSync(temp, file);
    } finally {
      rmSync(temp, { force: true });
    }
    return file;
  }

  // Attachments are written inside the .eml at create time.
  async list(): Promise<Array<{ name: string; size: number }>> {
    return [];
  }

  async add(): Promise<void> {}
}
