import type { Client } from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttachmentSource, ExistingAttachment, MailboxAttachments } from './attachment-source';
import {
  asMailboxError,
  beforeWrite,
  GRAPH_REQUEST_TIMEOUT_MS,
  GRAPH_SETTLE_SECONDS,
  GraphCallError,
  timeoutSignal,
  translateGraphError,
} from './graph-client';
import { OutcomeUnknownError, RetryLaterError } from '../errors';
import { parseRetryAfter } from '../retry-after';
import { uploadRequest, type UploadHttp, type UploadReply } from './upload-http';

const MB = 1024 * 1024;
/** Below this a file goes inline as base64 (the 4 MB request cap leaves room for ~3 MB). */
export const UPLOAD_SESSION_MIN_BYTES = 3 * MB;
/**
 * Graph's request cap. A POST carries the file base64-encoded inside JSON, so a file just under
 * 3 MB can still make a body over 4 MB; such a file goes through an upload session, whose real
 * minimum is 2 MiB (ErrorAttachmentSizeShouldNotBeLessThanMinimumSize below that, as observed in
 * msgraph-sdk-java#52), not the 3 MB the docs recommend.
 */
export const MAX_REQUEST_BYTES = 4 * MB;
export const UPLOAD_SESSION_MAX_BYTES = 150 * MB;
/** Chunks must be under 4 MB and, except the last, a multiple of 320 KiB. */
export const UPLOAD_CHUNK_BYTES = 10 * 320 * 1024;
const BASE_SELECT = 'id,name,size';
const IDENTITY_SELECT = `${BASE_SELECT},microsoft.graph.fileAttachment/contentId`;
// Short throttling waits are spent in-process (as graph-client.ts does); longer ones reschedule.
const MAX_IN_PROCESS_WAIT_SECONDS = 2;
// Failed chunk attempts in a row, each followed by a status check, before the delivery is rescheduled.
const MAX_ATTEMPTS_WITHOUT_PROGRESS = 5;
// Status checks after a failed chunk before its outcome is given up as unknown.
const MAX_STATUS_CHECKS = 3;

type Target = { mailbox: string; userId: string };

/**
 * Adds file attachments to an existing (non-draft) message: small files by POST, larger ones
 * through an upload session whose chunks are streamed from the source, so memory stays at one chunk.
 */
export class GraphAttachments implements MailboxAttachments {
  /** One POST, or an upload session: one create plus a PUT per chunk. */
  requestsToAdd(file: { name: string; contentType?: string; size: number }): number {
    return usesUploadSession(file) ? 1 + Math.ceil(file.size / (this.opts.chunkBytes ?? UPLOAD_CHUNK_BYTES)) : 1;
  }

  constructor(
    private readonly graph: Client,
    private readonly opts: { chunkBytes?: number; http?: UploadHttp } = {},
  ) {}

  /**
   * What a message holds, with each attachment's identity. A listing is of the base attachment
   * type, so contentId (a fileAttachment property) must be selected with its type cast; contentBytes
   * stays out. Should a service refuse the cast, the listing falls back to names and sizes, which
   * compareAttachments matches one for one; that is unverified against a live tenant, so it is kept
   * to this one place.
   */
  list(target: Target, messageId: string, fence?: AbortSignal): Promise<ExistingAttachment[]> {
    return this.listAttachments(target, messageId, fence).catch((err: unknown) => Promise.reject(asMailboxError(err)));
  }

  add(target: Target, messageId: string, file: AttachmentSource, fence?: AbortSignal): Promise<void> {
    return this.addAttachment(target, messageId, file, fence).catch((err: unknown) =>
      Promise.reject(asMailboxError(err)),
    );
  }

  private async listAttachments(target: Target, messageId: string, fence?: AbortSignal): Promise<ExistingAttachment[]> {
    if (!GraphAttachments.castRefused) {
      try {
        return await this.listWith(IDENTITY_SELECT, target, messageId, fence);
      } catch (err) {
        if (!(err instanceof GraphCallError && err.status === 400)) throw err;
        GraphAttachments.castRefused = true;
      }
    }
    return this.listWith(BASE_SELECT, target, messageId, fence);
  }

