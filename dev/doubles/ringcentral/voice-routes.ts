import type { IncomingMessage, ServerResponse } from 'node:http';
import type CallLogRecord from '@rc-ex/core/definitions/CallLogRecord';
import type CallLogResponse from '@rc-ex/core/definitions/CallLogResponse';
import type CreateMessageStoreReportRequest from '@rc-ex/core/definitions/CreateMessageStoreReportRequest';
import type EnumeratedPagingModel from '@rc-ex/core/definitions/EnumeratedPagingModel';
import type GetCallRecordingResponse from '@rc-ex/core/definitions/GetCallRecordingResponse';
import type GetExtensionListResponse from '@rc-ex/core/definitions/GetExtensionListResponse';
import type PageNavigationModel from '@rc-ex/core/definitions/PageNavigationModel';
import type ReadCompanyCallLogParameters from '@rc-ex/core/definitions/ReadCompanyCallLogParameters';
import type { InjectedFault, Faults } from './faults';
import { errorBody, readBody, sendJson } from './http-helpers';
import { serveRanged, sliceStream } from './media';
import type { MessageStoreReports } from './message-store-reports';
import type { RateGroup } from './rate-limits';
import type { RingCentralStats, VoiceRequestKind } from './stats';
import {
  attachmentContentStream,
  callEndMs,
  recordingContentStream,
  type VoiceCall,
  type VoiceOrganisation,
} from './voice-records';

/** The app permissions the voice routes need (each path's doc comment in @rc-ex/core names it). */
export type AppPermission = 'ReadMessages' | 'ReadCallLog' | 'ReadCallRecording' | 'ReadAccounts';

export interface VoiceRoute {
  kind: VoiceRequestKind;
  group: RateGroup;
  permission: AppPermission;
  params: string[];
}

const API = '/restapi/v1.0/account/';

/**
 * The voice-and-messaging routes; `params[0]` is the account (`~` or its id). Undefined when the path
 * is none of them. Media routes exist only on the media host, API routes only on the API host.
 */
export function resolveVoiceRoute(method: string, path: string, onMedia: boolean): VoiceRoute | undefined {
  if (!path.startsWith(API)) return undefined;
  const p = path.slice(API.length).split('/').filter(Boolean).map(decodeURIComponent);
  const read = method === 'GET' || method === 'HEAD';
  const route = (
    kind: VoiceRequestKind,
    group: RateGroup,
    permission: AppPermission,
    params: string[],
  ): VoiceRoute => ({ kind, group, permission, params });
  if (onMedia) {
    // account/{a}/message-store-report/{task}/archive/{n}
    if (read && p.length === 5 && p[1] === 'message-store-report' && p[3] === 'archive')
      return route('archiveDownload', 'Heavy', 'ReadMessages', [p[0], p[2], p[4]]);
    // account/{a}/recording/{id}/content
    if (read && p.length === 4 && p[1] === 'recording' && p[3] === 'content')
      return route('recordingContent', 'Heavy', 'ReadCallRecording', [p[0], p[2]]);
    // account/{a}/extension/{e}/message-store/{m}/content/{attachment}
    if (read && p.length === 7 && p[1] === 'extension' && p[3] === 'message-store' && p[5] === 'content') {
      return route('messageContent', 'Medium', 'ReadMessages', [p[0], p[2], p[4], p[6]]);
    }
    return undefined;
  }
  if (p.length === 2 && p[1] === 'message-store-report' && method === 'POST')
    return route('createReport', 'Heavy', 'ReadMessages', [p[0]]);
  if (read && p.length === 3 && p[1] === 'message-store-report')
    return route('getReport', 'Heavy', 'ReadMessages', [p[0], p[2]]);
  if (read && p.length === 4 && p[1] === 'message-store-report' && p[3] === 'archive')
    return route('reportArchive', 'Heavy', 'ReadMessages', [p[0], p[2]]);
  if (read && p.length === 2 && p[1] === 'call-log') return route('callLog', 'Heavy', 'ReadCallLog', [p[0]]);
  if (read && p.length === 3 && p[1] === 'recording')
    return route('recording', 'Heavy', 'ReadCallRecording', [p[0], p[2]]);
  if (read && p.length === 2 && p[1] === 'extension') return route('extensions', 'Medium', 'ReadAccounts', [p[0]]);
  return undefined;
}

export interface VoiceContext {
  url: string;
  mediaUrl: string;
  voice(): VoiceOrganisation;
  reports: MessageStoreReports;
  faults: Faults;
  stats: RingCentralStats;
  missingPermissions: ReadonlySet<AppPermission>;
  /** How long after a call ends its recording's content starts answering (unless the recording says otherwise). */
  recordingDelayMs: number;
  now(): number;
}

