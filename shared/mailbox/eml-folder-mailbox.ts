import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArchiveMessage } from '../archive/archive-message';
import { composeEml } from '../archive/eml';
import type { ArchiveBlobs } from '../store/archive-blobs';
import { MailboxRejectedError, type MailboxRef, type MailboxTarget } from './mailbox-target';
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

  constructor(
    root: string,
    private readonly folderName: string,
    private readonly blobs: ArchiveBlobs,
  ) {
    this.root = resolve(root);
  }

  /** A file is written in one go, as part of the message's .eml. */
  requestsToAdd(): number {
    return 1;
  }

  async archiveFolder(target: MailboxRef): Promise<string> {
    const dir = join(this.root, safeSegment(target.mailbox), 'Inbox', safeSegment(this.folderName));
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw asMailboxError(err, dir);
    }
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
    } catch (err) {
      throw asMailboxError(err, file);
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

// The folder's refusals that retrying will not fix, as a Graph mailbox's access denied or quota
// exceeded would be: the item is reported as failed and can be replayed once the folder is fixed.
const REFUSING_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);

/** A file-system refusal in the mailbox port's own terms; any other error as it is. */
export function asMailboxError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code && REFUSING_ERRNOS.has(code) ? new MailboxRejectedError(code, `writing ${path} failed: ${code}`) : err;
}
