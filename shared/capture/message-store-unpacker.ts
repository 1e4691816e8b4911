import type { CaptureWindows } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import type { ItemLedger, ItemRow } from '../store/item-ledger';
import { CONTAINERS, QUEUES } from '../store/names';
import { blobSegment } from '../store/keys';
import { rawBlobName } from '../store/blob-names';
import { itemKeyOf } from '../store/item-keys';
import { DatasetZip, DatasetFileError } from '../ringcentral/dataset-zip';
import {
  MESSAGES_FOLDER,
  archivedAttachmentOf,
  contentTypeOfFileName,
  messageAttachmentFileId,
  messageKindOf,
  messageStoreFileOf,
  validateMessage,
  voiceVersionOf,
  VOICE_CONTENT_VERSION,
} from '../ringcentral/voice-records';
import { FileCapture } from './file-capture';
import type { ExtensionDirectory } from '../mapping/extension-directory';
import type { ConvertItemMessage, UnpackDatasetMessage } from '../pipeline/messages';
import type { WindowPlanner } from './window-planner';
import { CorruptDatasetError, requestRedownload } from './dataset-unpacker';
import { recordRefusal } from './source-refusal';
import { PermissionMissingError, RetryLaterError } from '../errors';

export interface MessageStoreUnpackResult {
  records: number;
  invalid: number;
  converts: number;
  attachments: number;
  windowStored: boolean;
}

const PARALLEL_WRITES = 100;
/** Archive 0 waits this long between looks while the attachment archives are still being stored. */
const WAIT_FOR_ATTACHMENTS_SECONDS = 20;

/**
 * Unpacks one message-store report archive. Archives 1.. hold attachments (MMS images, fax pages,
 * voicemail audio and transcriptions): each is stored in `files` under the name a download by
 * content URI would use, so conversion finds it. Archive 0 holds the records and is unpacked last,
 * so every message is queued for conversion with its attachments already stored.
 */
