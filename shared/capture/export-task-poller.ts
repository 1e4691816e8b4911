import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Config } from '../config';
import type { CaptureWindows, CaptureWindow } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import { CONTAINERS, QUEUES } from '../store/names';
import { blobSegment } from '../store/keys';
import type { RingCentralGateway } from '../ringcentral/ringcentral-api';
import type { ExportTasks, ExportTaskView } from './export-tasks';
import type { ExportWindowMessage, UnpackDatasetMessage } from '../pipeline/messages';
import { MAX_TASKS_IN_FLIGHT, type WindowPlanner } from './window-planner';
import { recordRefusal } from './source-refusal';
import { PermissionMissingError, RetryLaterError, errorMessage } from '../errors';

const RUNNING = new Set(['Accepted', 'Pending', 'InProgress']);
const MAX_FAILURE_BACKOFF_SECONDS = 3600;
const SPLIT_AFTER_FAILURES = 2;
const MAX_CREATE_ATTEMPTS = 10;
const MIN_SPLIT_MS = 15 * 60_000;
/** A too-large export is split into at most this many windows at once. */
const MAX_SPLIT_PARTS = 16;

/**
 * A dataset larger than this is not downloaded: its window is split instead, in as many parts as
 * the size says. One unpack invocation reads one dataset, and the bench's 200 MB dataset took
 * about 6 minutes of host.json's 10-minute functionTimeout; an unpack that times out every time
 * would park the window in poison and hold the checkpoint for good. Mutable for tests only.
 */
export const EXPORT_LIMITS = { maxDatasetBytes: 300 * 1024 * 1024 };

/**
 * Drives one window's export task: create it, poll it by rescheduling its own message (never
 * sleeping), then stream each dataset zip into Blob storage and hand the zips to unpack.
 */
export class ExportTaskPoller {
  constructor(
    private readonly config: Config['capture'],
    private readonly windows: CaptureWindows,
    private readonly tasks: ExportTasks,
    private readonly ringCentral: RingCentralGateway,
    private readonly blobs: ArchiveBlobs,
    private readonly queues: WorkQueues,
    private readonly errors: ErrorLog,
    private readonly planner: WindowPlanner,
  ) {}

  async handle(message: ExportWindowMessage): Promise<'rescheduled' | 'downloaded' | 'done' | 'blocked'> {
    try {
      return await this.advance(message);
    } catch (err) {
      if (!(err instanceof PermissionMissingError)) throw err;
      return recordRefusal(this.windows, this.errors, {
        stage: QUEUES.pollExport,
        windowId: message.windowId,
        error: err,
        consequence: `${this.windows.source} capture waits until it is granted (tried again hourly)`,
      });
    }
  }

  private async advance(message: ExportWindowMessage): Promise<'rescheduled' | 'downloaded' | 'done'> {
    const window = await this.windows.get(message.windowId);
    if (!window) throw new Error(`unknown capture window ${message.windowId}`);
    if (window.status === 'stored') return 'done';
    if (window.status === 'downloaded') {
      // Only a lost unpack message brings us here (the stall watchdog): send the missing ones again.
      const unpacked = new Set<string>(JSON.parse(window.unpacked ?? '[]') as string[]);
      for (const datasetBlob of JSON.parse(window.datasetBlobs ?? '[]') as string[]) {
        if (!unpacked.has(datasetBlob))
          await this.queues.send(QUEUES.unpack, {
            windowId: window.windowId,
            datasetBlob,
          } satisfies UnpackDatasetMessage);
      }
      return 'done';
    }

    if (!window.taskId) {
      await this.createTask(window);
      return this.pollAgain(message);
    }

    const task = await this.tasks.get(window.taskId);
    await this.windows.update(window.windowId, { taskStatus: task.status, status: 'exporting' });
    const status = task.status as string | undefined;
    if (status && RUNNING.has(status)) return this.pollAgain(message);
    if (status === 'Completed') {
      if (await this.splitIfTooLarge(window, task)) return 'rescheduled';
      await this.downloadDatasets(window, task);
      return 'downloaded';
    }
    if (status === 'AttemptFailed') {
      // RingCentral retries the task itself; keep polling, a little slower each time, and say so.
      const attempts = (window.failures ?? 0) + 1;
      await this.windows.update(window.windowId, {
        failures: attempts,
        lastError: 'export attempt failed; RingCentral is retrying',
      });
      await this.errors.report({
        stage: QUEUES.pollExport,
        windowId: window.windowId,
        reason: `export task ${window.taskId}: an attempt failed; RingCentral retries it (seen ${attempts} time(s))`,
      });
      await this.queues.send(QUEUES.pollExport, { windowId: window.windowId } satisfies ExportWindowMessage, {
        delaySeconds: this.backoff(attempts),
      });
      return 'rescheduled';
    }
    // Failed, Cancelled, Expired: a new task for the same window, with backoff. A window that
    // keeps failing is split in two, because the usual cause is an export too large to build.
    const failures = (window.failures ?? 0) + 1;
    const delay = this.backoff(failures);
    const split =
      failures >= SPLIT_AFTER_FAILURES && Date.parse(window.to) - Date.parse(window.from) >= 2 * MIN_SPLIT_MS;
    await this.errors.report({
      stage: QUEUES.pollExport,
      windowId: window.windowId,
      reason: `export task ${window.taskId} ended ${status ?? 'without status'}; ${split ? 'splitting the window and ' : ''}retrying in ${delay}s (failure ${failures})`,
    });
    if (split) {
      const middle = new Date(
        Math.floor((Date.parse(window.from) + Date.parse(window.to)) / 2 / 1000) * 1000,
      ).toISOString();
      await this.windows.split(window.windowId, middle);
      await this.queues.send(QUEUES.pollExport, { windowId: this.windows.idOf(middle) } satisfies ExportWindowMessage, {
        delaySeconds: delay,
      });
    }
    await this.windows.update(window.windowId, {
      taskId: '',
      failures: split ? 0 : failures,
      lastError: `task ${status}`,
    });
    await this.queues.send(QUEUES.pollExport, { windowId: window.windowId } satisfies ExportWindowMessage, {
      delaySeconds: delay,
    });
    return 'rescheduled';
  }