interface JsonAnswer {
  status: number;
  body: unknown;
}

/** Answers one voice route; `headers` are the rate-limit headers; `fault` an after-commit fault taken for this request. */
export async function handleVoice(
  route: VoiceRoute,
  req: IncomingMessage,
  res: ServerResponse,
  reqUrl: URL,
  headers: Record<string, string>,
  ctx: VoiceContext,
  fault: InjectedFault | undefined,
): Promise<void> {
  if (ctx.missingPermissions.has(route.permission)) {
    ctx.stats.forbidden++;
    return sendJson(
      res,
      403,
      errorBody(
        'CMN-401',
        `In order to call this API endpoint, application needs to have [${route.permission}] permission`,
      ),
      headers,
    );
  }
  const voice = ctx.voice();
  const account = route.params[0];
  if (account !== '~' && account !== voice.accountId)
    return sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [accountId] is not found'), headers);

  let answer: JsonAnswer;
  switch (route.kind) {
    case 'createReport': {
      let body: CreateMessageStoreReportRequest;
      try {
        body = JSON.parse((await readBody(req)) || '{}') as CreateMessageStoreReportRequest;
      } catch {
        return sendJson(res, 400, errorBody('CMN-101', 'Request body is not valid JSON'), headers);
      }
      const outcome = ctx.reports.create(body);
      if (outcome.status === 200) ctx.stats.reportsCreated++;
      answer = outcome.status === 200 ? { status: 200, body: outcome.task } : outcome;
      break;
    }
    case 'getReport': {
      const task = await ctx.reports.get(route.params[1]);
      answer = task
        ? { status: 200, body: task }
        : { status: 404, body: errorBody('CMN-102', 'Resource for parameter [taskId] is not found') };
      break;
    }
    case 'reportArchive': {
      const list = ctx.reports.archiveList(route.params[1]);
      answer =
        list === undefined
          ? { status: 404, body: errorBody('CMN-102', 'Resource for parameter [taskId] is not found') }
          : list === 'notReady'
            ? {
                status: 404,
                body: errorBody('CMN-102', 'Archive for the task is not found: the task is not completed'),
              }
            : { status: 200, body: list };
      break;
    }
    case 'callLog':
      answer = callLog(voice, reqUrl, ctx);
      break;
    case 'recording': {
      const call = voice.calls.find((c) => c.recording?.id === route.params[1]);
      if (!call?.recording) {
        answer = { status: 404, body: errorBody('CMN-102', 'Resource for parameter [recordingId] is not found') };
        break;
      }
      const body: GetCallRecordingResponse = {
        id: call.recording.id,
        contentUri: recordingContentUri(ctx, voice, call.recording.id),
        contentType: call.recording.contentType,
        duration: call.record.duration,
      };
      answer = { status: 200, body };
      break;
    }
    case 'extensions':
      answer = extensionList(voice, reqUrl, ctx);
      break;
    default:
      return streamVoice(route, req, res, reqUrl, headers, ctx, voice, fault);
  }
  if (fault) return loseAnswer(res, fault);
  return sendJson(res, answer.status, answer.body, headers);
}

/** The after-commit faults: the work is done, the answer never arrives whole. */
export function loseAnswer(res: ServerResponse, fault: InjectedFault): void {
  if (fault.kind === 'reset-after-commit') {
    res.socket?.destroy();
    res.destroy();
    return;
  }
  // A gateway's page, not RingCentral's JSON: clients must not rely on a JSON body on a 504.
  const page = Buffer.from(
    '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>',
  );
  res.writeHead(504, { 'Content-Type': 'text/html', 'Content-Length': String(page.length) }).end(page);
}

