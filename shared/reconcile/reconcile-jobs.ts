import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { odata } from '@azure/data-tables';
import type { StorageAccount } from '../store/storage-account';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { WorkQueues } from '../store/work-queues';
import { CONTAINERS, QUEUES, TABLES } from '../store/names';
import { tableKey } from '../store/keys';
import { isNotFound, isConflict } from '../store/storage-errors';
import { InvalidInputError } from '../errors';
import {
  summarize,
  type MailboxReconciliation,
  type NotConverted,
  type ReconcileRange,
  type Reconciler,
} from './reconciler';

/** reconcile-step queue: one step of a job. `page` counts registry pages; `continuation` is the registry's own token. */
export type ReconcileStepMessage =
  | { jobId: string; step: 'plan'; page: number; continuation?: string; reschedules?: number }
  | { jobId: string; step: 'mailbox'; mailbox: string; reschedules?: number }
  | { jobId: string; step: 'notConverted'; reschedules?: number };

export interface ReconcileProgress {
  id: string;
  state: 'running' | 'finished';
  from: string;
  to: string;
  /** Mailboxes whose comparison is stored (each once, however often its step ran). */
  mailboxesDone: number;
  /** Known once every registry page is planned; until then the mailboxes queued so far. */
  mailboxesTotal: number | null;
  mailboxesPlanned: number;
  startedAt: string;
  updatedAt: string;
}

interface JobRow {
  from: string;
  to: string;
  startedAt: string;
  state: 'running' | 'finished';
  finishedAt?: string;
}
/** A mailbox's answer, the unconverted items (count, keys) or a planned registry page (count, last). */
interface StepRow {
  doneAt: string;
  mailbox?: string;
  result?: string;
  resultBlob?: string;
  count?: number;
  keys?: string;
  last?: boolean;
}

const JOB = 'job';
const MAILBOX_PREFIX = 'mailbox-';
const PLAN_PREFIX = 'plan-';
const NOT_CONVERTED = 'notConverted';
/** Registry rows read, and mailbox steps queued, per plan step. */
const PLAN_PAGE = 1000;
/** A per-mailbox answer above this goes to a blob: a table string property holds 32K characters. */
const MAX_INLINE_CHARS = 30_000;

export class UnknownJobError extends Error {}

/**
 * Reconciliation as a job that survives crashes and keeps memory bounded: a plan step walks the
 * mailbox registry a page at a time and queues one step per mailbox; each mailbox step stores its
 * answer as one row (written once); a step for the unconverted items does the same. Whichever step
 * sees every row present writes the answer blob (write-once) and marks the job finished. Progress is
 * counted from the rows, so a step that runs twice counts once.
 */
export class ReconcileJobs {
  constructor(
    private readonly storage: StorageAccount,
    private readonly blobs: ArchiveBlobs,
    private readonly queues: Pick<WorkQueues, 'send' | 'sendAll'>,
    private readonly reconciler: Reconciler,
    private readonly mailboxes: MailboxPages,
    private readonly planPage = PLAN_PAGE,
  ) {}

  private get table() {
    return this.storage.table(TABLES.reconciliations);
  }

  async start(range: ReconcileRange, now = new Date()): Promise<string> {
    const jobId = `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}`;
    const row: JobRow = {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      startedAt: now.toISOString(),
      state: 'running',
    };
    await this.table.createEntity({ partitionKey: jobId, rowKey: JOB, ...row });
    await this.queues.send(QUEUES.reconcileStep, { jobId, step: 'plan', page: 0 } satisfies ReconcileStepMessage);
    return jobId;
  }

  async handle(message: ReconcileStepMessage): Promise<string> {
    if (!message || typeof message.jobId !== 'string' || !isJobId(message.jobId))
      throw new InvalidInputError('reconcile step without a valid jobId');
    const job = await this.job(message.jobId);
    if (!job) throw new InvalidInputError(`unknown reconciliation job ${message.jobId}`);
    if (job.state === 'finished') return 'finished';
    const range = { from: new Date(job.from), to: new Date(job.to) };
    let outcome: string;
    if (message.step === 'plan') outcome = await this.plan(message);
    else if (message.step === 'mailbox') outcome = await this.mailbox(message.jobId, message.mailbox, range);
    else if (message.step === 'notConverted') outcome = await this.notConverted(message.jobId, range);
    else throw new InvalidInputError(`unknown reconcile step ${(message as { step?: unknown }).step}`);
    return (await this.finishIfComplete(message.jobId)) ? 'finished' : outcome;
  }