  private static castRefused = false;

  private async listWith(
    select: string,
    target: Target,
    messageId: string,
    fence?: AbortSignal,
  ): Promise<ExistingAttachment[]> {
    const found: ExistingAttachment[] = [];
    try {
      let page: { value: MicrosoftGraph.Attachment[]; '@odata.nextLink'?: string } = await this.graph
        .api(attachmentsPath(target, messageId))
        .select(select)
        .options({ signal: timeoutSignal(fence) })
        .get();
      for (;;) {
        for (const a of page.value) {
          const contentId = (a as MicrosoftGraph.FileAttachment).contentId;
          found.push({ name: a.name ?? '', size: a.size ?? 0, ...(contentId ? { contentId } : {}) });
        }
        const next = page['@odata.nextLink'];
        if (!next) return found;
        page = await this.graph
          .api(next)
          .options({ signal: timeoutSignal(fence) })
          .get();
      }
    } catch (err) {
      throw translateGraphError(err, 'list attachments', fence);
    }
  }

  private async addAttachment(
    target: Target,
    messageId: string,
    file: AttachmentSource,
    fence?: AbortSignal,
  ): Promise<void> {
    const name = safeAttachmentName(file.name);
    const contentType = safeContentType(file.contentType);
    if (
      file.size < UPLOAD_SESSION_MIN_BYTES &&
      postBodyBytes(name, contentType, file.size, file.contentId) <= MAX_REQUEST_BYTES
    ) {
      return this.post(target, messageId, file, name, contentType, fence);
    }
    if (file.size > UPLOAD_SESSION_MAX_BYTES) {
      throw new Error(
        `attachment of ${file.size} bytes is over Graph's ${UPLOAD_SESSION_MAX_BYTES}-byte limit; keep it in Blob storage`,
      );
    }
    return this.upload(target, messageId, file, name, contentType, fence);
  }

  private async post(
    target: Target,
    messageId: string,
    file: AttachmentSource,
    name: string,
    contentType: string,
    fence?: AbortSignal,
  ): Promise<void> {
    const bytes = await readAll(await file.open(0), file.size);
    const body = postBody(name, contentType, bytes.toString('base64'), file.contentId);
    beforeWrite(fence);
    try {
      await this.graph
        .api(attachmentsPath(target, messageId))
        .options({ signal: timeoutSignal(fence) })
        .post(body);
    } catch (err) {
      throw translateGraphError(err, 'add attachment', fence, { write: true });
    }
  }

  private async upload(
    target: Target,
    messageId: string,
    file: AttachmentSource,
    name: string,
    contentType: string,
    fence?: AbortSignal,
  ): Promise<void> {
    let session: MicrosoftGraph.UploadSession;
    beforeWrite(fence);
    try {
      session = await this.graph
        .api(`${attachmentsPath(target, messageId)}/createUploadSession`)
        .options({ signal: timeoutSignal(fence) })
        .post({
          AttachmentItem: {
            attachmentType: 'file',
            name,
            size: file.size,
            contentType,
            contentId: file.contentId,
            isInline: false,
          },
        });
    } catch (err) {
      throw translateGraphError(err, 'create upload session', fence, { write: true });
    }
    const uploadUrl = session.uploadUrl;
    if (!uploadUrl) throw new Error('Graph returned an upload session without an uploadUrl');

    const writer = new UploadSessionWriter(
      uploadUrl,
      file,
      this.opts.chunkBytes ?? UPLOAD_CHUNK_BYTES,
      this.opts.http ?? uploadRequest,
      fence,
    );
    const outcome = await writer.run(nextExpected(session) ?? 0);
    if (outcome === 'uncertain') {
      // The final chunk's answer was lost and the session is gone: it completed if the attachment is there.
      const existing = await this.list(target, messageId, fence);
      if (!existing.some((a) => a.contentId === file.contentId)) {
        throw new OutcomeUnknownError(GRAPH_SETTLE_SECONDS, 'upload session ended without a confirmed attachment');
      }
    }
  }
}

