import type { ArchiveAttachment, FileNotice } from '../archive/archive-message';
import type { FileCapture } from '../capture/file-capture';
import type { ErrorLog } from '../store/error-log';
import { CONTAINERS } from '../store/names';
import { versionOf } from '../ringcentral/record-validation';
import type { RateGroup } from '../ringcentral/rate-groups';

export interface FileRef {
  id: string;
  name?: string | null;
  size?: number | null;
  contentUri?: string | null;
  lastModifiedTime?: string;
  creationTime?: string;
  /** The stored version's name; by default the record's own (lastModifiedTime, creationTime). */
  version?: string;
  /** The rate group of the content's host (FileCapture). */
  rateGroup?: RateGroup;
}

// Exchange limits the size of the whole MIME message, and base64 makes attachments about 4/3
// larger, so only about three quarters of MAX_MESSAGE_SIZE_MB is room for file bytes.
const MIME_OVERHEAD = 4 / 3;
const BODY_ALLOWANCE_BYTES = 512 * 1024;

/**
 * Captures the files an item carries and decides which travel with the message and which stay
 * in Blob storage behind a notice (too large for the mailbox, or gone from RingCentral).
 * Nothing is dropped for its size: every byte captured is kept in the `files` container.
 */
export class AttachmentPlanner {
  constructor(
    private readonly files: FileCapture,
    private readonly errors: ErrorLog,
    private readonly maxMessageBytes: number,
  ) {}

  async plan(refs: FileRef[], itemKey: string): Promise<{ attachments: ArchiveAttachment[]; notices: FileNotice[] }> {
    const attachments: ArchiveAttachment[] = [];
    const notices: FileNotice[] = [];
    let budget = Math.floor((this.maxMessageBytes - BODY_ALLOWANCE_BYTES) / MIME_OVERHEAD);
    const seen = new Set<string>();
    for (const ref of refs) {
      if (seen.has(ref.id)) continue;
      seen.add(ref.id);
      const captured = await this.files.ensure({ ...ref, version: ref.version ?? versionOf(ref) });
      if (!captured.ok) {
        notices.push({ fileId: ref.id, name: captured.name, size: captured.size, reason: captured.reason });
        await this.errors.report({
          stage: 'convert',
          itemKey,
          reason: `file ${ref.id} (${captured.name}) not captured: ${captured.reason}`,
        });
        continue;
      }
      const file = captured.file;
      const location = `${CONTAINERS.files}/${file.blob}`;
      if (file.size > budget) {
        notices.push({
          fileId: file.fileId,
          name: file.name,
          size: file.size,
          sha256: file.sha256,
          location,
          reason: `it is larger than the mailbox's maximum message size (${Math.round(this.maxMessageBytes / 1024 / 1024)} MB including MIME encoding)`,
        });
        continue;
      }
      budget -= file.size;
      attachments.push({
        fileId: file.fileId,
        name: file.name,
        size: file.size,
        contentType: file.contentType,
        blob: file.blob,
        sha256: file.sha256,
      });
    }
    return { attachments, notices };
  }
}
