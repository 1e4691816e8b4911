/**
 * Microsoft Graph double (mail and directory subset) over https on 127.0.0.1.
 *
 * Pointing the real @microsoft/microsoft-graph-client v3 at it needs three things:
 *   Client.initWithMiddleware({ authProvider, baseUrl: double.url, customHosts: new Set(['127.0.0.1']) })
 * - baseUrl: the double's origin (the client appends /v1.0/...);
 * - customHosts: the host name only, no port and no scheme ('127.0.0.1'); the client checks the
 *   host of each URL against it before attaching the bearer token;
 * - https: the client attaches the token to https URLs only, hence TLS with the dev certificate,
 *   trusted through NODE_EXTRA_CA_CERTS set before node starts.
 * Upload-session URLs point at `uploadHostName` (default 'localhost'), a host that is not in
 * customHosts, so the client sends chunk PUTs without a token, as with outlook.office.com.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBatch, type BatchRequestItem } from './batch';
import { FaultInjector, strikesAfterWork, type FaultSpec, type InjectedFault } from './faults';
import type { GraphContext, GraphLimits } from './graph-context';
import { errorReply, GraphHttpError, type GraphCall, type GraphReply } from './http-types';
import {
  folderByPath,
  seedMessages,
  TenantState,
  type GraphDoubleUser,
  type SeededMessage,
  type StoredFolder,
  type StoredMessage,
} from './mailbox-state';
import { jsonBody } from './mail-api';
import { resolveRoute } from './route-table';
import { seededRandom } from '../../seeded-random';
import { DEFAULT_LIMITS, MailboxThrottle, type ThrottleReason } from './throttling';
import { handleUploadRequest, UploadSessionStore } from './upload-sessions';

export type { GraphDoubleUser, StoredMessage, StoredAttachment, StoredFolder, SeededMessage } from './mailbox-state';
export type { FaultSpec, FaultKind, InjectedFault } from './faults';

export interface GraphDoubleOptions {
  tls: { keyPem: string; certPem: string };
  /** Accepts the bearer token (without the 'Bearer ' prefix) or returns null. */
  verifyToken: (token: string) => unknown | null;
  users: GraphDoubleUser[];
  port?: number;
  uploadHostName?: string;
  limits?: Partial<GraphLimits>;
  /** Simulated service time per request, drawn uniformly from [min, max] ms; none by default. */
  latencyMs?: { create?: [number, number]; other?: [number, number] };
  seed?: number;
}

export interface GraphDoubleStats {
  /** Requests seen, by route name (e.g. 'messages.create', 'upload.put'). */
  requests: Record<string, number>;
  totalRequests: number;
  throttled: number;
  throttledBy: Record<ThrottleReason, number>;
  faultsFired: number;
  /** Faults that struck after the operation was carried out (the write is stored, its answer is not delivered intact). */
  faultsAfterWork: number;
  /** Highest number of requests in flight at once, per mailbox (keyed by the user's mail). */
  maxConcurrency: Record<string, number>;
  /** Upload-session bytes accepted. */
  uploadedBytes: number;
}

export interface MailboxSnapshot {
  user: GraphDoubleUser;
  folders: Array<StoredFolder & { path: string }>;
  messages: StoredMessage[];
}

export interface GraphDouble {
  /** https://127.0.0.1:PORT, the client's baseUrl. */
  url: string;
  /** https://<uploadHostName>:PORT, where upload-session URLs point. */
  uploadBaseUrl: string;
  port: number;
  faults: { inject(spec: FaultSpec): InjectedFault; clear(): void };
  /** Live stored state of a mailbox (by id, UPN or any SMTP address). */
  mailbox(addressOrId: string): MailboxSnapshot;
  /** Messages in a folder given by display-name path, e.g. 'Inbox/RingCentral'; [] if the folder is missing. */
  messagesIn(addressOrId: string, folderPath?: string): StoredMessage[];
  addUser(user: GraphDoubleUser): void;
  /**
   * Writes messages straight into a mailbox folder (default Inbox/RingCentral, created if missing),
   * without requests: for histories too large to create one by one. Returns how many were added.
   */
  seedMessages(addressOrId: string, messages: SeededMessage[], folderPath?: string): number;
  /** Empties every mailbox and upload session, clears faults, throttling state and stats. Users stay. */
  reset(): void;
  readonly stats: GraphDoubleStats;
  close(): Promise<void>;
}