/**
 * PUTs the chunks to a pre-authenticated upload URL (another host than Graph, so no token may be
 * sent; a plain request keeps the SDK's auth middleware out of it). After a reset, timeout or 5xx the
 * URL is asked where to resume: the v3 SDK cannot do that with Outlook's `NextExpectedRanges` casing.
 */
class UploadSessionWriter {
  constructor(
    private readonly url: string,
    private readonly file: AttachmentSource,
    private readonly chunkBytes: number,
    private readonly http: UploadHttp,
    private readonly fence?: AbortSignal,
  ) {}

  async run(start: number): Promise<'done' | 'uncertain'> {
    let offset = start;
    let reader: ChunkReader | undefined;
    let failures = 0;
    let sentLast = false;
    // The chunk that failed is usually the one to send again; keep it rather than reopen the source.
    let last: { start: number; bytes: Buffer } | undefined;
    // One chunk buffer for the whole upload: each chunk is answered before the next is read.
    const buffer = Buffer.allocUnsafe(Math.min(this.chunkBytes, this.file.size));
    try {
      for (;;) {
        const end = Math.min(offset + this.chunkBytes, this.file.size);
        let chunk: Buffer;
        if (last?.start === offset && last.bytes.length === end - offset) {
          chunk = last.bytes;
        } else {
          if (!reader || reader.position !== offset) {
            reader?.close();
            reader = new ChunkReader(await this.file.open(offset), offset, buffer);
          }
          chunk = await reader.read(end - offset);
          last = { start: offset, bytes: chunk };
        }
        let reply: ChunkReply;
        beforeWrite(this.fence);
        try {
          sentLast = end === this.file.size;
          reply = await this.put(chunk, offset, end);
        } catch (err) {
          if (this.fence?.aborted) throw this.fence.reason;
          reply = { kind: 'failed', reason: describe(err) };
        }
        if (reply.kind === 'complete') return 'done';
        if (reply.kind === 'next' && reply.offset > offset) {
          offset = reply.offset;
          failures = 0;
          continue;
        }
        if (reply.kind === 'gone') {
          // The last chunk may have completed the session before its answer was lost.
          if (sentLast) return 'uncertain';
          throw new RetryLaterError(5, 'attachment upload session expired');
        }
        if (reply.kind === 'throttled') {
          if (reply.retryAfterSeconds > MAX_IN_PROCESS_WAIT_SECONDS) throw reply.error;
          await sleep(reply.retryAfterSeconds * 1000);
        }
        if (reply.kind === 'unavailable' && reply.retryAfterSeconds > MAX_IN_PROCESS_WAIT_SECONDS) {
          // Not waited out in process. A middle chunk's fate does not matter (the next attempt
          // starts a new session); the last one may have completed the attachment.
          if (sentLast)
            throw new OutcomeUnknownError(
              Math.max(reply.retryAfterSeconds, GRAPH_SETTLE_SECONDS),
              `upload attachment chunk: ${reply.reason}`,
            );
          throw new RetryLaterError(reply.retryAfterSeconds, `upload attachment chunk: ${reply.reason}`);
        }
        if (reply.kind === 'unavailable') await sleep(reply.retryAfterSeconds * 1000);
        if (reply.kind === 'rejected') throw reply.error;
        failures += 1;
        if (failures > MAX_ATTEMPTS_WITHOUT_PROGRESS) {
          throw new OutcomeUnknownError(
            GRAPH_SETTLE_SECONDS,
            `attachment upload made no progress: ${'reason' in reply ? reply.reason : 'range not accepted'}`,
          );
        }
        // A chunk whose answer was lost may be stored: nothing is sent again until the session says
        // where it stands.
        const status = await this.whereToResume(failures);
        if (status === 'gone') {
          if (sentLast) return 'uncertain';
          throw new RetryLaterError(5, 'attachment upload session expired');
        }
        offset = status;
      }
    } finally {
      reader?.close();
    }
  }

