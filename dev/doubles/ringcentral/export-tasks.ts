import { randomBytes } from 'node:crypto';
import type CreateDataExportTaskRequest from '@rc-ex/core/definitions/CreateDataExportTaskRequest';
import type DataExportTask from '@rc-ex/core/definitions/DataExportTask';
import type DataExportTaskList from '@rc-ex/core/definitions/DataExportTaskList';
import type { ExportOrganisation } from '../../../shared/ringcentral/export-records';
import { prepareDataset, type PreparedDataset } from './dataset-zip';
import { selectExport, splitIntoDatasets } from './export-content';
import type { ExportFailure, Faults } from './faults';
import { errorBody, type RingCentralErrorBody } from './http-helpers';

/** @rc-ex/core's enum lacks the statuses the compliance-export guide lists (AttemptFailed, Pending, Cancelled). */
export type ExportTaskStatus = NonNullable<DataExportTask['status']> | 'AttemptFailed' | 'Pending' | 'Cancelled';
export type ExportTaskView = Omit<DataExportTask, 'status'> & { status: ExportTaskStatus };

/** CreateDataExportTaskRequest: "The maximum allowed range between timeFrom and timeTo is 6 months". */
export const MAX_RANGE_MONTHS = 6;

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}

/** RingCentral: "Simultaneously no more than 2 tasks per company can be created." */
export const MAX_ACTIVE_TASKS = 2;
const ACTIVE: ReadonlySet<ExportTaskStatus> = new Set(['Accepted', 'Pending', 'InProgress', 'AttemptFailed']);

interface TaskState {
  view: ExportTaskView;
  request: { timeFrom: string; timeTo: string } & CreateDataExportTaskRequest;
  gets: number;
  /** GET count at which the current attempt started (0, or the GET that reported AttemptFailed). */
  attemptStartedAt: number;
  /** Clock time the current attempt started. */
  attemptStartedMs: number;
  failure?: ExportFailure;
  datasets?: PreparedDataset[];
}

export interface ExportTaskSettings {
  apiUrl: string;
  mediaUrl: string;
  pollsUntilComplete: number;
  /** Least time an attempt takes, whatever the GETs (real exports take minutes); default 0. */
  exportLatencyMs?: number;
  recordsPerFile: number;
  maxRecordsPerDataset?: number;
  datasetLinkTtlMs: number;
  organisation: () => ExportOrganisation;
  faults: Faults;
  now?: () => number;
}

export type CreateOutcome = { status: 200; task: ExportTaskView } | { status: 400; body: RingCentralErrorBody };

/**
 * Export tasks advance on GETs: the first `pollsUntilComplete` GETs answer InProgress, the next
 * one Completed (or the planned failure). An AttemptFailed task retries and completes after
 * another `pollsUntilComplete` GETs; Failed is final. The export is computed from the organisation
 * as it is when the task completes.
 */
export class ExportTasks {
  private readonly tasks = new Map<string, TaskState>();
  private readonly links = new Map<string, { taskId: string; datasetId: string; expiresAt: number }>();
  private sequence = 0;
  private readonly now: () => number;

  constructor(private readonly settings: ExportTaskSettings) {
    this.now = settings.now ?? Date.now;
  }

  create(body: CreateDataExportTaskRequest): CreateOutcome {
    const { timeFrom, timeTo } = body;
    for (const [name, value] of [
      ['timeFrom', timeFrom],
      ['timeTo', timeTo],
    ] as const) {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        return { status: 400, body: errorBody('CMN-101', `Parameter [${name}] value is invalid`) };
    }
    if (Date.parse(timeTo!) <= Date.parse(timeFrom!))
      return { status: 400, body: errorBody('CMN-101', 'Parameter [timeTo] must be after [timeFrom]') };
    if (Date.parse(timeTo!) > addMonths(Date.parse(timeFrom!), MAX_RANGE_MONTHS)) {
      return {
        status: 400,
        body: errorBody(
          'CMN-101',
          `The range between [timeFrom] and [timeTo] must not exceed ${MAX_RANGE_MONTHS} months`,
        ),
      };
    }
    const active = [...this.tasks.values()].filter((t) => ACTIVE.has(t.view.status)).length;
    if (active >= MAX_ACTIVE_TASKS) {
      return {
        status: 400,
        body: errorBody(
          'TMS-ExportLimit',
          `No more than ${MAX_ACTIVE_TASKS} export tasks per company can run at the same time`,
        ),
      };
    }
    const org = this.settings.organisation();
    const id = `${org.accountId}-${++this.sequence}-${randomBytes(3).toString('hex')}`;
    const at = new Date(this.now()).toISOString();
    const admin = org.members[0];
    const specific = {
      timeFrom: timeFrom!,
      timeTo: timeTo!,
      ...(body.contacts ? { contacts: body.contacts } : {}),
      ...(body.chatIds ? { chatIds: body.chatIds } : {}),
    };
    const view: ExportTaskView = {
      uri: `${this.settings.apiUrl}/team-messaging/v1/data-export/${id}`,
      id,
      creationTime: at,
      lastModifiedTime: at,
      status: 'Accepted',
      ...(admin ? { creator: { id: admin.id, firstName: admin.firstName, lastName: admin.lastName } } : {}),
      specific,
    };
    this.tasks.set(id, {
      view,
      request: specific,
      gets: 0,
      attemptStartedAt: 0,
      attemptStartedMs: this.now(),
      failure: this.settings.faults.takeExportFailure(),
    });
    return { status: 200, task: { ...view } };
  }