export class MessageStoreUnpacker {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly items: ItemLedger,
    private readonly windows: CaptureWindows,
    private readonly queues: WorkQueues,
    private readonly errors: ErrorLog,
    private readonly planner: WindowPlanner,
    private readonly directory: ExtensionDirectory,
  ) {}

  async handle(message: UnpackDatasetMessage): Promise<MessageStoreUnpackResult | 'redownload' | 'stale' | 'blocked'> {
    const window = await this.windows.get(message.windowId);
    if (!(await this.blobs.exists(CONTAINERS.exports, message.datasetBlob)))
      if (window?.status !== 'downloaded') return 'stale';
    const all = JSON.parse(window?.datasetBlobs ?? '[]') as string[];
    const isRecords = all[0] === message.datasetBlob;
    const result: MessageStoreUnpackResult = {
      records: 0,
      invalid: 0,
      converts: 0,
      attachments: 0,
      windowStored: false,
    };
    const converts: ConvertItemMessage[] = [];
    if (isRecords) {
      const unpacked = new Set(JSON.parse(window?.unpacked ?? '[]') as string[]);
      const waiting = all.slice(1).filter((name) => !unpacked.has(name)).length;
      if (waiting)
        throw new RetryLaterError(WAIT_FOR_ATTACHMENTS_SECONDS, `${waiting} attachment archive(s) not stored yet`);
      try {
        // Mapping needs the extension list; without ReadAccounts nothing could reach a mailbox.
        await this.directory.refreshIfStale();
      } catch (err) {
        if (!(err instanceof PermissionMissingError)) throw err;
        return recordRefusal(this.windows, this.errors, {
          stage: QUEUES.unpack,
          windowId: message.windowId,
          error: err,
          consequence: 'extensions cannot be mapped to mailboxes; messages capture waits until it is granted',
        });
      }
    }
    let zip: DatasetZip | undefined;
    try {
      zip = await DatasetZip.open(this.blobs, CONTAINERS.exports, message.datasetBlob);
      if (isRecords) await this.storeRecords(zip, message, result, converts);
      else await this.storeAttachments(zip, result);
    } catch (err) {
      if (err instanceof CorruptDatasetError || err instanceof DatasetFileError || !zip)
        return requestRedownload(
          { windows: this.windows, blobs: this.blobs, errors: this.errors, queues: this.queues },
          message,
          err as Error,
        );
      throw err;
    } finally {
      zip?.close();
    }
    await this.queues.sendAll(QUEUES.convert, converts);
    result.converts = converts.length;
    result.windowStored = await this.planner.datasetStored(message.windowId, message.datasetBlob, result.records);
    return result;
  }

  /** Every attachment, write-once: one already stored (a re-run) is left as it is. */
  private async storeAttachments(zip: DatasetZip, result: MessageStoreUnpackResult): Promise<void> {
    for (const entry of zip.entries) {
      if (entry.fileName.endsWith('/')) continue;
      const place = archivedAttachmentOf(entry.fileName);
      if (!place) continue;
      const name = FileCapture.blobName(
        messageAttachmentFileId(place.messageId, place.attachmentId),
        VOICE_CONTENT_VERSION,
      );
      if (await this.blobs.sha256Of(CONTAINERS.files, name)) continue;
      let stream;
      try {
        stream = await zip.open(entry);
      } catch (err) {
        throw new CorruptDatasetError(`${entry.fileName} could not be read: ${(err as Error).message}`);
      }
      const stored = await this.blobs.putStreamHashed(
        CONTAINERS.files,
        name,
        stream,
        contentTypeOfFileName(entry.fileName),
      );
      if (stored.size !== entry.uncompressedSize)
        throw new CorruptDatasetError(
          `${entry.fileName} is ${stored.size} bytes, the zip says ${entry.uncompressedSize}`,
        );
      result.attachments++;
    }
  }

  private async storeRecords(
    zip: DatasetZip,
    message: UnpackDatasetMessage,
    result: MessageStoreUnpackResult,
    converts: ConvertItemMessage[],
  ): Promise<void> {
    const pending: Array<Promise<unknown>> = [];
    const captured: ItemRow[] = [];
    const flush = async () => {
      await Promise.all(pending.splice(0));
      await this.items.recordMany(captured.splice(0));
    };
    for (const entry of zip.entries) {
      const file = messageStoreFileOf(entry.fileName);
      if (!file) continue;
      let index = 0;
      try {
        for await (const raw of zip.records(entry, { bareArray: true })) {
          index++;
          result.records++;
          const checked = validateMessage(raw, file.extensionId);
          if (!checked.ok) {
            pending.push(this.keepInvalid(raw, checked, message, `${entry.fileName}#${index}`, result));
          } else {
            const record = checked.record;
            const kind = messageKindOf(record.type)!;
            const version = voiceVersionOf(record.creationTime);
            const rawBlob = rawBlobName(MESSAGES_FOLDER, record.id, version);
            const itemKey = itemKeyOf(kind, record.id, version);
            // The first copy is the archive of record; a later read of the same message changes nothing.
            pending.push(this.blobs.putJsonOnce(CONTAINERS.raw, rawBlob, { ...record }));
            captured.push({
              itemKey,
              kind,
              state: 'captured',
              sourceId: record.id,
              chatId: String(record.conversationId ?? record.conversation?.id ?? record.id),
              itemTime: version,
              windowId: message.windowId,
              capturedAt: new Date().toISOString(),
            });
            converts.push({ itemKey, kind, folder: MESSAGES_FOLDER, rawBlob, windowId: message.windowId });
          }
          if (pending.length >= PARALLEL_WRITES) await flush();
        }
      } catch (err) {
        if (err instanceof DatasetFileError) throw new CorruptDatasetError(err.message);
        throw err;
      }
    }
    await flush();
  }

  /** A malformed record is kept as it came, reported, and skipped; the rest of the window goes on. */
  private async keepInvalid(
    raw: unknown,
    checked: { id?: string; reason: string },
    message: UnpackDatasetMessage,
    position: string,
    result: MessageStoreUnpackResult,
  ): Promise<void> {
    result.invalid++;
    const where = `invalid/${blobSegment(message.datasetBlob)}/${blobSegment(position)}.json`;
    await this.blobs.putJsonOnce(CONTAINERS.raw, where, {
      folder: MESSAGES_FOLDER,
      reason: checked.reason,
      record: raw ?? null,
    });
    const itemKey = `message:${checked.id ?? position}:invalid`;
    await this.errors.report({
      stage: QUEUES.unpack,
      windowId: message.windowId,
      itemKey,
      reason: `malformed message-store record skipped (kept as raw/${where}): ${checked.reason}`,
    });
    const type = (raw as { type?: unknown } | null)?.type;
    await this.items.record({
      itemKey,
      kind: (typeof type === 'string' && messageKindOf(type)) || 'sms',
      state: 'invalid',
      sourceId: checked.id,
      windowId: message.windowId,
      reason: checked.reason.slice(0, 1000),
    });
  }
}