  private async put(chunk: Buffer, start: number, end: number): Promise<ChunkReply> {
    const res = await this.http(this.url, {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `bytes ${start}-${end - 1}/${this.file.size}`,
      },
      body: chunk,
      timeoutMs: GRAPH_REQUEST_TIMEOUT_MS,
      signal: this.fence,
    });
    const text = res.text;
    if (res.status === 201) return { kind: 'complete' };
    if (res.status === 200 || res.status === 202) {
      const next = nextExpected(parseJson(text));
      return next === undefined ? { kind: 'failed', reason: 'no next expected range' } : { kind: 'next', offset: next };
    }
    // 416: not the range the session expects; the status check says which one it does.
    if (res.status === 416) return { kind: 'failed', reason: 'range not expected' };
    if (res.status === 404) return { kind: 'gone' };
    return classify(res, text, 'upload attachment chunk');
  }

  /** Asks the session until it answers; one that never does leaves the chunk's outcome unknown. */
  private async whereToResume(failures: number): Promise<number | 'gone'> {
    for (let asked = 0; asked < MAX_STATUS_CHECKS; asked++) {
      await sleep(Math.min(2000, 100 * 2 ** (failures + asked)) * (0.5 + Math.random()));
      const status = await this.status();
      if (status !== undefined) return status;
    }
    throw new OutcomeUnknownError(GRAPH_SETTLE_SECONDS, 'the upload session did not say where to resume');
  }

  /** The offset the session expects next; 'gone' when the session no longer exists. */
  private async status(): Promise<number | 'gone' | undefined> {
    try {
      const res = await this.http(this.url, { method: 'GET', timeoutMs: GRAPH_REQUEST_TIMEOUT_MS, signal: this.fence });
      const text = res.text;
      if (res.status === 404) return 'gone';
      if (res.status >= 300) {
        const reply = classify(res, text, 'check upload session');
        if (reply.kind === 'throttled' && reply.retryAfterSeconds > MAX_IN_PROCESS_WAIT_SECONDS) throw reply.error;
        if (reply.kind === 'rejected') throw reply.error;
        return undefined;
      }
      return nextExpected(parseJson(text));
    } catch (err) {
      if (err instanceof RetryLaterError || (err as Error).name === 'GraphCallError') throw err;
      return undefined; // a network failure here is retried with the next chunk attempt
    }
  }
}

type ChunkReply =
  | { kind: 'complete' }
  | { kind: 'gone' }
  | { kind: 'next'; offset: number }
  | { kind: 'throttled'; retryAfterSeconds: number; error: Error }
  | { kind: 'unavailable'; retryAfterSeconds: number; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'rejected'; error: Error };

function classify(res: UploadReply, text: string, what: string): ChunkReply {
  const body = parseJson(text) as { error?: { code?: string; message?: string } } | undefined;
  const error = translateGraphError(
    {
      statusCode: res.status,
      code: body?.error?.code,
      message: body?.error?.message ?? `HTTP ${res.status}`,
      headers: res.headers,
    },
    what,
  );
  // Only a 429 is refused before any work; a 503 or 504 may have stored the chunk, so the status
  // check decides what is sent next (after the Retry-After, where one is given).
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  if (res.status === 429) return { kind: 'throttled', retryAfterSeconds: retryAfter ?? 1, error };
  if (res.status >= 500 && retryAfter !== undefined)
    return { kind: 'unavailable', retryAfterSeconds: retryAfter, reason: `HTTP ${res.status}` };
  if (res.status >= 500) return { kind: 'failed', reason: `HTTP ${res.status}` };
  return { kind: 'rejected', error };
}

/** Reads exact-size chunks from a byte stream into one reused buffer. */
class ChunkReader {
  private readonly iterator: AsyncIterator<unknown>;
  private pending: Buffer | undefined;