  async progress(jobId: string): Promise<ReconcileProgress | undefined> {
    if (!isJobId(jobId)) return undefined;
    const job = await this.job(jobId);
    if (!job) return undefined;
    const [done, plan] = await Promise.all([this.mailboxesDone(jobId), this.planned(jobId)]);
    const updatedAt = [job.finishedAt ?? job.startedAt, done.lastAt].filter(Boolean).sort().at(-1)!;
    return {
      id: jobId,
      state: job.state,
      from: job.from,
      to: job.to,
      mailboxesDone: done.count,
      mailboxesTotal: plan.done ? plan.count : null,
      mailboxesPlanned: plan.count,
      startedAt: job.startedAt,
      updatedAt,
    };
  }

  /**
   * The finished answer, streamed: the progress fields, then the reconciliation's own fields as the
   * blob holds them (the blob's opening brace is skipped), so the body is one JSON object.
   */
  async openResult(progress: ReconcileProgress): Promise<Readable> {
    const blob = await this.blobs.openRead(CONTAINERS.reconciliations, resultBlobName(progress.id), 1);
    const head = JSON.stringify(progress).slice(0, -1) + ',';
    return Readable.from(
      (async function* () {
        yield Buffer.from(head, 'utf8');
        for await (const chunk of blob) yield chunk as Buffer;
      })(),
    );
  }

  /** The finished answer as the reconciler's type (the CLI and tests; a few MB at most per thousand mailboxes). */
  async result(jobId: string): Promise<ReturnType<typeof summarize>> {
    return this.blobs.getJson(CONTAINERS.reconciliations, resultBlobName(jobId));
  }

  /**
   * One registry page: its mailbox steps, then the next page's plan step, then a marker row with
   * the page's count. The marker is what progress sums, so a repeated page counts once.
   */
  private async plan(message: Extract<ReconcileStepMessage, { step: 'plan' }>): Promise<string> {
    const marker = PLAN_PREFIX + String(message.page).padStart(6, '0');
    if (await this.row(message.jobId, marker)) return 'alreadyDone';
    const page = await this.mailboxes.page(this.planPage, message.continuation);
    const steps: ReconcileStepMessage[] = page.mailboxes.map((mailbox) => ({
      jobId: message.jobId,
      step: 'mailbox',
      mailbox,
    }));
    if (message.page === 0) steps.push({ jobId: message.jobId, step: 'notConverted' });
    await this.queues.sendAll(QUEUES.reconcileStep, steps);
    if (page.continuation) {
      await this.queues.send(QUEUES.reconcileStep, {
        jobId: message.jobId,
        step: 'plan',
        page: message.page + 1,
        continuation: page.continuation,
      } satisfies ReconcileStepMessage);
    }
    await this.createOnce(message.jobId, marker, {
      doneAt: new Date().toISOString(),
      count: page.mailboxes.length,
      last: !page.continuation,
    } satisfies StepRow);
    return 'planned';
  }

  private async mailbox(jobId: string, mailbox: string, range: ReconcileRange): Promise<string> {
    if (typeof mailbox !== 'string' || !mailbox)
      throw new InvalidInputError('reconcile mailbox step without a mailbox');
    const rowKey = MAILBOX_PREFIX + tableKey(mailbox);
    if (await this.row(jobId, rowKey)) return 'alreadyDone';
    const result = await this.reconciler.mailbox(mailbox, range);
    const row: StepRow = { doneAt: new Date().toISOString(), mailbox };
    if (result) {
      const json = JSON.stringify(result);
      if (json.length <= MAX_INLINE_CHARS) row.result = json;
      else {
        row.resultBlob = `${jobId}/mailboxes/${tableKey(mailbox)}.json`;
        await this.blobs.putJsonOnce(CONTAINERS.reconciliations, row.resultBlob, result);
      }
    }
    await this.createOnce(jobId, rowKey, row);
    return result ? 'compared' : 'nothingExpected';
  }