  /**
   * Windows start wide (window-planner.ts); when an export comes back with a dataset too large to
   * unpack in one invocation, the window is split by the size it showed, and every part is
   * exported anew. The parts stay contiguous, so the checkpoint still waits for all of them.
   */
  private async splitIfTooLarge(window: CaptureWindow, task: ExportTaskView): Promise<boolean> {
    const largest = Math.max(0, ...(task.datasets ?? []).map((d) => d.size ?? 0));
    const from = Date.parse(window.from);
    const span = Date.parse(window.to) - from;
    if (largest <= EXPORT_LIMITS.maxDatasetBytes || span < 2 * MIN_SPLIT_MS) return false;
    // Aim at 80 % of the limit: records are not spread evenly over time, and each part repeats the chats and members.
    const parts = Math.min(
      MAX_SPLIT_PARTS,
      Math.ceil(largest / (0.8 * EXPORT_LIMITS.maxDatasetBytes)),
      Math.floor(span / MIN_SPLIT_MS),
    );
    const cuts: string[] = [];
    // From the end: each split cuts the tail off the original window.
    for (let k = parts - 1; k >= 1; k--) {
      const cut = new Date(Math.floor((from + (k * span) / parts) / 1000) * 1000).toISOString();
      await this.windows.split(window.windowId, cut);
      cuts.push(this.windows.idOf(cut));
    }
    await this.windows.update(window.windowId, {
      taskId: '',
      taskStatus: '',
      status: 'planned',
      failures: 0,
      lastError: `export too large (a ${largest}-byte dataset): split in ${parts}`,
    });
    await this.errors.report({
      stage: QUEUES.pollExport,
      windowId: window.windowId,
      reason: `export task ${window.taskId} has a ${largest}-byte dataset, over ${EXPORT_LIMITS.maxDatasetBytes}: splitting the window in ${parts} and exporting each part`,
    });
    for (const windowId of [window.windowId, ...cuts.reverse()]) {
      await this.queues.send(QUEUES.pollExport, { windowId } satisfies ExportWindowMessage);
    }
    return true;
  }

  private backoff(failures: number): number {
    return Math.min(MAX_FAILURE_BACKOFF_SECONDS, this.config.exportPollSeconds * 2 ** failures);
  }