  constructor(
    private readonly stream: Readable,
    public position: number,
    private readonly buffer: Buffer,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next `length` bytes; valid until the next read. */
  async read(length: number): Promise<Buffer> {
    const out = this.buffer.subarray(0, length);
    let filled = 0;
    while (filled < length) {
      if (!this.pending || this.pending.length === 0) {
        const next = await this.iterator.next();
        if (next.done)
          throw new Error(`attachment source ended at ${this.position + filled}, before the declared size`);
        this.pending = toBuffer(next.value);
        continue;
      }
      const n = Math.min(length - filled, this.pending.length);
      this.pending.copy(out, filled, 0, n);
      this.pending = this.pending.subarray(n);
      filled += n;
    }
    this.position += length;
    return out;
  }

  close(): void {
    this.stream.destroy();
  }
}

async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const part of stream) {
      const buf = toBuffer(part);
      total += buf.length;
      if (total > size) throw new Error(`attachment source is longer than its declared ${size} bytes`);
      parts.push(buf);
    }
  } finally {
    stream.destroy();
  }
  if (total !== size) throw new Error(`attachment source gave ${total} bytes, not the declared ${size}`);
  return Buffer.concat(parts, total);
}

function toBuffer(part: unknown): Buffer {
  if (Buffer.isBuffer(part)) return part;
  if (part instanceof Uint8Array) return Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  if (typeof part === 'string') return Buffer.from(part, 'utf8');
  throw new Error('attachment source must yield bytes');
}

/** The first offset of NextExpectedRanges / nextExpectedRanges ("12345-" or "12345-67890"). */
function nextExpected(body: unknown): number | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const ranges = record['nextExpectedRanges'] ?? record['NextExpectedRanges'];
  if (!Array.isArray(ranges) || ranges.length === 0) return undefined;
  const start = Number(String(ranges[0]).split('-')[0]);
  return Number.isInteger(start) && start >= 0 ? start : undefined;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  return [e.name, e.cause?.code ?? e.message].filter(Boolean).join(': ');
}

function postBody(
  name: string,
  contentType: string,
  contentBytes: string,
  contentId: string,
): MicrosoftGraph.FileAttachment & { '@odata.type': string } {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name,
    contentType,
    contentId,
    isInline: false,
    contentBytes,
  };
}

// The identity's length bound (attachment-identity.ts), so an estimate never under-counts.
const MAX_CONTENT_ID = 'x'.repeat(140);

/** The exact size of the JSON body a POST of this file sends (base64 needs no JSON escaping). */
export function postBodyBytes(name: string, contentType: string, size: number, contentId = MAX_CONTENT_ID): number {
  return Buffer.byteLength(JSON.stringify(postBody(name, contentType, '', contentId))) + 4 * Math.ceil(size / 3);
}

/** Whether `add` sends this file through an upload session rather than one POST. */
export function usesUploadSession(file: {
  name: string;
  contentType?: string;
  size: number;
  contentId?: string;
}): boolean {
  return (
    file.size >= UPLOAD_SESSION_MIN_BYTES ||
    postBodyBytes(safeAttachmentName(file.name), safeContentType(file.contentType), file.size, file.contentId) >
      MAX_REQUEST_BYTES
  );
}

function attachmentsPath(target: Target, messageId: string): string {
  return `/users/${encodeURIComponent(target.userId)}/messages/${encodeURIComponent(messageId)}/attachments`;
}

// Exchange keeps attachment names up to 255 characters; keep the extension when shortening.
const MAX_NAME_LENGTH = 255;

/**
 * A name Graph accepts: control characters and unpaired surrogates go, everything else stays
 * (Outlook itself shows names with / \ : * ? " < > |). Empty or dots-only names become 'attachment'.
 */
export function safeAttachmentName(name: string): string {
  let clean = (name ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/\s+/g, ' ')
    .trim();
  if (!clean || /^\.+$/.test(clean)) return 'attachment';
  if (clean.length > MAX_NAME_LENGTH) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
    clean =
      Array.from(clean.slice(0, MAX_NAME_LENGTH - ext.length))
        .join('')
        .replace(/[\ud800-\udbff]$/, '') + ext;
  }
  return clean;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const CONTENT_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);

function safeContentType(contentType: string | undefined): string {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return CONTENT_TYPE.test(base) ? base : 'application/octet-stream';
}
