import type { CaptureWindows } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import type { ItemLedger } from '../store/item-ledger';
import { CONTAINERS, QUEUES } from '../store/names';
import { blobSegment } from '../store/keys';
import { DatasetZip } from '../ringcentral/dataset-zip';
import { validateChat, validatePerson, validatePost, versionOf, Validated } from '../ringcentral/record-validation';
import type { ExportFolder } from '../ringcentral/export-records';
import { itemKeyOf, type ConvertItemMessage, type UnpackDatasetMessage } from '../pipeline/messages';
import type { WindowPlanner } from './window-planner';

/** `raw/<folder>/<id>/<version>.json`: a new version gets a new name, so nothing is overwritten. */
export function rawBlobName(folder: ExportFolder, id: string, version: string): string {
  return `${folder}/${blobSegment(id)}/${blobSegment(version)}.json`;
}

export interface UnpackResult { records: number; invalid: number; converts: number; windowStored: boolean }

/**
 * Streams one dataset zip out of Blob storage and writes every record version to `raw/`.
 * Context records (chats, people) are written before any post is queued for conversion,
 * so convert always finds them. Re-running it rewrites nothing and only re-queues converts,
 * which are idempotent.
 */
export class DatasetUnpacker {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly items: ItemLedger,
    private readonly windows: CaptureWindows,
    private readonly queues: WorkQueues,
    private readonly errors: ErrorLog,
    private readonly planner: WindowPlanner,
    private readonly captureStart: () => string,
  ) {}

  async handle(message: UnpackDatasetMessage): Promise<UnpackResult> {
    const zip = await DatasetZip.open(this.blobs, CONTAINERS.exports, message.datasetBlob).catch((err) => {
      throw new Error(`dataset ${message.datasetBlob} is not a readable zip: ${(err as Error).message}`);
    });
    const result: UnpackResult = { records: 0, invalid: 0, converts: 0, windowStored: false };
    try {
      await this.storeContext(zip, 'chats', validateChat, message, result);
      await this.storeContext(zip, 'members', validatePerson, message, result);
      await this.storeContext(zip, 'guests', validatePerson, message, result);
      const converts = await this.storePosts(zip, message, result);
      await this.queues.sendAll(QUEUES.convert, converts);
      result.converts = converts.length;
    } finally {
      zip.close();
    }
    result.windowStored = await this.windows.markDatasetUnpacked(message.windowId, message.datasetBlob);
    if (result.windowStored) {
      await this.windows.advanceCheckpoint(this.captureStart());
      // Keep a backlog moving at export speed rather than one window per timer tick.
      await this.planner.planDue();
    }
    return result;
  }

  private async *records(zip: DatasetZip, folder: ExportFolder, message: UnpackDatasetMessage, result: UnpackResult): AsyncIterable<unknown> {
    for (const entry of zip.entriesOf(folder)) {
      let file: unknown;
      try {
        file = await zip.readJson(entry);
      } catch (err) {
        // A corrupt file inside the zip is a corrupt dataset: fail, so the window is retried.
        throw new Error(`${entry.fileName} in ${message.datasetBlob} is not valid JSON: ${(err as Error).message}`);
      }
      const records = (file as { records?: unknown }).records;
      if (!Array.isArray(records)) throw new Error(`${entry.fileName} in ${message.datasetBlob} has no records array`);
      yield* records;
    }
  }

  private async storeContext(zip: DatasetZip, folder: ExportFolder, validate: (raw: unknown) => Validated<{ id: string; lastModifiedTime?: string; creationTime?: string }>, message: UnpackDatasetMessage, result: UnpackResult): Promise<void> {
    const writes: Array<Promise<unknown>> = [];
    for await (const raw of this.records(zip, folder, message, result)) {
      result.records++;
      const checked = validate(raw);
      if (!checked.ok) {
        await this.reportInvalid(folder, checked, message, result);
        continue;
      }
      writes.push(this.blobs.putJsonOnce(CONTAINERS.raw, rawBlobName(folder, checked.record.id, versionOf(checked.record)), raw));
      if (writes.length >= 32) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
  }

  private async storePosts(zip: DatasetZip, message: UnpackDatasetMessage, result: UnpackResult): Promise<ConvertItemMessage[]> {
    const converts: ConvertItemMessage[] = [];
    const pending: Array<Promise<unknown>> = [];
    for await (const raw of this.records(zip, 'posts', message, result)) {
      result.records++;
      const checked = validatePost(raw);
      if (!checked.ok) {
        await this.reportInvalid('posts', checked, message, result);
        continue;
      }
      const post = checked.record;
      const version = versionOf(post);
      const itemKey = itemKeyOf('post', post.id, version);
      const rawBlob = rawBlobName('posts', post.id, version);
      pending.push(
        this.blobs.putJsonOnce(CONTAINERS.raw, rawBlob, raw).then(() =>
          this.items.record({ itemKey, kind: 'post', state: 'captured', sourceId: post.id, chatId: post.chatId, itemTime: post.creationTime, windowId: message.windowId, capturedAt: new Date().toISOString() }),
        ),
      );
      if (pending.length >= 32) await Promise.all(pending.splice(0));
      converts.push({ itemKey, kind: 'post', rawBlob, windowId: message.windowId });
    }
    await Promise.all(pending);
    return converts;
  }

  private async reportInvalid(folder: ExportFolder, checked: { id?: string; reason: string }, message: UnpackDatasetMessage, result: UnpackResult): Promise<void> {
    result.invalid++;
    const itemKey = checked.id ? `${folder}:${checked.id}` : undefined;
    await this.errors.report({ stage: 'unpack', windowId: message.windowId, itemKey, reason: `malformed ${folder} record skipped: ${checked.reason}` });
    if (checked.id && folder === 'posts') {
      await this.items.record({ itemKey: itemKey!, kind: 'post', state: 'invalid', sourceId: checked.id, windowId: message.windowId, reason: checked.reason.slice(0, 1000) });
    }
  }
}