export async function startGraphDouble(opts: GraphDoubleOptions): Promise<GraphDouble> {
  const limits: GraphLimits = { ...DEFAULT_LIMITS, maxMessageBytes: 35 * 1024 * 1024, ...opts.limits };
  const uploadHostName = opts.uploadHostName ?? 'localhost';
  const random = seededRandom(opts.seed ?? 1);
  const state = new TenantState(opts.users);
  const throttle = new MailboxThrottle(limits);
  const faults = new FaultInjector(random, (key) => state.findUser(key)?.id);
  const ctx: GraphContext = {
    state,
    uploads: new UploadSessionStore(),
    limits,
    graphBaseUrl: '',
    uploadBaseUrl: '',
    now: () => new Date(),
  };
  let stats = emptyStats();

  const server = createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const reply = errorReply(new GraphHttpError(500, 'InternalServerError', String(error)), randomUUID());
      if (!res.headersSent) send(res, reply);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId =
      typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : randomUUID();
    const url = new URL(req.url ?? '/', 'https://double.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const headers = lowerCaseHeaders(req);
    const { body, tooLarge } = await readBody(req, limits.maxRequestBytes);
    const fail = (error: GraphHttpError): void => send(res, errorReply(error, requestId));

    const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const isUpload = segments[0] === 'upload';
    if (isUpload !== (hostName === uploadHostName) && uploadHostName !== '127.0.0.1') {
      fail(new GraphHttpError(404, 'NotFound', `No resource at ${url.pathname} on host ${hostName}.`));
      return;
    }

    let routeName: string;
    let mailboxId: string | undefined;
    let run: () => Promise<GraphReply> | GraphReply;
    if (isUpload) {
      routeName = `upload.${method.toLowerCase()}`;
      mailboxId = ctx.uploads.sessionForPath(segments)?.userId;
      run = () => {
        const reply = handleUploadRequest(ctx, segments, url.searchParams, method, headers, body);
        if (method === 'PUT' && reply.status < 300) stats.uploadedBytes += body.length;
        return reply;
      };
    } else {
      if (segments[0] !== 'v1.0') {
        fail(new GraphHttpError(400, 'BadRequest', `Invalid version: ${segments[0] ?? ''}`));
        return;
      }
      const call: GraphCall = { method, segments: segments.slice(1), query: url.searchParams, headers, body };
      if (call.segments.length === 1 && call.segments[0] === '$batch') {
        routeName = 'batch';
        run = () => runBatch(jsonBody(call), (item) => runInner(item, requestId));
      } else {
        let route;
        try {
          route = resolveRoute(method, call.segments);
        } catch (error) {
          count('unrouted');
          if (error instanceof GraphHttpError) return fail(error);
          throw error;
        }
        routeName = route.name;
        mailboxId = route.mailboxKey === undefined ? undefined : state.findUser(route.mailboxKey)?.id;
        run = () => route.run(ctx, call);
      }
    }
    count(routeName);

    const fault = faults.pick({ method, decodedPathAndQuery: safeDecode(url.pathname + url.search), mailboxId });
    if (fault) stats.faultsFired += 1;
    const faultAfter = fault && strikesAfterWork(fault) ? fault : undefined;
    const faultBefore = faultAfter ? undefined : fault;
    if (faultBefore?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (faultBefore?.kind === '429' || faultBefore?.kind === '503' || faultBefore?.kind === '504') {
      return fail(injectedError(faultBefore));
    }

    if (!isUpload) {
      const auth = headers['authorization'] ?? '';
      const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
      if (!token) return fail(new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token is empty.'));
      if (!opts.verifyToken(token))
        return fail(
          new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'),
        );
    }
    if (tooLarge) return fail(new GraphHttpError(413, 'BadRequest', 'The maximum request length supported is 4MB.'));

    // A slow service holds its concurrency slot, so the delay is spent inside admission.
    const extraDelayMs = faultBefore?.kind === 'slow' ? (faultBefore.delayMs ?? 2000) : 0;
    const reply = await admitted(
      mailboxId,
      method,
      body.length,
      routeName.endsWith('.create'),
      run,
      requestId,
      extraDelayMs,
    );
    // Only a write that was carried out can lose its answer afterwards (not one the double throttled).
    if (faultAfter && reply.status < 300) {
      stats.faultsAfterWork += 1;
      // The operation happened; the client hears nothing, an error, or its answer too late.
      if (faultAfter.kind === 'reset' || faultAfter.kind === 'lostResponse') {
        req.socket.destroy();
        return;
      }
      if (faultAfter.kind === '503' || faultAfter.kind === '504') return fail(injectedError(faultAfter));
      if (faultAfter.kind === 'slow') await sleep(faultAfter.delayMs ?? 2000);
      if (res.destroyed) return;
    }
    send(res, { ...reply, headers: { 'request-id': requestId, 'client-request-id': requestId, ...reply.headers } });
  }

  /** Applies the per-mailbox limits and the simulated service time around one operation. */
  async function admitted(
    mailboxId: string | undefined,
    method: string,
    bodyBytes: number,
    isCreate: boolean,
    run: () => Promise<GraphReply> | GraphReply,
    requestId: string,
    extraDelayMs = 0,
  ): Promise<GraphReply> {
    let release = (): void => {};
    if (mailboxId !== undefined) {
      const uploadBytes = ['POST', 'PUT', 'PATCH'].includes(method) ? bodyBytes : 0;
      const admission = throttle.admit(mailboxId, uploadBytes);
      if (!admission.admitted) {
        stats.throttled += 1;
        stats.throttledBy[admission.reason] += 1;
        return errorReply(
          new GraphHttpError(
            429,
            'ApplicationThrottled',
            `Application is over its ${admission.reason} limit.`,
            { 'Retry-After': String(admission.retryAfterSeconds) },
            admission.reason,
          ),
          requestId,
        );
      }
      release = admission.release;
    }
    try {
      const range = isCreate ? opts.latencyMs?.create : opts.latencyMs?.other;
      const serviceMs = (range ? range[0] + random() * Math.max(0, range[1] - range[0]) : 0) + extraDelayMs;
      if (serviceMs > 0) await sleep(serviceMs);
      return await run();
    } catch (error) {
      if (error instanceof GraphHttpError) return errorReply(error, requestId);
      throw error;
    } finally {
      release();
    }
  }

  async function runInner(item: BatchRequestItem, requestId: string): Promise<GraphReply> {
    const url = new URL(`https://double.invalid/v1.0/${item.url.replace(/^\/+/, '')}`);
    const segments = url.pathname.split('/').filter(Boolean).slice(1).map(safeDecode);
    const headers = Object.fromEntries(
      Object.entries(item.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    const body =
      item.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(typeof item.body === 'string' ? item.body : JSON.stringify(item.body), 'utf8');
    const method = item.method.toUpperCase();
    let route;
    try {
      if (segments[0] === '$batch') throw new GraphHttpError(400, 'BadRequest', 'A batch cannot contain a batch.');
      route = resolveRoute(method, segments);
    } catch (error) {
      if (error instanceof GraphHttpError) return errorReply(error, requestId);
      throw error;
    }
    count(route.name);
    const call: GraphCall = { method, segments, query: url.searchParams, headers, body };
    const mailboxId = route.mailboxKey === undefined ? undefined : state.findUser(route.mailboxKey)?.id;
    return admitted(mailboxId, method, body.length, route.isCreate, () => route.run(ctx, call), requestId);
  }

  function count(routeName: string): void {
    stats.totalRequests += 1;
    stats.requests[routeName] = (stats.requests[routeName] ?? 0) + 1;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.graphBaseUrl = `https://127.0.0.1:${port}`;
  ctx.uploadBaseUrl = `https://${uploadHostName}:${port}`;

  function requireUser(addressOrId: string): GraphDoubleUser {
    const user = state.findUser(addressOrId);
    if (!user) throw new Error(`Graph double: no user '${addressOrId}'`);
    return user;
  }

  return {
    url: ctx.graphBaseUrl,
    uploadBaseUrl: ctx.uploadBaseUrl,
    port,
    faults: { inject: (spec) => faults.inject(spec), clear: () => faults.clear() },
    mailbox(addressOrId) {
      const mailbox = state.mailboxOf(requireUser(addressOrId));
      const pathOf = (folder: StoredFolder): string => {
        const parent = mailbox.folders.get(folder.parentFolderId);
        return parent ? `${pathOf(parent)}/${folder.displayName}` : folder.displayName;
      };
      return {
        user: mailbox.user,
        folders: [...mailbox.folders.values()].map((f) => ({ ...f, path: pathOf(f) })),
        messages: [...mailbox.messages.values()],
      };
    },
    messagesIn(addressOrId, folderPath = 'Inbox/RingCentral') {
      const mailbox = state.mailboxOf(requireUser(addressOrId));
      const folder = folderByPath(mailbox, folderPath);
      if (!folder) return [];
      return [...mailbox.messages.values()].filter((m) => m.parentFolderId === folder.id);
    },
    addUser: (user) => state.addUser(user),
    seedMessages: (addressOrId, messages, folderPath = 'Inbox/RingCentral') =>
      seedMessages(state.mailboxOf(requireUser(addressOrId)), folderPath, messages),
    reset() {
      state.clearMailboxes();
      ctx.uploads.clear();
      faults.clear();
      throttle.reset();
      stats = emptyStats();
    },
    get stats() {
      const maxConcurrency: Record<string, number> = {};
      for (const [id, max] of Object.entries(throttle.maxConcurrency())) {
        maxConcurrency[state.findUser(id)?.mail.toLowerCase() ?? id] = max;
      }
      return { ...stats, requests: { ...stats.requests }, throttledBy: { ...stats.throttledBy }, maxConcurrency };
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function injectedError(fault: FaultSpec): GraphHttpError {
  const retryAfter = fault.retryAfterSeconds ?? (fault.kind === '429' ? 1 : undefined);
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
  if (fault.kind === '429')
    return new GraphHttpError(
      429,
      'TooManyRequests',
      'Too many requests. Please retry after the time given in Retry-After.',
      headers,
    );
  if (fault.kind === '503')
    return new GraphHttpError(
      503,
      'ServiceUnavailable',
      'The service is temporarily unavailable. Please retry later.',
      headers,
    );
  return new GraphHttpError(
    504,
    'GatewayTimeout',
    'The gateway did not receive a timely response from the service.',
    headers,
  );
}

function emptyStats(): Omit<GraphDoubleStats, 'maxConcurrency'> {
  return {
    requests: {},
    totalRequests: 0,
    throttled: 0,
    throttledBy: { MailboxConcurrency: 0, RequestRate: 0, UploadBytes: 0 },
    faultsFired: 0,
    faultsAfterWork: 0,
    uploadedBytes: 0,
  };
}

function send(res: ServerResponse, reply: GraphReply): void {
  const headers: Record<string, string | number> = { ...(reply.headers ?? {}) };
  let payload: Buffer;
  if (reply.body === undefined) {
    payload = Buffer.alloc(0);
  } else if (Buffer.isBuffer(reply.body)) {
    payload = reply.body;
    headers['Content-Type'] ??= 'application/octet-stream';
  } else {
    payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
    headers['Content-Type'] =
      'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
  }
  headers['Content-Length'] = payload.length;
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Reads the body but keeps at most `limit` bytes; a larger body is drained and flagged. */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