async function streamVoice(
  route: VoiceRoute,
  req: IncomingMessage,
  res: ServerResponse,
  reqUrl: URL,
  headers: Record<string, string>,
  ctx: VoiceContext,
  voice: VoiceOrganisation,
  fault: InjectedFault | undefined,
): Promise<void> {
  // After-commit faults on a download: nothing to commit, so the answer is simply lost.
  if (fault) return loseAnswer(res, fault);
  const send = {
    headers,
    truncateAfter: ctx.faults.takeTruncation(reqUrl.pathname),
    onBytes: (n: number) => {
      ctx.stats.bytesServed += n;
    },
  };
  switch (route.kind) {
    case 'archiveDownload': {
      const [, taskId, index] = route.params;
      const zip = ctx.reports.archive(taskId, index);
      if (!zip)
        return sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [archiveId] is not found'), headers);
      return serveRanged(
        req,
        res,
        {
          totalSize: zip.size,
          contentType: 'application/zip',
          fileName: `${taskId}_${index}.zip`,
          open: (start, end) => sliceStream(zip.open(), start, end),
        },
        send,
      );
    }
    case 'recordingContent': {
      const call = voice.calls.find((c) => c.recording?.id === route.params[1]);
      const recording = call?.recording;
      // The real service: a recording's content appears some minutes after the call ends; until then, 404.
      if (!call || !recording || ctx.now() < callEndMs(call) + (recording.delayMs ?? ctx.recordingDelayMs)) {
        return sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [recordingId] is not found'), headers);
      }
      return serveRanged(
        req,
        res,
        {
          totalSize: recording.size,
          contentType: recording.contentType,
          fileName: `${recording.id}.${recording.contentType === 'audio/wav' ? 'wav' : 'mp3'}`,
          open: (start, end) => recordingContentStream(recording, start, end),
        },
        send,
      );
    }
    case 'messageContent': {
      const [, extensionId, messageId, attachmentId] = route.params;
      const message = voice.messages.find((m) => m.extensionId === extensionId && String(m.record.id) === messageId);
      const attachment =
        message?.record.availability === 'Purged'
          ? undefined
          : message?.attachments.find((a) => String(a.info.id) === attachmentId);
      if (!attachment)
        return sendJson(res, 404, errorBody('CMN-102', 'Resource for parameter [attachmentId] is not found'), headers);
      return serveRanged(
        req,
        res,
        {
          totalSize: attachment.info.size,
          contentType: attachment.info.contentType,
          ...(attachment.info.fileName ? { fileName: attachment.info.fileName } : {}),
          open: (start, end) => attachmentContentStream(attachment, start, end),
        },
        send,
      );
    }
    default:
      return sendJson(res, 404, errorBody('CMN-102', `Resource ${reqUrl.pathname} is not found`), headers);
  }
}

function recordingContentUri(ctx: VoiceContext, voice: VoiceOrganisation, id: string): string {
  return `${ctx.mediaUrl}${API}${voice.accountId}/recording/${id}/content`;
}

const invalid = (name: string): JsonAnswer => ({
  status: 400,
  body: errorBody('CMN-101', `Parameter [${name}] value is invalid`),
});

/** `page`/`perPage` as RingCentral reads them; `perPage` may be `max` (call log only), larger values are capped. */
function paging(query: URLSearchParams, allowMax: boolean): { page: number; perPage: number } | JsonAnswer {
  const rawPerPage = query.get('perPage');
  let perPage = 100;
  if (rawPerPage !== null) {
    if (allowMax && rawPerPage === 'max') perPage = 1000;
    else if (/^\d+$/.test(rawPerPage) && Number(rawPerPage) >= 1) perPage = Math.min(1000, Number(rawPerPage));
    else return invalid('perPage');
  }
  const rawPage = query.get('page');
  if (rawPage !== null && !(/^\d+$/.test(rawPage) && Number(rawPage) >= 1)) return invalid('page');
  return { page: rawPage === null ? 1 : Number(rawPage), perPage };
}

function pageUri(reqUrl: URL, base: string, page: number): { uri: string } {
  const query = new URLSearchParams(reqUrl.searchParams);
  query.delete('access_token');
  query.set('page', String(page));
  return { uri: `${base}${reqUrl.pathname}?${query.toString()}` };
}

/**
 * GET account/~/call-log: calls whose `startTime` is in [dateFrom, dateTo] (both inclusive), newest
 * first, paged; `dateTo` defaults to now and `dateFrom` to `dateTo` minus 24 h. No totals in `paging`:
 * follow `navigation.nextPage`.
 */
