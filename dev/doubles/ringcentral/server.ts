import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type CreateDataExportTaskRequest from '@rc-ex/core/definitions/CreateDataExportTaskRequest';
import type { ExportFile, ExportOrganisation } from '../../../shared/ringcentral/export-records';
import { fileContentStream } from '../../generated-content';
import { TokenAuthority } from './auth';
import { ExportTasks } from './export-tasks';
import { Faults } from './faults';
import { delay, errorBody, readBody, sendJson } from './http-helpers';
import { serveRanged, sliceStream } from './media';
import { MessageStoreReports } from './message-store-reports';
import { emptyVoiceOrganisation, type VoiceOrganisation } from './voice-records';
import { handleVoice, loseAnswer, resolveVoiceRoute, type AppPermission } from './voice-routes';
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateGroup } from './rate-limits';
import { emptyStats, type RequestKind, type RingCentralStats } from './stats';
import { seededRandom } from '../../seeded-random';

export interface RingCentralDoubleOptions {
  org: ExportOrganisation;
  clientId: string;
  clientSecret: string;
  jwt: string;
  port?: number;
  /** Records per `<folder>_<n>.json` (RingCentral: 10,000). */
  recordsPerFile?: number;
  /** Items per dataset zip before the export is split over several datasets; default: never split. */
  maxRecordsPerDataset?: number;
  /** GETs of a task that answer InProgress before it completes (default 1). */
  pollsUntilComplete?: number;
  /** Least time an export attempt takes before it can complete (default 0; real ones take minutes). */
  exportLatencyMs?: number;
  /** Requests per window per group; defaults 50/40/10/5 as documented. */
  rateLimits?: Partial<Record<RateGroup, number>>;
  windowMs?: number;
  penaltyMs?: number;
  /** Added before every answer. */
  latencyMs?: number;
  /** Lifetime of a dataset link handed out by a task GET (default 1 h). */
  datasetLinkTtlMs?: number;
  accessTokenTtlSeconds?: number;
  /** Seed of the RNG behind probabilistic faults. */
  faultSeed?: number;
  /** Extensions, message stores and the call log (voice-records.ts); default: none, under `org.accountId`. */
  voice?: VoiceOrganisation;
  /** How long after a call ends its recording's content stops answering 404 (default 5 min; RingCentral: "some minutes"). */
  recordingDelayMs?: number;
  /** Largest attachment archive of a message store report before the next starts (default 1 GB). */
  maxArchiveBytes?: number;
  /** Shape of `message-store.json` in archive/0: `{records: [...]}` (default) or a bare array. */
  messageStoreJson?: 'records' | 'array';
  /** A message store report task nobody has polled for this long finishes by itself (default 60 s). */
  reportAbandonedAfterMs?: number;
  /** App permissions the app lacks: their routes answer 403 `CMN-401`. */
  missingPermissions?: AppPermission[];
}

export interface RingCentralDouble {
  /** The API server, http://127.0.0.1:PORT. */
  url: string;
  /** The media host (dataset zips, file content): http://localhost:PORT, a different host name than `url`. */
  mediaUrl: string;
  setOrganisation(org: ExportOrganisation): void;
  /** Replaces the voice-and-messaging organisation (tasks not yet completed see the new one). */
  setVoice(voice: VoiceOrganisation): void;
  /** The app loses / regains an app permission (ReadMessages, ReadCallLog, ReadCallRecording, ReadAccounts). */
  revokePermission(permission: AppPermission): void;
  grantPermission(permission: AppPermission): void;
  /** Message store report tasks, for inspection (e.g. that a task exists after its answer was lost). */
  reports: MessageStoreReports;
  faults: Faults;
  stats: RingCentralStats;
  /** Makes every issued access token expired (refresh tokens keep working). */
  expireAccessTokens(): void;
  /** Clears rate-limit counts and penalties. */
  resetRateLimits(): void;
  close(): Promise<void>;
}

interface Route {
  kind: RequestKind;
  group: RateGroup;
  params: string[];
}

const MEDIA_HOST = 'localhost';
const EXPORT_PATH = '/team-messaging/v1/data-export';

/**
 * A RingCentral stand-in for the compliance-export flow: OAuth (JWT and refresh grants), export
 * tasks, dataset zips and file content on a separate media host name, with the documented rate
 * limits, penalties and the faults tests switch on. Media is rate-limited in the Light group.
 */
