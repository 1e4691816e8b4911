import { Readable } from 'node:stream';
import RingCentral from '@rc-ex/core';
import type RestException from '@rc-ex/core/RestException';
import type DataExportTask from '@rc-ex/core/definitions/DataExportTask';
import type TokenInfo from '@rc-ex/core/definitions/TokenInfo';
import type DataExportTaskList from '@rc-ex/core/definitions/DataExportTaskList';
import type CreateDataExportTaskRequest from '@rc-ex/core/definitions/CreateDataExportTaskRequest';
import type MessageStoreReport from '@rc-ex/core/definitions/MessageStoreReport';
import type MessageStoreReportArchive from '@rc-ex/core/definitions/MessageStoreReportArchive';
import type CreateMessageStoreReportRequest from '@rc-ex/core/definitions/CreateMessageStoreReportRequest';
import type CallLogResponse from '@rc-ex/core/definitions/CallLogResponse';
import type GetExtensionListResponse from '@rc-ex/core/definitions/GetExtensionListResponse';
import type { RateGroup } from './rate-groups';
import type { GroupBudget } from './shared-group-budget';
import type { Config } from '../config';
import { PermissionMissingError, RetryLaterError } from '../errors';
import { parseRetryAfter } from '../retry-after';
import type { PenaltyGate } from './penalty-gate';

const DEFAULT_PENALTY_SECONDS = 60;
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Server errors and resets: 1, 2, 4, ... seconds, at most this, with jitter. */
const MAX_BACKOFF_SECONDS = 30;
/** Network failures that say nothing about the request itself: worth another try later. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The RingCentral calls the archiver makes, behind the shared penalty gate. */
export interface RingCentralGateway {
  createExportTask(timeFrom: string, timeTo: string): Promise<DataExportTask>;
  getExportTask(taskId: string): Promise<DataExportTask>;
  listExportTasks(): Promise<DataExportTask[]>;
  /**
   * Streams media (dataset zips, file content, message attachments, recordings) with the bearer
   * token; `start` resumes with Range. `group` is the rate group of the content (Light by default;
   * recordings are Heavy, message-store content Medium).
   */
  openMedia(uri: string, start?: number, group?: RateGroup): Promise<MediaResponse>;
  /** Message-store report of every extension's messages in [dateFrom, dateTo] (both ends inclusive). */
  createMessageStoreReport(dateFrom: string, dateTo: string): Promise<MessageStoreReport>;
  getMessageStoreReport(taskId: string): Promise<MessageStoreReport>;
  listMessageStoreReportArchives(taskId: string): Promise<MessageStoreReportArchive>;
  /** One page of the account call log (Detailed view): the first page from a range, later ones from `navigation.nextPage`. */
  callLogPage(
    page: { dateFrom: string; dateTo: string; perPage: number } | { nextPageUri: string },
  ): Promise<CallLogResponse>;
  /** One page of the account's extensions (ReadAccounts). */
  extensionPage(page: number, perPage: number): Promise<GetExtensionListResponse>;
}

/** Message types the message-store report carries (CreateMessageStoreReportRequest.messageTypes). */
export const REPORT_MESSAGE_TYPES: NonNullable<CreateMessageStoreReportRequest['messageTypes']> = [
  'Fax',
  'SMS',
  'VoiceMail',
  'Pager',
];

export interface MediaResponse {
  status: number;
  body: Readable;
  contentLength?: number;
  contentType?: string;
}

export class RingCentralApi implements RingCentralGateway {
  private readonly rc: RingCentral;
  private tokenExpiresAt = 0;
  private login?: Promise<void>;

  /** Server errors and resets in a row (any group): the back-off grows with it, a success resets it. */
  private serverFailures = 0;

  constructor(
    private readonly settings: Config['ringCentral'],
    private readonly gate: PenaltyGate,
    private readonly budget: GroupBudget,
    private readonly random: () => number = Math.random,
  ) {
    this.rc = new RingCentral({
      server: settings.serverUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      appName: 'rc-m365-archiver',
      appVersion: '0.1.0',
    });
  }

  async createExportTask(timeFrom: string, timeTo: string): Promise<DataExportTask> {
    const body: CreateDataExportTaskRequest = { timeFrom, timeTo };
    return this.call('Heavy', async () =>
      this.observe(
        'Heavy',
        await this.rc.post<DataExportTask>(this.rc.teamMessaging().v1().dataExport().path(false), body),
      ),
    );
  }

  async getExportTask(taskId: string): Promise<DataExportTask> {
    return this.call('Medium', async () =>
      this.observe('Medium', await this.rc.get<DataExportTask>(this.rc.teamMessaging().v1().dataExport(taskId).path())),
    );
  }