function callLog(voice: VoiceOrganisation, reqUrl: URL, ctx: VoiceContext): JsonAnswer {
  const q = reqUrl.searchParams;
  const view = (q.get('view') ?? 'Simple') as NonNullable<ReadCompanyCallLogParameters['view']>;
  if (view !== 'Simple' && view !== 'Detailed') return invalid('view');
  const now = ctx.now();
  const dateTo = q.get('dateTo') ?? new Date(now).toISOString();
  if (Number.isNaN(Date.parse(dateTo))) return invalid('dateTo');
  const dateFrom = q.get('dateFrom') ?? new Date(Date.parse(dateTo) - 86_400_000).toISOString();
  if (Number.isNaN(Date.parse(dateFrom))) return invalid('dateFrom');
  const pages = paging(q, true);
  if ('status' in pages) return pages;
  const types = q.getAll('type');
  const directions = q.getAll('direction');
  const recordingType = q.get('recordingType');
  if (recordingType !== null && !['Automatic', 'OnDemand', 'All'].includes(recordingType))
    return invalid('recordingType');
  const from = Date.parse(dateFrom);
  const to = Date.parse(dateTo);

  const matching = voice.calls
    .filter((c) => {
      const start = Date.parse(c.record.startTime);
      // A call is in the log once it has ended.
      if (start < from || start > to || callEndMs(c) > now) return false;
      if (types.length && !types.includes(c.record.type)) return false;
      if (directions.length && !directions.includes(c.record.direction)) return false;
      if (recordingType && (!c.recording || (recordingType !== 'All' && c.recording.type !== recordingType)))
        return false;
      return true;
    })
    .sort((a, b) => b.record.startTime.localeCompare(a.record.startTime) || b.record.id.localeCompare(a.record.id));

  const { page, perPage } = pages;
  const slice = matching.slice((page - 1) * perPage, page * perPage);
  const records = slice.map((c) => callRecord(c, view, voice, ctx));
  const navigation: PageNavigationModel = { firstPage: pageUri(reqUrl, ctx.url, 1) };
  if (page * perPage < matching.length) navigation.nextPage = pageUri(reqUrl, ctx.url, page + 1);
  if (page > 1) navigation.previousPage = pageUri(reqUrl, ctx.url, page - 1);
  const pagingModel: EnumeratedPagingModel = {
    page,
    perPage,
    ...(records.length ? { pageStart: (page - 1) * perPage, pageEnd: (page - 1) * perPage + records.length - 1 } : {}),
  };
  const body: CallLogResponse = { uri: pageUri(reqUrl, ctx.url, page).uri, records, navigation, paging: pagingModel };
  return { status: 200, body };
}

function callRecord(
  call: VoiceCall,
  view: 'Simple' | 'Detailed',
  voice: VoiceOrganisation,
  ctx: VoiceContext,
): CallLogRecord {
  const { legs, lastModifiedTime, ...simple } = call.record;
  const recording = call.recording
    ? {
        recording: {
          id: call.recording.id,
          uri: `${ctx.url}${API}${voice.accountId}/recording/${call.recording.id}`,
          type: call.recording.type,
          contentUri: recordingContentUri(ctx, voice, call.recording.id),
        },
      }
    : {};
  const record: CallLogRecord = {
    ...simple,
    uri: `${ctx.url}${API}${voice.accountId}/call-log/${call.record.id}`,
    ...recording,
  };
  if (view === 'Detailed') {
    if (lastModifiedTime) record.lastModifiedTime = lastModifiedTime;
    // A leg carries the recording when the call was recorded, as the master leg does in RingCentral's samples.
    if (legs) record.legs = legs.map((leg) => ({ ...leg, ...(leg.master && call.recording ? recording : {}) }));
  }
  return record;
}

/** GET account/~/extension: all extensions, by id, paged with totals; `status`, `type` and `email` filters. */
function extensionList(voice: VoiceOrganisation, reqUrl: URL, ctx: VoiceContext): JsonAnswer {
  const q = reqUrl.searchParams;
  const pages = paging(q, false);
  if ('status' in pages) return pages;
  const statuses = q.getAll('status');
  const types = q.getAll('type');
  const emails = q
    .getAll('email')
    .flatMap((e) => e.split(','))
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const matching = voice.extensions
    .filter(
      (e) =>
        (!statuses.length || statuses.includes(e.status ?? 'Enabled')) &&
        (!types.length || types.includes(e.type ?? 'User')) &&
        (!emails.length || emails.includes(e.contact?.email?.toLowerCase() ?? '')),
    )
    .sort((a, b) => a.id - b.id);
  const { page, perPage } = pages;
  const slice = matching.slice((page - 1) * perPage, page * perPage);
  const totalPages = Math.max(1, Math.ceil(matching.length / perPage));
  const navigation: PageNavigationModel = {
    firstPage: pageUri(reqUrl, ctx.url, 1),
    lastPage: pageUri(reqUrl, ctx.url, totalPages),
  };
  if (page < totalPages) navigation.nextPage = pageUri(reqUrl, ctx.url, page + 1);
  if (page > 1) navigation.previousPage = pageUri(reqUrl, ctx.url, page - 1);
  const body: GetExtensionListResponse = {
    uri: pageUri(reqUrl, ctx.url, page).uri,
    records: slice.map((e) => ({ ...e, uri: `${ctx.url}${API}${voice.accountId}/extension/${e.id}` })),
    navigation,
    paging: {
      page,
      perPage,
      totalPages,
      totalElements: matching.length,
      ...(slice.length ? { pageStart: (page - 1) * perPage, pageEnd: (page - 1) * perPage + slice.length - 1 } : {}),
    },
  };
  return { status: 200, body };
}
