import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { StorageAccount } from '../store/storage-account';
import { CONTAINERS } from '../store/names';
import { blobSegment } from '../store/keys';
import type { RingCentralGateway } from '../ringcentral/ringcentral-api';
import { RetryLaterError } from '../errors';
import { isNotFound } from '../store/storage-errors';
import type { RateGroup } from '../ringcentral/rate-groups';

export interface CapturedFile {
  fileId: string;
  name: string;
  size: number;
  contentType: string;
  /** Blob name in the `files` container. */
  blob: string;
  sha256: string;
}

export type FileCaptureResult =
  | { ok: true; file: CapturedFile }
  | { ok: false; fileId: string; name: string; size?: number; reason: string; status?: number };

/** A file to capture: where its content is, and the rate group of that content's host. */
export interface FileToCapture {
  id: string;
  name?: string | null;
  size?: number | null;
  contentUri?: string | null;
  version: string;
  /** Light for Team Messaging files (the default), Medium for message-store content, Heavy for recordings. */
  rateGroup?: RateGroup;
}

// Blocks of 4 MiB: a resumed download restarts at the first block not yet staged, and memory
// holds one block at a time whatever the file size.
const BLOCK_BYTES = 4 * 1024 * 1024;
const MAX_RESUMES_PER_CALL = 5;

/**
 * Downloads file content from RingCentral's media host into Blob storage, streamed block by
 * block. Staged blocks survive a crash or a cut connection, so the next attempt resumes with
 * an HTTP Range from where the last one stopped. The result is verified against `size`.
 */
export class FileCapture {
  /** Captures running in this instance, by blob: a file item and the post carrying it convert at the same time. */
  private readonly inFlight = new Map<string, Promise<FileCaptureResult>>();

  constructor(
    private readonly account: StorageAccount,
    private readonly ringCentral: RingCentralGateway,
  ) {}

  static blobName(fileId: string, version: string): string {
    return `${blobSegment(fileId)}/${blobSegment(version)}`;
  }

  /** One download per file version at a time here; a second caller waits for the first one's result. */
  async ensure(file: FileToCapture): Promise<FileCaptureResult> {
    const key = FileCapture.blobName(file.id, file.version);
    const running = this.inFlight.get(key);
    if (running) return running;
    const capture = this.capture(file).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, capture);
    return capture;
  }

  private async capture(file: FileToCapture): Promise<FileCaptureResult> {
    const name = file.name || `file-${file.id}`;
    const blobName = FileCapture.blobName(file.id, file.version);
    const blob = this.account.container(CONTAINERS.files).getBlockBlobClient(blobName);
    const existing = await blob.getProperties().catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (existing?.metadata?.sha256) {
      return {
        ok: true,
        file: {
          fileId: file.id,
          name,
          size: existing.contentLength ?? 0,
          contentType: existing.contentType ?? 'application/octet-stream',
          blob: blobName,
          sha256: existing.metadata.sha256,
        },
      };
    }
    if (!file.contentUri)
      return {
        ok: false,
        fileId: file.id,
        name,
        size: file.size ?? undefined,
        reason: 'the export gives no content link for this file',
      };

    const blocks = await stagedBlocks(blob);
    let offset = blocks.reduce((n, b) => n + b.size, 0);
    let contentType = 'application/octet-stream';
    for (let attempt = 0; ; attempt++) {
      const media = await this.ringCentral.openMedia(file.contentUri, offset, file.rateGroup);
      if (media.status === 404 || media.status === 410 || media.status === 403) {
        return {
          ok: false,
          fileId: file.id,
          name,
          size: file.size ?? undefined,
          reason:
            media.status === 403
              ? 'RingCentral refused access to the content (HTTP 403)'
              : `content is gone from RingCentral (HTTP ${media.status})`,
          status: media.status,
        };
      }
      if (media.status === 416 && file.size !== undefined && offset >= (file.size ?? 0)) break;
      if (media.status !== 200 && media.status !== 206)
        throw new Error(`file ${file.id} download answered HTTP ${media.status}`);
      if (offset > 0 && media.status === 200) {
        // The server ignored Range: start over rather than append the wrong bytes.
        blocks.length = 0;
        offset = 0;
      }
      contentType = media.contentType ?? contentType;
      try {
        offset = await this.stageFrom(blob, media.body, offset, blocks);
        break;
      } catch (err) {
        if (attempt >= MAX_RESUMES_PER_CALL)
          throw new RetryLaterError(
            30,
            `file ${file.id} download keeps failing at byte ${offset}: ${(err as Error).message}`,
          );
        offset = blocks.reduce((n, b) => n + b.size, 0);
      }
    }
    if (file.size != null && offset !== file.size) {
      throw new Error(`file ${file.id} is ${offset} bytes, the export says ${file.size}; downloading again`);
    }
    const sha256 = await this.commit(blob, blocks, contentType);
    return { ok: true, file: { fileId: file.id, name, size: offset, contentType, blob: blobName, sha256 } };
  }

  private async stageFrom(
    blob: BlockBlobClient,
    body: Readable,
    offset: number,
    blocks: StagedBlock[],
  ): Promise<number> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const chunk = Buffer.concat(pending, pendingBytes);
      const id = blockId(offset);
      await blob.stageBlock(id, chunk, chunk.length);
      blocks.push({ id, size: chunk.length });
      offset += chunk.length;
      pending = [];
      pendingBytes = 0;
    };
    for await (const data of body) {
      let buf = data as Buffer;
      while (buf.length > 0) {
        const take = Math.min(buf.length, BLOCK_BYTES - pendingBytes);
        pending.push(buf.subarray(0, take));
        pendingBytes += take;
        buf = buf.subarray(take);
        if (pendingBytes === BLOCK_BYTES) await flush();
      }
    }
    await flush();
    return offset;
  }

  /** Commits the staged blocks and records the SHA-256, read back from the blob in one pass. */
  private async commit(blob: BlockBlobClient, blocks: StagedBlock[], contentType: string): Promise<string> {
    await blob.commitBlockList(
      blocks.map((b) => b.id),
      { blobHTTPHeaders: { blobContentType: contentType } },
    );
    const hash = createHash('sha256');
    const download = await blob.download();
    for await (const chunk of download.readableStreamBody!) hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
    await blob.setMetadata({ sha256 });
    return sha256;
  }
}

interface StagedBlock {
  id: string;
  size: number;
}

/** Block ids encode the byte offset, so staged blocks can be put back in order after a crash. */
function blockId(offset: number): string {
  return Buffer.from(`off-${String(offset).padStart(15, '0')}`).toString('base64');
}

async function stagedBlocks(blob: BlockBlobClient): Promise<StagedBlock[]> {
  const list = await blob
    .getBlockList('uncommitted')
    .catch((err) => (isNotFound(err) ? { uncommittedBlocks: [] } : Promise.reject(err)));
  const blocks = (list.uncommittedBlocks ?? []).map((b) => ({
    id: b.name,
    size: b.size,
    offset: Number(Buffer.from(b.name, 'base64').toString().slice(4)),
  }));
  blocks.sort((a, b) => a.offset - b.offset);
  // Keep only a contiguous run from byte 0; anything after a gap is downloaded again.
  const run: StagedBlock[] = [];
  let next = 0;
  for (const b of blocks) {
    if (b.offset !== next) break;
    run.push({ id: b.id, size: b.size });
    next += b.size;
  }
  return run;
}
