import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type CreateMessageStoreReportRequest from '@rc-ex/core/definitions/CreateMessageStoreReportRequest';
import type GetMessageInfoResponse from '@rc-ex/core/definitions/GetMessageInfoResponse';
import type MessageStoreReport from '@rc-ex/core/definitions/MessageStoreReport';
import type MessageStoreReportArchive from '@rc-ex/core/definitions/MessageStoreReportArchive';
import { prepareZip, type PreparedZip, type ZipEntry } from './archive-zip';
import type { ExportFailure, Faults } from './faults';
import { errorBody, type RingCentralErrorBody } from './http-helpers';
import {
  REPORT_MESSAGE_TYPES,
  archiveFileName,
  attachmentContentStream,
  type VoiceMessage,
  type VoiceOrganisation,
} from './voice-records';

/** RingCentral: "Maximum number of simultaneous tasks per account is 2." */
export const MAX_ACTIVE_REPORTS = 2;
/** Message Store Exports guide: attachment archives are split so each is at most 1 GB. */
export const DEFAULT_MAX_ARCHIVE_BYTES = 1024 ** 3;

type ReportStatus = NonNullable<MessageStoreReport['status']>;
const ACTIVE: ReadonlySet<ReportStatus> = new Set(['Accepted', 'Pending', 'InProgress', 'AttemptFailed']);

interface ReportState {
  view: MessageStoreReport & { id: string; status: ReportStatus; dateFrom: string; dateTo: string };
  gets: number;
  attemptStartedAt: number;
  attemptStartedMs: number;
  /** Last create or GET: a task nobody asks about finishes by itself (see `abandonedAfterMs`). */
  touchedMs: number;
  failure?: ExportFailure;
  archives?: PreparedZip[];
}

export interface MessageStoreReportSettings {
  apiUrl: string;
  mediaUrl: string;
  pollsUntilComplete: number;
  latencyMs?: number;
  /** Largest attachment archive before the next one starts (RingCentral: 1 GB). */
  maxArchiveBytes?: number;
  /**
   * RingCentral finishes a task whether or not anyone polls it. The double advances tasks on GETs
   * (so tests can step them), and lets a task nobody has asked about for this long (default 60 s)
   * finish by itself, so a task whose create answer was lost frees its slot as a real one would.
   */
  abandonedAfterMs?: number;
  /** Shape of each `message-store.json`: `{records: [...]}` (default) or a bare array. */
  messageStoreJson?: 'records' | 'array';
  voice: () => VoiceOrganisation;
  faults: Faults;
  now?: () => number;
}

export type ReportCreateOutcome =
  { status: 200; task: MessageStoreReport } | { status: 400; body: RingCentralErrorBody };

/**
 * Message store report tasks (`/restapi/v1.0/account/~/message-store-report`), advancing on GETs as
 * the Team Messaging export tasks do: `pollsUntilComplete` GETs answer InProgress, the next one
 * Completed (never before `latencyMs`), or the failure planned by `faults.failNextMessageStoreReport`.
 * The archives are computed from the organisation as it is when the task completes.
 */
export class MessageStoreReports {
  private readonly tasks = new Map<string, ReportState>();
  private readonly now: () => number;

  constructor(private readonly settings: MessageStoreReportSettings) {
    this.now = settings.now ?? Date.now;
  }

  create(body: CreateMessageStoreReportRequest): ReportCreateOutcome {
    const now = this.now();
    const dateTo = body.dateTo ?? new Date(now).toISOString();
    const dateFrom = body.dateFrom ?? new Date(Date.parse(dateTo) - 86_400_000).toISOString();
    for (const [name, value] of [
      ['dateFrom', dateFrom],
      ['dateTo', dateTo],
    ] as const) {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        return { status: 400, body: errorBody('CMN-101', `Parameter [${name}] value is invalid`) };
    }
    if (Date.parse(dateTo) < Date.parse(dateFrom))
      return { status: 400, body: errorBody('CMN-101', 'Parameter [dateTo] must not be before [dateFrom]') };
    if (body.messageTypes !== undefined) {
      if (
        !Array.isArray(body.messageTypes) ||
        body.messageTypes.some((t) => !(REPORT_MESSAGE_TYPES as readonly string[]).includes(t))
      ) {
        return { status: 400, body: errorBody('CMN-101', 'Parameter [messageTypes] value is invalid') };
      }
    }
    for (const t of this.tasks.values()) {
      if (ACTIVE.has(t.view.status) && now - t.touchedMs >= (this.settings.abandonedAfterMs ?? 60_000)) {
        t.view.status = 'Completed';
        t.view.finishTime = new Date(now).toISOString();
      }
    }
    const active = [...this.tasks.values()].filter((t) => ACTIVE.has(t.view.status)).length;
    if (active >= MAX_ACTIVE_REPORTS) {
      return {
        status: 400,
        body: errorBody('MSR-TaskLimit', `Maximum number of simultaneous tasks per account is ${MAX_ACTIVE_REPORTS}`),
      };
    }
    const accountId = this.settings.voice().accountId;
    const id = `${accountId}-${accountId}-${randomBytes(16).toString('hex')}`;
    const view: ReportState['view'] = {
      uri: `${this.settings.apiUrl}/restapi/v1.0/account/${accountId}/message-store-report/${id}`,
      id,
      status: 'Accepted',
      accountId,
      startTime: new Date(now).toISOString(),
      dateFrom,
      dateTo,
      ...(body.messageTypes?.length ? { messageTypes: [...body.messageTypes] } : {}),
    };
    this.tasks.set(id, {
      view,
      gets: 0,
      attemptStartedAt: 0,
      attemptStartedMs: now,
      touchedMs: now,
      failure: this.settings.faults.takeMessageStoreReportFailure(),
    });
    return { status: 200, task: { ...view } };
  }