export async function startRingCentralDouble(opts: RingCentralDoubleOptions): Promise<RingCentralDouble> {
  let org = opts.org;
  let filesById = indexFiles(org);
  const stats = emptyStats();
  const faults = new Faults(seededRandom(opts.faultSeed ?? 1));
  const limiter = new RateLimiter(
    { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits },
    opts.windowMs ?? 60_000,
    opts.penaltyMs ?? 60_000,
  );
  const auth = new TokenAuthority(opts, org.members[0]?.id ?? '0', opts.accessTokenTtlSeconds ?? 3600);
  const sockets = new Set<import('node:net').Socket>();
  let voice = opts.voice ?? emptyVoiceOrganisation(org.accountId);
  const missingPermissions = new Set<AppPermission>(opts.missingPermissions ?? []);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody('CMN-500', `Internal error: ${(err as Error).message}`));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const mediaUrl = `http://${MEDIA_HOST}:${port}`;
  const tasks = new ExportTasks({
    apiUrl: url,
    mediaUrl,
    pollsUntilComplete: opts.pollsUntilComplete ?? 1,
    exportLatencyMs: opts.exportLatencyMs,
    recordsPerFile: opts.recordsPerFile ?? 10_000,
    maxRecordsPerDataset: opts.maxRecordsPerDataset,
    datasetLinkTtlMs: opts.datasetLinkTtlMs ?? 3_600_000,
    organisation: () => org,
    faults,
  });
  const reports = new MessageStoreReports({
    apiUrl: url,
    mediaUrl,
    pollsUntilComplete: opts.pollsUntilComplete ?? 1,
    latencyMs: opts.exportLatencyMs,
    maxArchiveBytes: opts.maxArchiveBytes,
    messageStoreJson: opts.messageStoreJson,
    abandonedAfterMs: opts.reportAbandonedAfterMs,
    voice: () => voice,
    faults,
  });
  const voiceContext = {
    url,
    mediaUrl,
    voice: () => voice,
    reports,
    faults,
    stats,
    missingPermissions,
    recordingDelayMs: opts.recordingDelayMs ?? 300_000,
    now: () => Date.now(),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    if (opts.latencyMs) await delay(opts.latencyMs);
    const reqUrl = new URL(req.url ?? '/', 'http://double');
    const onMedia = hostName(req.headers.host) === MEDIA_HOST;
    const voiceRoute = resolveVoiceRoute(req.method ?? 'GET', reqUrl.pathname, onMedia);
    const route = voiceRoute ?? resolveRoute(req.method ?? 'GET', reqUrl.pathname, onMedia);
    stats.byKind[route.kind]++;
    stats.byGroup[route.group]++;
    stats.timesByGroup[route.group].push(Date.now());

    const fault = faults.takeInjected(reqUrl.pathname);
    const afterCommit = fault?.kind === '504-after-commit' || fault?.kind === 'reset-after-commit' ? fault : undefined;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await delay(fault.delayMs ?? 2000);
    if (fault?.kind === '503') return sendJson(res, 503, errorBody('CMN-211', 'Service Temporarily Unavailable'));
    if (fault?.kind === '429') {
      stats.responses429++;
      return sendJson(res, 429, errorBody('CMN-301', 'Request rate exceeded'), {
        'Retry-After': String(fault.retryAfterSeconds ?? 1),
      });
    }

    const rate = limiter.check(route.group);
    if (!rate.allowed) {
      stats.responses429++;
      if (rate.startedPenalty) stats.penaltiesStarted++;
      if (rate.duringPenalty) stats.requestsDuringPenalty++;
      return sendJson(res, 429, errorBody('CMN-301', 'Request rate exceeded'), {
        ...rate.headers,
        'Retry-After': String(rate.retryAfterSeconds),
      });
    }
    const headers = rate.headers;

    if (route.kind === 'token' || route.kind === 'revoke') {
      const form = new URLSearchParams(await readBody(req));
      if (route.kind === 'revoke') {
        auth.revoke(form.get('token') ?? '');
        res.writeHead(200, headers).end();
        return;
      }
      const outcome = auth.grant(req.headers.authorization, form);
      // After commit: the grant happened (a refresh retired the old pair), the answer is lost.
      if (afterCommit) return loseAnswer(res, afterCommit);
      return sendJson(res, outcome.status, outcome.body, headers);
    }

    const verdict = auth.verify(req, reqUrl);
    if (verdict !== 'ok') {
      stats.unauthorized++;
      const body =
        verdict === 'missing'
          ? errorBody('AGW-401', 'Authorization header is not specified')
          : verdict === 'expired'
            ? errorBody('TokenExpired', 'Access token expired')
            : errorBody('TokenInvalid', 'Invalid token');
      return sendJson(res, 401, body, { ...headers, 'WWW-Authenticate': 'Bearer realm="RingCentral"' });
    }

    if (voiceRoute) return handleVoice(voiceRoute, req, res, reqUrl, headers, voiceContext, afterCommit);
    // After-commit faults run the work first on the paths that change state (create and get a task);
    // elsewhere there is nothing to commit and the answer is simply lost.
    if (afterCommit && route.kind !== 'createTask' && route.kind !== 'getTask') return loseAnswer(res, afterCommit);

    switch (route.kind) {
      case 'createTask': {
        let body: CreateDataExportTaskRequest;
        try {
          body = JSON.parse((await readBody(req)) || '{}') as CreateDataExportTaskRequest;
        } catch {
          return sendJson(res, 400, errorBody('CMN-101', 'Request body is not valid JSON'), headers);
        }
        const outcome = tasks.create(body);
        if (outcome.status !== 200) return sendJson(res, outcome.status, outcome.body, headers);
        stats.tasksCreated++;
        if (afterCommit) return loseAnswer(res, afterCommit);
        return sendJson(res, 200, outcome.task, headers);
      }
      case 'listTasks':
        return sendJson(res, 200, tasks.list(reqUrl.searchParams), headers);
      case 'getTask': {
        const task = await tasks.get(route.params[0]);
        if (afterCommit) return loseAnswer(res, afterCommit);
        return task
          ? sendJson(res, 200, task, headers)
          : sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [taskId] is not found'), headers);
      }
      case 'dataset': {
        const [taskId, datasetId] = route.params;
        const dataset = tasks.resolveLink(taskId, datasetId, reqUrl.searchParams.get('signature'));
        if (dataset === 'expired')
          return sendJson(
            res,
            403,
            errorBody('MediaLinkExpired', 'The dataset link has expired; get the task again for a fresh link'),
            headers,
          );
        if (!dataset)
          return sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [datasetId] is not found'), headers);
        return serveRanged(
          req,
          res,
          {
            totalSize: dataset.size,
            contentType: 'application/zip',
            fileName: `${taskId}_${datasetId}.zip`,
            open: (start, end) => sliceStream(dataset.open(), start, end),
          },
          {
            headers,
            truncateAfter: faults.takeTruncation(reqUrl.pathname),
            onBytes: (n) => {
              stats.bytesServed += n;
            },
          },
        );
      }
      case 'file': {
        const file = filesById.get(route.params[0]);
        if (!file || file.deleted)
          return sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [fileId] is not found'), headers);
        return serveRanged(
          req,
          res,
          {
            totalSize: file.size,
            contentType: contentTypeOf(file.name),
            fileName: file.name,
            open: (start, end) => fileContentStream(file.id, file.size, start, end),
          },
          {
            headers,
            truncateAfter: faults.takeTruncation(reqUrl.pathname),
            onBytes: (n) => {
              stats.bytesServed += n;
            },
          },
        );
      }
      default:
        return sendJson(res, 404, errorBody('CMN-102', `Resource ${reqUrl.pathname} is not found`), headers);
    }
  }

  return {
    url,
    mediaUrl,
    faults,
    stats,
    setOrganisation(next) {
      org = next;
      filesById = indexFiles(next);
    },
    reports,
    setVoice(next) {
      voice = next;
    },
    revokePermission: (permission) => void missingPermissions.add(permission),
    grantPermission: (permission) => void missingPermissions.delete(permission),
    expireAccessTokens: () => auth.expireAccessTokens(),
    resetRateLimits: () => limiter.reset(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function resolveRoute(method: string, path: string, onMedia: boolean): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const route = (kind: RequestKind, group: RateGroup, params: string[] = []): Route => ({ kind, group, params });
  const read = method === 'GET' || method === 'HEAD';
  if (onMedia) {
    // /team-messaging/v1/data-export/{taskId}/datasets/{datasetId}
    if (read && path.startsWith(`${EXPORT_PATH}/`) && parts.length === 6 && parts[4] === 'datasets')
      return route('dataset', 'Light', [parts[3], parts[5]]);
    if (read && parts.length === 2 && parts[0] === 'file') return route('file', 'Light', [parts[1]]);
    return route('unknown', 'Light');
  }
  if (method === 'POST' && path === '/restapi/oauth/token') return route('token', 'Auth');
  if (method === 'POST' && path === '/restapi/oauth/revoke') return route('revoke', 'Auth');
  if (path === EXPORT_PATH && method === 'POST') return route('createTask', 'Heavy');
  if (path === EXPORT_PATH && method === 'GET') return route('listTasks', 'Medium');
  if (method === 'GET' && path.startsWith(`${EXPORT_PATH}/`) && parts.length === 4)
    return route('getTask', 'Medium', [parts[3]]);
  return route('unknown', 'Light');
}

function indexFiles(org: ExportOrganisation): Map<string, ExportFile> {
  const latest = new Map<string, ExportFile>();
  for (const file of org.files) {
    const seen = latest.get(file.id);
    if (!seen || file.lastModifiedTime >= seen.lastModifiedTime) latest.set(file.id, file);
  }
  return latest;
}

function hostName(host: string | undefined): string {
  if (!host) return '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0].toLowerCase();
}

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

function contentTypeOf(name: string): string {
  return CONTENT_TYPES[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}
