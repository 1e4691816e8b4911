import type { RateGroup } from '../ringcentral/rate-groups';
import type { RingCentralGateway } from '../ringcentral/ringcentral-api';

/** What the poller needs to know of a task: its status and, once Completed, its zips. */
export interface ExportTaskView {
  id?: string;
  status?: string;
  datasets: Array<{ id?: string; uri?: string; size?: number }>;
}

/**
 * One capture source's export task API. RingCentral has two that work alike (create, poll until
 * Completed, download zips; at most 2 tasks per account at once): the Team Messaging compliance
 * export and the message-store report.
 */
export interface ExportTasks {
  /** The rate group of the zip downloads. */
  readonly downloadGroup: RateGroup;
  /** A task for [from, to): `to` is exclusive, as windows are. */
  create(from: string, to: string): Promise<ExportTaskView>;
  get(taskId: string): Promise<ExportTaskView>;
  /** A live task covering exactly [from, to): a create whose answer was lost. Undefined when the API cannot list its tasks. */
  findExisting(from: string, to: string): Promise<ExportTaskView | undefined>;
}

const ENDED = ['Failed', 'Cancelled', 'Expired'];

/** The Team Messaging compliance export (`/team-messaging/v1/data-export`). */
export class TeamMessagingExports implements ExportTasks {
  readonly downloadGroup: RateGroup = 'Light';

  constructor(private readonly ringCentral: RingCentralGateway) {}

  async create(from: string, to: string): Promise<ExportTaskView> {
    const task = await this.ringCentral.createExportTask(from, to);
    return { id: task.id, status: task.status, datasets: task.datasets ?? [] };
  }

  async get(taskId: string): Promise<ExportTaskView> {
    const task = await this.ringCentral.getExportTask(taskId);
    return { id: task.id, status: task.status, datasets: task.datasets ?? [] };
  }

  async findExisting(from: string, to: string): Promise<ExportTaskView | undefined> {
    const task = (await this.ringCentral.listExportTasks()).find(
      (t) =>
        sameInstant(t.specific?.timeFrom, from) &&
        sameInstant(t.specific?.timeTo, to) &&
        t.status &&
        !ENDED.includes(t.status as string),
    );
    return task?.id ? { id: task.id, status: task.status, datasets: [] } : undefined;
  }
}

/**
 * The message-store report (`/restapi/v1.0/account/~/message-store-report`): every extension's
 * SMS/MMS, pager, fax and voicemail of a range. Its range is inclusive at both ends, so a window
 * [from, to) asks for [from, to − 1 ms] and adjacent windows never share a message.
 */
export class MessageStoreReports implements ExportTasks {
  // The archive downloads are in the report's own group (Heavy); RingCentral's docs do not say otherwise.
  readonly downloadGroup: RateGroup = 'Heavy';

  constructor(private readonly ringCentral: RingCentralGateway) {}

  async create(from: string, to: string): Promise<ExportTaskView> {
    const inclusiveEnd = new Date(Date.parse(to) - 1).toISOString();
    const task = await this.ringCentral.createMessageStoreReport(from, inclusiveEnd);
    return { id: task.id, status: task.status, datasets: [] };
  }

  async get(taskId: string): Promise<ExportTaskView> {
    const task = await this.ringCentral.getMessageStoreReport(taskId);
    if (task.status !== 'Completed') return { id: task.id, status: task.status, datasets: [] };
    const archives = await this.ringCentral.listMessageStoreReportArchives(taskId);
    return {
      id: task.id,
      status: task.status,
      datasets: (archives.records ?? []).map((r, n) => ({ id: String(n), uri: r.uri, size: r.size })),
    };
  }

  /** The report API lists no tasks: a lost create leaves a task RingCentral finishes and drops on its own. */
  async findExisting(): Promise<undefined> {
    return undefined;
  }
}

function sameInstant(a: string | undefined, b: string): boolean {
  return a !== undefined && Date.parse(a) === Date.parse(b);
}
