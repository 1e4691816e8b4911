import type { CaptureWindows } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import type { ItemLedger, ItemRow } from '../store/item-ledger';
import { CONTAINERS, QUEUES } from '../store/names';
import { blobSegment } from '../store/keys';
import { rawBlobName } from '../store/blob-names';
import type * as yauzl from 'yauzl';
import { DatasetZip, DatasetFileError } from '../ringcentral/dataset-zip';
import { validatorFor, versionOf } from '../ringcentral/record-validation';
import { CONTEXT_FOLDERS, ITEM_FOLDERS } from '../ringcentral/export-records';
import { itemKeyOf, type ItemKind } from '../store/item-keys';
import type { ConvertItemMessage, ExportWindowMessage, UnpackDatasetMessage } from '../pipeline/messages';
import type { WindowPlanner } from './window-planner';

export interface UnpackResult {
  records: number;
  invalid: number;
  converts: number;
  byFolder: Record<string, number>;
  windowStored: boolean;
}

// Raw blobs written at once; their ledger rows then fill one batch transaction per kind.
const PARALLEL_WRITES = 100;
const MAX_REDOWNLOADS = 5;

/** The zip or a record file inside it cannot be read: the dataset must be downloaded again. */
export class CorruptDatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDatasetError';
  }
}

/**
 * A corrupt or truncated zip: the window goes back to exporting, so the poller fetches the
 * task again (fresh link) and downloads the dataset anew. The checkpoint cannot pass it meanwhile.
 */
export async function requestRedownload(
  deps: { windows: CaptureWindows; blobs: ArchiveBlobs; errors: ErrorLog; queues: WorkQueues },
  message: UnpackDatasetMessage,
  err: Error,
): Promise<'redownload'> {
  const window = await deps.windows.get(message.windowId);
  const corruptions = (window?.corruptions ?? 0) + 1;
  if (corruptions > MAX_REDOWNLOADS)
    throw new Error(
      `dataset ${message.datasetBlob} is still corrupt after ${MAX_REDOWNLOADS} downloads: ${err.message}`,
    );
  await deps.errors.report({
    stage: 'unpack',
    windowId: message.windowId,
    reason: `dataset ${message.datasetBlob} is corrupt (${err.message}); downloading it again (${corruptions}/${MAX_REDOWNLOADS})`,
  });
  await deps.blobs.delete(CONTAINERS.exports, message.datasetBlob);
  await deps.windows.update(message.windowId, {
    status: 'exporting',
    corruptions,
    lastError: `corrupt dataset: ${err.message}`.slice(0, 500),
  });
  await deps.queues.send(QUEUES.pollExport, { windowId: message.windowId } satisfies ExportWindowMessage);
  return 'redownload';
}

/**
 * Streams one dataset zip out of Blob storage and writes every record version of every folder
 * to `raw/`, known folders or not. Every record is stored before any item is queued for
 * conversion, so convert always finds the chats, people and files an item points at.
 * Re-running it rewrites nothing and only re-queues converts, which are idempotent.
 */
