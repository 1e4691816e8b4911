/**
 * Attachment upload sessions. The upload URL is pre-authenticated and lives on another host than
 * Graph (outlook.office.com in the real service), so chunk PUTs must carry no Authorization header.
 * Chunk answers use the Outlook REST casing (ExpirationDateTime, NextExpectedRanges: ["<start>"]),
 * as the Outlook large-attachment docs show; the v3 client's LargeFileUploadTask reads either casing.
 */
import { badRequest, GraphHttpError, itemNotFound, type GraphReply } from './http-types';
import { exchangeId, randomToken } from './ids';
import { graphDate } from './message-rules';
import type { GraphContext } from './graph-context';

export interface UploadSession {
  id: string;
  authToken: string;
  userId: string;
  messageId: string;
  name: string;
  size: number;
  contentType: string;
  isInline: boolean;
  contentId: string | null;
  chunks: Buffer[];
  nextOffset: number;
  expiresAt: number;
}

const SESSION_LIFETIME_MS = 15 * 60 * 1000;

export class UploadSessionStore {
  private readonly sessions = new Map<string, UploadSession>();

  open(
    fields: Omit<UploadSession, 'id' | 'authToken' | 'chunks' | 'nextOffset' | 'expiresAt'>,
    now: Date,
  ): UploadSession {
    const session: UploadSession = {
      ...fields,
      id: randomToken(18),
      authToken: randomToken(32),
      chunks: [],
      nextOffset: 0,
      expiresAt: now.getTime() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  find(id: string): UploadSession | undefined {
    return this.sessions.get(id);
  }

  /** The session named by an upload path, if it is still open. */
  sessionForPath(segments: string[]): UploadSession | undefined {
    return segments[0] === 'upload' && segments[1] === 'sessions' && segments[2]
      ? this.sessions.get(segments[2])
      : undefined;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }
}

export function uploadUrlFor(ctx: GraphContext, session: UploadSession): string {
  return `${ctx.uploadBaseUrl}/upload/sessions/${session.id}?authtoken=${session.authToken}`;
}

/** Handles PUT (a chunk), GET (status) and DELETE (cancel) on an upload URL. */
export function handleUploadRequest(
  ctx: GraphContext,
  segments: string[],
  query: URLSearchParams,
  method: string,
  headers: Record<string, string>,
  body: Buffer,
): GraphReply {
  if (headers['authorization'] !== undefined) {
    throw new GraphHttpError(
      401,
      'InvalidAuthenticationToken',
      'The upload URL is pre-authenticated; an Authorization header must not be sent.',
    );
  }
  const session = ctx.uploads.sessionForPath(segments);
  const now = ctx.now();
  if (!session || session.expiresAt <= now.getTime()) throw itemNotFound();
  if (query.get('authtoken') !== session.authToken) {
    throw new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  }

  if (method === 'DELETE') {
    ctx.uploads.close(session.id);
    return { status: 204 };
  }
  if (method === 'GET') return { status: 200, body: statusBody(ctx, session) };
  if (method !== 'PUT')
    throw new GraphHttpError(405, 'BadRequest', 'Specified HTTP method is not allowed for the request uri.');

  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
  if (!range) throw badRequest('The Content-Range header is missing or malformed.', 'ErrorInvalidContentRange');
  const start = Number(range[1]);
  const end = Number(range[2]);
  const total = Number(range[3]);
  if (total !== session.size)
    throw badRequest(
      `The total size ${total} does not match the session size ${session.size}.`,
      'ErrorInvalidContentRange',
    );
  if (end < start || end >= total) throw badRequest('The Content-Range is not valid.', 'ErrorInvalidContentRange');
  if (end - start + 1 > ctx.limits.maxRequestBytes) {
    throw new GraphHttpError(413, 'RequestEntityTooLarge', 'The chunk is larger than 4 MB.');
  }
  if (body.length !== end - start + 1)
    throw badRequest('The body length does not match the Content-Range.', 'ErrorInvalidContentRange');
  if (start !== session.nextOffset) {
    return {
      status: 416,
      body: {
        error: { code: 'ErrorInvalidRange', message: `The range ${start}-${end} is not the next expected range.` },
        ...statusBody(ctx, session),
      },
    };
  }

  session.chunks.push(Buffer.from(body));
  session.nextOffset = end + 1;
  session.expiresAt = now.getTime() + SESSION_LIFETIME_MS;
  if (session.nextOffset < session.size) return { status: 200, body: statusBody(ctx, session) };

  ctx.uploads.close(session.id);
  const user = ctx.state.findUser(session.userId);
  const message = user ? ctx.state.mailboxOf(user).messages.get(session.messageId) : undefined;
  if (!message) throw itemNotFound();
  const attachmentId = exchangeId('AAMkAA');
  message.attachments.push({
    id: attachmentId,
    name: session.name,
    contentType: session.contentType,
    size: session.size,
    isInline: session.isInline,
    contentId: session.contentId,
    lastModifiedDateTime: graphDate(now),
    via: 'uploadSession',
    bytes: Buffer.concat(session.chunks),
  });
  if (!session.isInline) message.hasAttachments = true;
  return {
    status: 201,
    headers: {
      Location: `${ctx.uploadBaseUrl}/api/v2.0/Users('${session.userId}')/Messages('${session.messageId}')/Attachments('${attachmentId}')`,
    },
  };
}

function statusBody(ctx: GraphContext, session: UploadSession): Record<string, unknown> {
  return {
    '@odata.context': `${ctx.uploadBaseUrl}/api/v2.0/$metadata#Microsoft.OutlookServices.UploadSession`,
    ExpirationDateTime: new Date(session.expiresAt).toISOString(),
    NextExpectedRanges: [String(session.nextOffset)],
  };
}