  private async notConverted(jobId: string, range: ReconcileRange): Promise<string> {
    if (await this.row(jobId, NOT_CONVERTED)) return 'alreadyDone';
    const found = await this.reconciler.notConverted(range);
    await this.createOnce(jobId, NOT_CONVERTED, {
      doneAt: new Date().toISOString(),
      count: found.count,
      keys: JSON.stringify(found.keys),
    });
    return 'counted';
  }

  /** Every step's row present: write the answer once, then mark the job. Safe to run twice at once. */
  private async finishIfComplete(jobId: string): Promise<boolean> {
    const job = await this.job(jobId);
    if (!job) return false;
    if (job.state === 'finished') return true;
    const plan = await this.planned(jobId);
    if (!plan.done) return false;
    const notConvertedRow = await this.row(jobId, NOT_CONVERTED);
    if (!notConvertedRow) return false;
    if ((await this.mailboxesDone(jobId)).count < plan.count) return false;

    const perMailbox: MailboxReconciliation[] = [];
    for await (const row of this.rows(jobId, MAILBOX_PREFIX, ['mailbox', 'result', 'resultBlob'])) {
      if (row.result) perMailbox.push(JSON.parse(row.result) as MailboxReconciliation);
      else if (row.resultBlob)
        perMailbox.push(await this.blobs.getJson<MailboxReconciliation>(CONTAINERS.reconciliations, row.resultBlob));
    }
    perMailbox.sort((a, b) => (a.mailbox < b.mailbox ? -1 : a.mailbox > b.mailbox ? 1 : 0));
    const notConverted: NotConverted = {
      count: notConvertedRow.count ?? 0,
      keys: JSON.parse(notConvertedRow.keys ?? '[]') as string[],
    };
    const answer = summarize({ from: new Date(job.from), to: new Date(job.to) }, perMailbox, notConverted);
    await this.blobs.putJsonOnce(CONTAINERS.reconciliations, resultBlobName(jobId), answer);
    await this.table.updateEntity(
      { partitionKey: jobId, rowKey: JOB, state: 'finished', finishedAt: new Date().toISOString() },
      'Merge',
    );
    return true;
  }

  private async mailboxesDone(jobId: string): Promise<{ count: number; lastAt?: string }> {
    let count = 0;
    let lastAt: string | undefined;
    for await (const row of this.rows(jobId, MAILBOX_PREFIX, ['doneAt'])) {
      count++;
      if (!lastAt || row.doneAt > lastAt) lastAt = row.doneAt;
    }
    return { count, lastAt };
  }

  /** Mailboxes queued so far, from the page markers; done once the last page is planned. */
  private async planned(jobId: string): Promise<{ count: number; done: boolean }> {
    let count = 0;
    let done = false;
    for await (const row of this.rows(jobId, PLAN_PREFIX, ['count', 'last'])) {
      count += row.count ?? 0;
      done ||= row.last === true;
    }
    return { count, done };
  }

  /** The job's rows whose key starts with `prefix` ('-' + 1 is '.'), in key order. */
  private rows(jobId: string, prefix: string, select: string[]) {
    const filter = odata`PartitionKey eq ${jobId} and RowKey ge ${prefix} and RowKey lt ${prefix.slice(0, -1) + '.'}`;
    return this.table.listEntities<StepRow>({ queryOptions: { filter, select } });
  }

  private async job(jobId: string): Promise<JobRow | undefined> {
    return this.row<JobRow>(jobId, JOB);
  }

  private async row<T = StepRow>(jobId: string, rowKey: string): Promise<T | undefined> {
    try {
      return await this.table.getEntity<T & object>(jobId, rowKey);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async createOnce(jobId: string, rowKey: string, row: object): Promise<void> {
    try {
      await this.table.createEntity({ partitionKey: jobId, rowKey, ...row });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

/** One page of the mailbox registry and the token of the next. */
export interface MailboxPages {
  page(size: number, continuation?: string): Promise<{ mailboxes: string[]; continuation?: string }>;
}

export const resultBlobName = (jobId: string) => `${jobId}.json`;
const isJobId = (id: string) => /^\d{8}T\d{9}Z-[0-9a-f]{12}$/.test(id);
