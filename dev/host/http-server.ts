import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  HttpRequest,
  HttpResponse,
  type Cookie,
  type HttpFunctionOptions,
  type HttpResponseInit,
} from '@azure/functions';
import { type HostStats, type InvocationTracker } from './invocations';
import { isAuthorized, presentedKey, type AuthLevel } from './keys';
import { describeError, newInvocationContext, type HostLogger, type LogSink } from './logging';
import { writeOutputs } from './outputs';
import { compileRoute, type RouteMatcher } from './routes';

export interface HttpServerDeps {
  settings: Record<string, string>;
  routePrefix: string;
  sink: LogSink;
  logger: HostLogger;
  tracker: InvocationTracker;
  stats: HostStats;
  messageEncoding: 'base64' | 'none';
  /** POST /admin/functions/<name> (admin key): runs a non-HTTP function, as the Azure host's admin API does. */
  invokeNonHttp(name: string): Promise<void> | undefined;
}

interface HttpRoute {
  name: string;
  options: HttpFunctionOptions;
  methods: Set<string>;
  authLevel: AuthLevel;
  match: RouteMatcher;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export class HttpFunctionServer {
  private readonly routes: HttpRoute[];
  private readonly server: http.Server;

  constructor(
    functions: Array<{ name: string; options: HttpFunctionOptions }>,
    private readonly deps: HttpServerDeps,
  ) {
    this.routes = functions.map(({ name, options }) => ({
      name,
      options,
      // The library's defaults for app.http: GET and POST, anonymous.
      methods: new Set((options.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase())),
      authLevel: (options.authLevel ?? 'anonymous') as AuthLevel,
      match: compileRoute(options.route ?? name),
    }));
    this.server = http.createServer((req, res) => {
      void this.deps.tracker.track(this.handle(req, res)).catch((err) => {
        this.deps.logger.error(`http: ${describeError(err)}`);
        if (!res.headersSent) sendError(res, 500);
        else res.destroy();
      });
    });
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops accepting connections; the host awaits in-flight requests through the tracker. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await this.deps.tracker.drain();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(safeDecode);

    if (segments[0] === 'admin') return this.handleAdmin(req, res, url, method, segments);

    const prefix = this.deps.routePrefix ? this.deps.routePrefix.split('/') : [];
    const prefixMatches = prefix.every((p, i) => segments[i]?.toLowerCase() === p.toLowerCase());
    if (!prefixMatches) return sendError(res, 404);
    const rest = segments.slice(prefix.length);
    let route: HttpRoute | undefined;
    let params: Record<string, string> | undefined;
    for (const candidate of this.routes) {
      if (!candidate.methods.has(method)) continue;
      params = candidate.match(rest);
      if (params) {
        route = candidate;
        break;
      }
    }
    if (!route || !params) return sendError(res, 404);
    if (!isAuthorized(route.authLevel, presentedKey(req.headers, url.searchParams), this.deps.settings)) {
      req.resume();
      return sendError(res, 401);
    }

    const body = await readBody(req);
    const request = new HttpRequest({
      method,
      // The query is taken from the URL, which keeps repeated keys (the init `query` record would not).
      url: url.toString(),
      headers: flattenHeaders(req.headers),
      params,
      body: body.length > 0 ? { bytes: body } : undefined,
    });
    const invocationId = randomUUID();
    const context = newInvocationContext(this.deps.sink, {
      functionName: route.name,
      invocationId,
      options: {
        trigger: {
          type: 'httpTrigger',
          name: 'request',
          authLevel: route.authLevel,
          methods: [...route.methods],
          route: route.options.route,
        },
        return: route.options.return,
        extraInputs: route.options.extraInputs ?? [],
        extraOutputs: route.options.extraOutputs ?? [],
      },
    });
    let result: HttpResponseInit | HttpResponse | void;
    try {
      result = await route.options.handler(request, context);
      await writeOutputs(context, undefined, this.deps.settings, this.deps.messageEncoding);
    } catch (err) {
      this.deps.stats.record(route.name, 'failed');
      // The stack goes to the log only; the caller gets a generic message.
      this.deps.logger
        .forFunction(route.name, invocationId)
        .error(
          `${route.name} failed: ${describeError(err)}${err instanceof Error && err.stack ? `\n${err.stack}` : ''}`,
        );
      return sendError(res, 500, { error: 'Internal Server Error', invocationId });
    }
    this.deps.stats.record(route.name, 'succeeded');
    await sendResult(res, result ?? {}, method === 'HEAD');
  }

  private async handleAdmin(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    method: string,
    segments: string[],
  ) {
    req.resume();
    if (!isAuthorized('admin', presentedKey(req.headers, url.searchParams), this.deps.settings))
      return sendError(res, 401);
    if (method !== 'POST' || segments.length !== 3 || segments[1] !== 'functions') return sendError(res, 404);
    const run = this.deps.invokeNonHttp(segments[2]!);
    if (!run) return sendError(res, 404);
    run.catch((err) => this.deps.logger.error(`admin invoke ${segments[2]}: ${describeError(err)}`));
    res.writeHead(202).end();
  }
}

async function sendResult(res: http.ServerResponse, result: HttpResponseInit | HttpResponse, headOnly: boolean) {
  let status: number;
  let headers: Headers;
  let cookies: Cookie[];
  let body: unknown;
  if (result instanceof HttpResponse) {
    status = result.status;
    headers = result.headers;
    cookies = result.cookies;
    body = result.body;
  } else {
    status = result.status ?? 200;
    headers = new Headers(result.headers as HeadersInit | undefined);
    cookies = result.cookies ?? [];
    if (result.jsonBody !== undefined) {
      body = JSON.stringify(result.jsonBody);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    } else {
      body = result.body;
    }
  }
  if (NULL_BODY_STATUSES.has(status)) body = undefined;
  if (typeof body === 'string' && !headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
  if (body instanceof URLSearchParams || body instanceof FormData || body instanceof Blob) {
    const converted = new Response(body);
    if (!headers.has('content-type'))
      headers.set('content-type', converted.headers.get('content-type') ?? 'application/octet-stream');
    body = converted.body;
  }

  const outHeaders: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') outHeaders[name] = value;
  });
  const setCookies = [...headers.getSetCookie(), ...cookies.map(serializeCookie)];
  if (setCookies.length) outHeaders['set-cookie'] = setCookies;

  const bytes = toBytes(body);
  if (body === undefined || body === null || bytes) {
    if (bytes) outHeaders['content-length'] = String(bytes.length);
    res.writeHead(status, outHeaders);
    res.end(headOnly ? undefined : bytes);
    return;
  }
  // Streams and async iterables are piped chunk by chunk, never buffered.
  const source = toReadable(body);
  res.writeHead(status, outHeaders);
  res.flushHeaders();
  if (headOnly) {
    source.destroy();
    res.end();
    return;
  }
  try {
    await pipeline(source, res);
  } catch (err) {
    // The status line is already sent; all that is left is to cut the connection.
    res.destroy(err as Error);
  }
}

function toBytes(body: unknown): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

function toReadable(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof ReadableStream) return Readable.fromWeb(body as WebReadableStream);
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false });
  }
  throw new Error(`unsupported HTTP response body type: ${Object.prototype.toString.call(body)}`);
}

function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

function sendError(res: http.ServerResponse, status: number, json?: object) {
  if (json) {
    const text = JSON.stringify(json);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  } else {
    res.writeHead(status, { 'content-length': '0' }).end();
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