  private async createTask(window: CaptureWindow): Promise<void> {
    // A crash after RingCentral accepted a task but before we saved its id must not create a
    // second one: on a retry, adopt a task that already covers exactly this window.
    if ((window.taskCreateAttempts ?? 0) > 0) {
      const existing = await this.tasks.findExisting(window.from, window.to);
      if (existing?.id) {
        await this.windows.update(window.windowId, {
          taskId: existing.id,
          taskStatus: existing.status,
          status: 'exporting',
        });
        return;
      }
    }
    // RingCentral runs at most 2 tasks per company. Planning keeps to that, but two planners
    // racing can overshoot, so the limit is checked again right before a task is created.
    const running = (await this.windows.list()).filter(
      (w) => w.windowId !== window.windowId && w.taskId && w.status === 'exporting',
    ).length;
    if (running >= MAX_TASKS_IN_FLIGHT)
      throw new RetryLaterError(this.config.exportPollSeconds, `${running} export tasks already running`);
    const attempts = (window.taskCreateAttempts ?? 0) + 1;
    await this.windows.update(window.windowId, { taskCreateAttempts: attempts });
    try {
      const task = await this.tasks.create(window.from, window.to);
      await this.windows.update(window.windowId, { taskId: task.id, taskStatus: task.status, status: 'exporting' });
      await this.windows.unblock();
    } catch (err) {
      if (err instanceof RetryLaterError || err instanceof PermissionMissingError) throw err;
      await this.errors.report({
        stage: QUEUES.pollExport,
        windowId: window.windowId,
        reason: `creating export task failed (attempt ${attempts}): ${errorMessage(err)}`,
      });
      // Usually the company's task limit or a passing outage: back off rather than burn the
      // message's dequeue count; after many attempts let it fail loudly into poison.
      if (attempts < MAX_CREATE_ATTEMPTS)
        throw new RetryLaterError(this.backoff(attempts), `creating export task failed: ${errorMessage(err)}`);
      throw err;
    }
  }

  private async downloadDatasets(window: CaptureWindow, task: ExportTaskView): Promise<void> {
    const datasets = task.datasets ?? [];
    const names: string[] = [];
    for (const [index, dataset] of datasets.entries()) {
      const name = `${blobSegment(window.windowId)}/${blobSegment(window.taskId!)}/${blobSegment(dataset.id ?? String(index))}.zip`;
      names.push(name);
      if (await this.isStored(name, dataset.size)) continue;
      try {
        await this.downloadDataset(window, dataset.uri!, name, dataset.size);
      } catch (err) {
        if (err instanceof RetryLaterError) throw err;
        // A cut or short download: the host retries the window; status must say why it is late.
        const reason = `dataset ${dataset.id ?? index} of export task ${window.taskId} download failed; retrying: ${errorMessage(err)}`;
        await this.windows.update(window.windowId, { lastError: reason.slice(0, 1000) });
        await this.errors.report({ stage: QUEUES.pollExport, windowId: window.windowId, reason });
        throw err;
      }
    }
    await this.windows.update(window.windowId, {
      status: 'downloaded',
      datasets: datasets.length,
      datasetBlobs: JSON.stringify(names),
    });
    if (datasets.length === 0) {
      // An empty window is stored as soon as it is known to be empty; no unpack follows to
      // move the checkpoint or the backlog, so do both here.
      await this.planner.datasetStored(window.windowId, '(none)');
    }
    for (const datasetBlob of names) {
      await this.queues.send(QUEUES.unpack, { windowId: window.windowId, datasetBlob } satisfies UnpackDatasetMessage);
    }
  }

  private async isStored(name: string, expectedSize?: number): Promise<boolean> {
    if (!(await this.blobs.exists(CONTAINERS.exports, name))) return false;
    return expectedSize === undefined || (await this.blobs.size(CONTAINERS.exports, name)) === expectedSize;
  }

  private async downloadDataset(
    window: CaptureWindow,
    uri: string,
    name: string,
    expectedSize?: number,
  ): Promise<void> {
    const media = await this.ringCentral.openMedia(uri, 0, this.tasks.downloadGroup);
    if (media.status === 403 || media.status === 404 || media.status === 410) {
      // Dataset links expire; the rescheduled message GETs the task again, which hands out a new one.
      throw new RetryLaterError(1, `dataset link answered ${media.status}; polling the task again for a fresh link`);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    media.body.on('error', (err) => counted.destroy(err));
    media.body.pipe(counted);
    await this.blobs.putStream(CONTAINERS.exports, name, counted, 'application/zip', {
      windowid: encodeURIComponent(window.windowId),
    });
    const expected = expectedSize ?? media.contentLength;
    if (expected !== undefined && bytes !== expected) {
      throw new Error(`dataset ${name} truncated: got ${bytes} of ${expected} bytes`);
    }
  }

  private async pollAgain(message: ExportWindowMessage): Promise<'rescheduled'> {
    await this.queues.send(QUEUES.pollExport, { windowId: message.windowId } satisfies ExportWindowMessage, {
      delaySeconds: this.config.exportPollSeconds,
    });
    return 'rescheduled';
  }
}