export class DatasetUnpacker {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly items: ItemLedger,
    private readonly windows: CaptureWindows,
    private readonly queues: WorkQueues,
    private readonly errors: ErrorLog,
    private readonly planner: WindowPlanner,
  ) {}

  async handle(message: UnpackDatasetMessage): Promise<UnpackResult | 'redownload' | 'stale'> {
    if (!(await this.blobs.exists(CONTAINERS.exports, message.datasetBlob))) {
      // A message from before a re-download: the poller sends fresh ones once the zip is back.
      const window = await this.windows.get(message.windowId);
      if (window?.status !== 'downloaded') return 'stale';
    }
    const result: UnpackResult = { records: 0, invalid: 0, converts: 0, byFolder: {}, windowStored: false };
    const converts: ConvertItemMessage[] = [];
    let zip: DatasetZip | undefined;
    try {
      zip = await DatasetZip.open(this.blobs, CONTAINERS.exports, message.datasetBlob);
      const folders = zip.folders();
      // Context first, then items, so a crash half-way never leaves an item without its chat.
      const ordered = [
        ...CONTEXT_FOLDERS.filter((f) => folders.includes(f)),
        ...folders.filter((f) => !(CONTEXT_FOLDERS as readonly string[]).includes(f)),
      ];
      for (const folder of ordered) await this.storeFolder(zip, folder, message, result, converts);
    } catch (err) {
      if (err instanceof CorruptDatasetError || !zip)
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
    // Item records only: chats, members and guests come with every export whatever its width, so
    // they say nothing about how wide the next window may be.
    const items = Object.entries(result.byFolder)
      .filter(([folder]) => !(CONTEXT_FOLDERS as readonly string[]).includes(folder))
      .reduce((n, [, count]) => n + count, 0);
    result.windowStored = await this.planner.datasetStored(message.windowId, message.datasetBlob, items);
    return result;
  }

  private async storeFolder(
    zip: DatasetZip,
    folder: string,
    message: UnpackDatasetMessage,
    result: UnpackResult,
    converts: ConvertItemMessage[],
  ): Promise<void> {
    const validate = validatorFor(folder);
    const isContext = (CONTEXT_FOLDERS as readonly string[]).includes(folder);
    const kind: ItemKind | undefined = isContext ? undefined : (ITEM_FOLDERS[folder] ?? 'record');
    const pending: Array<Promise<unknown>> = [];
    // Ledger rows wait for their raw blobs, then go in batch transactions.
    const captured: ItemRow[] = [];
    const flush = async () => {
      await Promise.all(pending.splice(0));
      await this.items.recordMany(captured.splice(0));
    };
    let index = 0;
    for (const entry of zip.entriesOf(folder)) {
      for await (const raw of this.readRecords(zip, entry)) {
        index++;
        result.records++;
        result.byFolder[folder] = (result.byFolder[folder] ?? 0) + 1;
        const checked = validate(raw);
        if (!checked.ok) {
          pending.push(this.keepInvalid(folder, kind, raw, checked, message, `${entry.fileName}#${index}`, result));
        } else {
          const record = checked.record;
          const version = versionOf(record);
          const rawBlob = rawBlobName(folder, record.id, version);
          if (kind) {
            const itemKey = itemKeyOf(kind, record.id, version);
            const chatId =
              (record as { chatId?: string; chatIds?: string[] }).chatId ??
              (record as { chatIds?: string[] }).chatIds?.[0];
            pending.push(this.blobs.putJsonOnce(CONTAINERS.raw, rawBlob, raw));
            captured.push({
              itemKey,
              kind,
              state: 'captured',
              sourceId: record.id,
              chatId,
              itemTime: record.creationTime ?? record.lastModifiedTime,
              windowId: message.windowId,
              capturedAt: new Date().toISOString(),
            });
            converts.push({ itemKey, kind, folder, rawBlob, windowId: message.windowId });
          } else {
            pending.push(this.blobs.putJsonOnce(CONTAINERS.raw, rawBlob, raw));
          }
        }
        if (pending.length >= PARALLEL_WRITES) await flush();
      }
    }
    await flush();
  }

  private async *readRecords(zip: DatasetZip, entry: yauzl.Entry): AsyncGenerator<unknown> {
    try {
      yield* zip.records(entry);
    } catch (err) {
      // Malformed JSON, a truncated entry or a bad CRC: all mean the dataset must be fetched again.
      throw new CorruptDatasetError(
        err instanceof DatasetFileError
          ? err.message
          : `${entry.fileName} could not be read: ${(err as Error).message}`,
      );
    }
  }

  /** A malformed record is kept as it came, reported, and skipped; the rest of the window goes on. */
  private async keepInvalid(
    folder: string,
    kind: ItemKind | undefined,
    raw: unknown,
    checked: { id?: string; reason: string },
    message: UnpackDatasetMessage,
    position: string,
    result: UnpackResult,
  ): Promise<void> {
    result.invalid++;
    const where = `invalid/${blobSegment(message.datasetBlob)}/${blobSegment(position)}.json`;
    await this.blobs.putJsonOnce(CONTAINERS.raw, where, { folder, reason: checked.reason, record: raw ?? null });
    const itemKey = checked.id ? `${kind ?? folder}:${checked.id}:invalid` : undefined;
    await this.errors.report({
      stage: 'unpack',
      windowId: message.windowId,
      itemKey,
      reason: `malformed ${folder} record skipped (kept as raw/${where}): ${checked.reason}`,
    });
    if (kind) {
      await this.items.record({
        itemKey: itemKey ?? `${kind}:${position}:invalid`,
        kind,
        state: 'invalid',
        sourceId: checked.id,
        windowId: message.windowId,
        reason: checked.reason.slice(0, 1000),
      });
    }
  }
}
