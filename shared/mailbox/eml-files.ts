import { createHash } from 'node:crypto';
import type { ArchiveMessage } from '../archive/archive-message';
import type { ArchiveBlobs } from '../store/archive-blobs';
import { CONTAINERS } from '../store/names';

// What the two dry-run targets (an .eml folder, .eml blobs) share: how an item's file is named and
// where its attachments are read from.

/** The file name of an item's .eml: readable, and unique through a hash of the whole item key. */
export function emlFileName(itemKey: string): string {
  const readable = itemKey.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
  return `${readable}-${createHash('sha256').update(itemKey).digest('hex').slice(0, 12)}.eml`;
}

/** A path segment safe in a file system and a blob name; never '.' or '..'. */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9@._+-]+/g, '_').replace(/^\.+/, '_');
  return cleaned || '_';
}

/** The message's files as MIME parts, each streamed from Blob storage. */
export function emlAttachments(blobs: ArchiveBlobs, message: ArchiveMessage) {
  return Promise.all(
    (message.attachments ?? []).map(async (a) => ({
      filename: a.name,
      contentType: a.contentType,
      content: await blobs.openRead(CONTAINERS.files, a.blob),
    })),
  );
}