  /** A GET of one task: advances it. */
  async get(id: string): Promise<MessageStoreReport | undefined> {
    const state = this.tasks.get(id);
    if (!state) return undefined;
    state.gets++;
    state.touchedMs = this.now();
    if (ACTIVE.has(state.view.status)) await this.advance(state);
    else if (state.view.status === 'Completed' && !state.archives)
      state.archives = await buildArchives(this.settings, state.view);
    return { ...state.view };
  }

  /** The archive list of a Completed task; 'notReady' before; undefined for an unknown task. */
  archiveList(id: string): MessageStoreReportArchive | 'notReady' | undefined {
    const state = this.tasks.get(id);
    if (!state) return undefined;
    if (state.view.status !== 'Completed' || !state.archives) return 'notReady';
    return {
      records: state.archives.map((a, n) => ({
        size: a.size,
        uri: `${this.settings.mediaUrl}/restapi/v1.0/account/${state.view.accountId}/message-store-report/${encodeURIComponent(id)}/archive/${n}`,
      })),
    };
  }

  archive(id: string, index: string): PreparedZip | undefined {
    if (!/^\d+$/.test(index)) return undefined;
    return this.tasks.get(id)?.archives?.[Number(index)];
  }

  /** Every task's current view, for tests (creation order). */
  all(): MessageStoreReport[] {
    return [...this.tasks.values()].map((t) => ({ ...t.view }));
  }

  private async advance(state: ReportState): Promise<void> {
    const attemptGets = state.gets - state.attemptStartedAt;
    const attemptMs = this.now() - state.attemptStartedMs;
    if (attemptGets <= this.settings.pollsUntilComplete || attemptMs < (this.settings.latencyMs ?? 0)) {
      state.view.status = 'InProgress';
      return;
    }
    if (state.failure === 'Failed') {
      state.view.status = 'Failed';
      state.view.finishTime = new Date(this.now()).toISOString();
      return;
    }
    if (state.failure === 'AttemptFailed') {
      state.failure = undefined;
      state.attemptStartedAt = state.gets;
      state.attemptStartedMs = this.now();
      state.view.status = 'AttemptFailed';
      return;
    }
    state.archives = await buildArchives(this.settings, state.view);
    state.view.status = 'Completed';
    state.view.finishTime = new Date(this.now()).toISOString();
  }
}

/** The messages a report of [dateFrom, dateTo] holds: `creationTime` in the window (both ends inclusive), of the requested types. */
export function selectReportMessages(
  voice: VoiceOrganisation,
  request: { dateFrom: string; dateTo: string; messageTypes?: readonly string[] },
): VoiceMessage[] {
  const from = Date.parse(request.dateFrom);
  const to = Date.parse(request.dateTo);
  const types = request.messageTypes?.length ? new Set(request.messageTypes) : undefined;
  return voice.messages.filter((m) => {
    const t = Date.parse(m.record.creationTime);
    // CreateMessageStoreReportRequest: "If not specified, all messages without message type filtering will be returned".
    return t >= from && t <= to && (!types || types.has(m.record.type));
  });
}

/** A message record as the message store shows it, with its URIs on the API and media hosts. */
export function messageRecord(
  message: VoiceMessage,
  accountId: string,
  apiUrl: string,
  mediaUrl: string,
): GetMessageInfoResponse {
  const base = `/restapi/v1.0/account/${accountId}/extension/${message.extensionId}/message-store/${message.record.id}`;
  return {
    ...message.record,
    uri: apiUrl + base,
    extensionId: message.extensionId,
    attachments: message.attachments.map((a) => ({ ...a.info, uri: `${mediaUrl}${base}/content/${a.info.id}` })),
  };
}

async function buildArchives(settings: MessageStoreReportSettings, view: ReportState['view']): Promise<PreparedZip[]> {
  const voice = settings.voice();
  const accountId = voice.accountId;
  const messages = selectReportMessages(voice, view).sort(
    (a, b) => b.record.creationTime.localeCompare(a.record.creationTime) || b.record.id - a.record.id,
  );
  const byExtension = new Map<string, VoiceMessage[]>();
  for (const m of messages) byExtension.set(m.extensionId, [...(byExtension.get(m.extensionId) ?? []), m]);
  const mtime = new Date(settings.now?.() ?? Date.now());

  const metadata: ZipEntry[] = [...byExtension.entries()].map(([extensionId, list]) => {
    const records = list.map((m) => messageRecord(m, accountId, settings.apiUrl, settings.mediaUrl));
    const json = Buffer.from(JSON.stringify(settings.messageStoreJson === 'array' ? records : { records }));
    return {
      path: `account/${accountId}/extension/${extensionId}/message-store.json`,
      size: json.length,
      open: () => Readable.from([json]),
    };
  });
  const archives = [await prepareZip(metadata, mtime)];

  // Attachments of purged messages are gone; everything else is archived, split at maxArchiveBytes.
  const max = settings.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  let batch: ZipEntry[] = [];
  let batchBytes = 0;
  for (const m of messages) {
    if (m.record.availability === 'Purged') continue;
    for (const a of m.attachments) {
      if (batch.length > 0 && batchBytes + a.info.size > max) {
        archives.push(await prepareZip(batch, mtime));
        batch = [];
        batchBytes = 0;
      }
      batch.push({
        path: `account/${accountId}/extension/${m.extensionId}/message-store/content/${m.record.id}/${archiveFileName(a.info)}`,
        size: a.info.size,
        open: () => attachmentContentStream(a),
      });
      batchBytes += a.info.size;
    }
  }
  if (batch.length > 0) archives.push(await prepareZip(batch, mtime));
  return archives;
}
