import type { ExistingAttachment } from './attachment-source';
import { safeAttachmentName } from './graph-attachments';

/** A file as it should be attached: its identity, and the name and size it is stored under. */
export interface ExpectedAttachment {
  contentId: string;
  name: string;
  size: number;
}

/**
 * The identity an attachment carries into the mailbox (as its contentId). Two files of one post
 * can share a name and a size (pasted screenshots are all `image.png`), so a retry compares on
 * this, never on the name. The position keeps two references to one file apart; an archive
 * message never changes once written, so the position is stable.
 */
export function attachmentIdentity(file: { fileId: string }, index: number): string {
  return `rcfile.${index}.${String(file.fileId)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 120)}`;
}

export interface AttachmentComparison<T extends ExpectedAttachment> {
  /** Files the message does not hold. */
  missing: T[];
  /** Extra copies of files the message holds more than once. */
  duplicated: number;
}

/**
 * Which expected files a message already holds. Attachments written before identities existed
 * (no contentId) are matched by name and size, each held attachment standing for one file at most.
 */
export function compareAttachments<T extends ExpectedAttachment>(
  expected: T[],
  held: ExistingAttachment[],
): AttachmentComparison<T> {
  const copies = new Map<string, number>();
  const legacy: ExistingAttachment[] = [];
  for (const a of held) {
    if (a.contentId) copies.set(a.contentId, (copies.get(a.contentId) ?? 0) + 1);
    else legacy.push(a);
  }
  const missing: T[] = [];
  let duplicated = 0;
  for (const file of expected) {
    const n = copies.get(file.contentId) ?? 0;
    if (n > 1) duplicated += n - 1;
    if (n > 0) continue;
    // Graph may report a size a little above the byte count, so compare with >=, and take the
    // closest fit, so that a larger file of the same name is not taken for a smaller one.
    const name = safeAttachmentName(file.name);
    let best = -1;
    legacy.forEach((a, i) => {
      if (a.name === name && a.size >= file.size && (best < 0 || a.size < legacy[best]!.size)) best = i;
    });
    if (best >= 0) legacy.splice(best, 1);
    else missing.push(file);
  }
  return { missing, duplicated };
}