  /** A GET of one task: advances it, and hands out fresh dataset links when it is Completed. */
  async get(id: string): Promise<ExportTaskView | undefined> {
    const state = this.tasks.get(id);
    if (!state) return undefined;
    state.gets++;
    if (ACTIVE.has(state.view.status)) await this.advance(state);
    const view: ExportTaskView = { ...state.view };
    if (state.view.status === 'Completed' && state.datasets) {
      view.datasets = state.datasets.map((d) => ({ id: d.id, size: d.size, uri: this.issueLink(id, d.id) }));
    }
    return view;
  }

  list(query: URLSearchParams): DataExportTaskList & { tasks: ExportTaskView[] } {
    const statuses = query.getAll('status');
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const perPage = Math.min(250, Math.max(1, Number(query.get('perPage') ?? 30) || 30));
    const all = [...this.tasks.values()]
      .map((t) => t.view)
      .filter((v) => statuses.length === 0 || statuses.includes(v.status))
      .sort((a, b) => (b.creationTime ?? '').localeCompare(a.creationTime ?? ''));
    const tasks = all.slice((page - 1) * perPage, page * perPage).map((v) => ({ ...v }));
    const totalPages = Math.max(1, Math.ceil(all.length / perPage));
    return {
      tasks,
      paging: {
        page,
        perPage,
        pageStart: (page - 1) * perPage,
        pageEnd: (page - 1) * perPage + Math.max(0, tasks.length - 1),
        totalPages,
        totalElements: all.length,
      },
      navigation: {},
    } as DataExportTaskList & { tasks: ExportTaskView[] };
  }

  /** The dataset a media link points at; 'expired' once the link's lifetime is over. */
  resolveLink(taskId: string, datasetId: string, signature: string | null): PreparedDataset | 'expired' | undefined {
    const link = signature ? this.links.get(signature) : undefined;
    if (!link || link.taskId !== taskId || link.datasetId !== datasetId) return undefined;
    if (link.expiresAt <= this.now()) return 'expired';
    return this.tasks.get(taskId)?.datasets?.find((d) => d.id === datasetId);
  }

  private async advance(state: TaskState): Promise<void> {
    const attemptGets = state.gets - state.attemptStartedAt;
    const attemptMs = this.now() - state.attemptStartedMs;
    if (attemptGets <= this.settings.pollsUntilComplete || attemptMs < (this.settings.exportLatencyMs ?? 0)) {
      this.setStatus(state, 'InProgress');
      return;
    }
    if (state.failure === 'Failed') {
      this.setStatus(state, 'Failed');
      return;
    }
    if (state.failure === 'AttemptFailed') {
      state.failure = undefined;
      state.attemptStartedAt = state.gets;
      state.attemptStartedMs = this.now();
      this.setStatus(state, 'AttemptFailed');
      return;
    }
    const content = selectExport(this.settings.organisation(), state.request, this.settings.mediaUrl);
    const parts = splitIntoDatasets(content, this.settings.maxRecordsPerDataset);
    const mtime = new Date(this.now());
    state.datasets = await Promise.all(
      parts.map((part, i) =>
        prepareDataset(
          String(i + 1),
          part,
          { id: state.view.id, ...state.request },
          this.settings.recordsPerFile,
          mtime,
        ),
      ),
    );
    this.setStatus(state, 'Completed');
  }

  private setStatus(state: TaskState, status: ExportTaskStatus): void {
    if (state.view.status === status) return;
    state.view.status = status;
    state.view.lastModifiedTime = new Date(this.now()).toISOString();
  }

  private issueLink(taskId: string, datasetId: string): string {
    const now = this.now();
    for (const [key, link] of this.links)
      if (link.expiresAt <= now - this.settings.datasetLinkTtlMs) this.links.delete(key);
    const signature = randomBytes(16).toString('hex');
    this.links.set(signature, { taskId, datasetId, expiresAt: now + this.settings.datasetLinkTtlMs });
    return `${this.settings.mediaUrl}/team-messaging/v1/data-export/${encodeURIComponent(taskId)}/datasets/${encodeURIComponent(datasetId)}?signature=${signature}`;
  }
}