  async listExportTasks(): Promise<DataExportTask[]> {
    const list = await this.call('Medium', async () =>
      this.observe(
        'Medium',
        await this.rc.get<DataExportTaskList>(this.rc.teamMessaging().v1().dataExport().path(false), { perPage: 100 }),
      ),
    );
    return list.tasks ?? [];
  }

  async createMessageStoreReport(dateFrom: string, dateTo: string): Promise<MessageStoreReport> {
    const body: CreateMessageStoreReportRequest = { dateFrom, dateTo, messageTypes: REPORT_MESSAGE_TYPES };
    const path = this.rc.restapi().account().messageStoreReport().path(false);
    return this.call('Heavy', async () => this.observe('Heavy', await this.rc.post<MessageStoreReport>(path, body)));
  }

  async getMessageStoreReport(taskId: string): Promise<MessageStoreReport> {
    const path = this.rc.restapi().account().messageStoreReport(taskId).path();
    return this.call('Heavy', async () => this.observe('Heavy', await this.rc.get<MessageStoreReport>(path)));
  }

  async listMessageStoreReportArchives(taskId: string): Promise<MessageStoreReportArchive> {
    const path = this.rc.restapi().account().messageStoreReport(taskId).archive().path();
    return this.call('Heavy', async () => this.observe('Heavy', await this.rc.get<MessageStoreReportArchive>(path)));
  }

  async callLogPage(
    page: { dateFrom: string; dateTo: string; perPage: number } | { nextPageUri: string },
  ): Promise<CallLogResponse> {
    const request =
      'nextPageUri' in page
        ? { path: page.nextPageUri, query: undefined }
        : {
            path: this.rc.restapi().account().callLog().path(false),
            query: { view: 'Detailed', dateFrom: page.dateFrom, dateTo: page.dateTo, perPage: page.perPage },
          };
    return this.call('Heavy', async () =>
      this.observe('Heavy', await this.rc.get<CallLogResponse>(request.path, request.query)),
    );
  }

  async extensionPage(page: number, perPage: number): Promise<GetExtensionListResponse> {
    const path = this.rc.restapi().account().extension().path(false);
    return this.call('Medium', async () =>
      this.observe('Medium', await this.rc.get<GetExtensionListResponse>(path, { page, perPage })),
    );
  }

  async openMedia(uri: string, start = 0, group: RateGroup = 'Light'): Promise<MediaResponse> {
    return this.call(group, async () => {
      const res = await fetch(uri, {
        headers: {
          Authorization: `Bearer ${this.rc.token?.access_token}`,
          ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
        },
      });
      if (res.status === 429 || res.status === 401 || res.status >= 500) {
        await res.body?.cancel();
        throw {
          response: { status: res.status, headers: { 'retry-after': res.headers.get('retry-after') ?? undefined } },
        };
      }
      if (res.status === 403) {
        const body = (await res.json().catch(() => ({}))) as { errorCode?: string; message?: string };
        const missing = missingPermission({ response: { status: 403, data: body } } as unknown as RestException);
        if (missing) throw missing;
        return { status: 403, body: Readable.from([]) };
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return { status: res.status, body: Readable.from([]) };
      }
      await this.observe(group, {
        headers: Object.fromEntries(
          ['x-rate-limit-remaining', 'x-rate-limit-window'].map((h) => [h, res.headers.get(h) ?? undefined]),
        ),
        data: undefined,
      });
      const length = res.headers.get('content-length');
      return {
        status: res.status,
        body: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        contentLength: length ? Number(length) : undefined,
        contentType: res.headers.get('content-type') ?? undefined,
      };
    });
  }

  /**
   * A response's X-Rate-Limit-* headers say how much of the group's window is left; when it is
   * used up, every instance waits for the window to turn over instead of provoking a penalty.
   */
  private async observe<T>(group: RateGroup, response: { headers: unknown; data: T }): Promise<T> {
    const h = response.headers as Record<string, string | undefined>;
    const remaining = Number(h['x-rate-limit-remaining']);
    const windowSeconds = Number(h['x-rate-limit-window']);
    if (Number.isFinite(remaining) && remaining <= 0 && Number.isFinite(windowSeconds) && windowSeconds > 0) {
      await this.gate.exhaustGroup(group, windowSeconds);
    }
    return response.data;
  }

  /**
   * Gate → token → shared group budget → call. A 429 starts the shared penalty, a 401 forces one
   * fresh login, server errors and resets back off progressively with jitter.
   */
  private async call<T>(group: RateGroup, fn: () => Promise<T>, retriedAuth = false): Promise<T> {
    await this.gate.assertOpen(group);
    // Token first: a login spends Auth budget and time, and the request's budget is good for
    // about a second only.
    await this.ensureToken();
    await this.budget.take(group);
    try {
      const result = await fn();
      this.serverFailures = 0;
      return result;
    } catch (err) {
      const status = (err as RestException).response?.status;
      if (status === 429) throw await this.penalty(err as RestException, 'RingCentral answered 429');
      if (status === 401 && !retriedAuth) {
        this.tokenExpiresAt = 0;
        return this.call(group, fn, true);
      }
      if (status !== undefined && status >= 500) throw this.backOff(`RingCentral answered ${status}`);
      if (status === 403) {
        const missing = missingPermission(err as RestException);
        if (missing) throw missing;
      }
      if (status === undefined && isTransient(err)) throw this.backOff('RingCentral connection failed');
      throw describe(err);
    }
  }

  /**
   * 1, 2, 4, 8, 16, 30 s (the cap) by failures in a row, each between half and all of it
   * (jitter), so instances that failed together do not all come back in the same second.
   */
  private backOff(reason: string): RetryLaterError {
    this.serverFailures++;
    const ceiling = Math.min(MAX_BACKOFF_SECONDS, 2 ** (this.serverFailures - 1));
    return new RetryLaterError(
      Math.max(1, Math.ceil(ceiling / 2 + (this.random() * ceiling) / 2)),
      `${reason} (${this.serverFailures} in a row)`,
    );
  }

  /** A 429 starts (or extends) the penalty every instance obeys, then reschedules this call. */
  private async penalty(err: RestException, reason: string): Promise<RetryLaterError> {
    const seconds = retryAfterSeconds(err.response?.headers) ?? DEFAULT_PENALTY_SECONDS;
    await this.gate.enterPenalty(seconds);
    return new RetryLaterError(seconds, reason);
  }

  private async ensureToken(): Promise<void> {
    if (this.rc.token?.access_token && Date.now() < this.tokenExpiresAt - REFRESH_MARGIN_MS) return;
    // One login per process at a time: logging in per invocation would burn the Auth group.
    this.login ??= (async () => {
      try {
        await this.budget.take('Auth');
        const token: TokenInfo = await this.rc.authorize({ jwt: this.settings.jwt });
        this.tokenExpiresAt = Date.now() + (token.expires_in ?? 3600) * 1000;
      } catch (err) {
        if (err instanceof RetryLaterError) throw err;
        if ((err as RestException).response?.status === 429)
          throw await this.penalty(err as RestException, 'RingCentral auth answered 429');
        throw describe(err, 'RingCentral login failed');
      } finally {
        this.login = undefined;
      }
    })();
    await this.login;
  }
}

function isTransient(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const code = e?.code ?? e?.cause?.code;
  return (
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    /fetch failed|socket hang up|network error/i.test(e?.message ?? '')
  );
}

function retryAfterSeconds(headers: unknown): number | undefined {
  const h = headers as Record<string, string | undefined> | undefined;
  const seconds = parseRetryAfter(h?.['retry-after'] ?? h?.['Retry-After']);
  return seconds === undefined ? undefined : Math.max(1, seconds);
}

/**
 * RingCentral's 403 CMN-401: "In order to call this API endpoint, application needs to have [X]
 * permission". Other 403s (a user's permission, a feature not on the plan) stay plain failures.
 */
function missingPermission(err: RestException): PermissionMissingError | undefined {
  const data = err.response?.data as { errorCode?: string; message?: string } | undefined;
  if (data?.errorCode !== 'CMN-401') return undefined;
  const permission = /\[([A-Za-z]+)\]\s*permission/.exec(data.message ?? '')?.[1] ?? 'unknown';
  return new PermissionMissingError(
    permission,
    `RingCentral app lacks the ${permission} permission (HTTP 403 CMN-401)`,
  );
}

/** An error that names the status and RingCentral's error code, never the token or body content. */
function describe(err: unknown, prefix = 'RingCentral request failed'): Error {
  const response = (err as RestException).response;
  if (!response) return err instanceof Error ? err : new Error(String(err));
  const data = response.data as
    { errorCode?: string; error?: string; message?: string; error_description?: string } | undefined;
  const code = data?.errorCode ?? data?.error ?? '';
  const message = data?.message ?? data?.error_description ?? '';
  return new Error(`${prefix}: HTTP ${response.status} ${code} ${message}`.trim());
}
