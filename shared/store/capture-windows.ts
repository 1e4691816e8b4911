import type { TableEntityResult } from '@azure/data-tables';
import type { StorageAccount } from './storage-account';
import { TABLES } from './names';
import { isNotFound, isConflict, isPreconditionFailed } from './storage-errors';
import { stripUndefined } from './error-log';
import { CAPTURE_SOURCES, type CaptureSource } from '../config';

export type WindowStatus = 'queued' | 'planned' | 'exporting' | 'downloaded' | 'stored';

export interface CaptureWindow {
  windowId: string;
  from: string;
  to: string;
  status: WindowStatus;
  taskId?: string;
  taskStatus?: string;
  taskCreateAttempts?: number;
  failures?: number;
  datasets?: number;
  /** JSON array of the window's dataset blob names. */
  datasetBlobs?: string;
  /** JSON array of dataset blob names already unpacked. */
  unpacked?: string;
  plannedAt?: string;
  storedAt?: string;
  lastError?: string;
  /** Times a dataset of this window turned out corrupt and was downloaded again. */
  corruptions?: number;
  /** Backfill windows sit beside the checkpoint chain and never move it. */
  backfill?: boolean;
  /** Item records unpacked from the window's datasets (not chats, members, guests); sizes the next windows. */
  records?: number;
  /** Call log: the next page to read (`navigation.nextPage`), so a window resumes where it stopped. */
  cursor?: string;
}

export interface Checkpoint {
  /** Everything before this instant is durably stored in Blob storage. */
  capturedThrough?: string;
  /** Windows have been planned up to this instant (some may still be running). */
  plannedThrough?: string;
  /** Where the last ingest tick asked capture to reach (now − lag at that tick); planning stops here. */
  targetThrough?: string;
  /** The RingCentral app permission this source lacks; absent while the source may run. */
  missingPermission?: string;
  /** When a call last found the permission missing; the source is tried again an hour later. */
  blockedAt?: string;
  /** Part of the source is not captured though the rest is (a call's recordings without ReadCallRecording). */
  degraded?: string;
  degradedAt?: string;
}

/**
 * The source a window belongs to, from its id: Team Messaging windows are named by their start
 * (as before there were other sources), the others `<source>:<start>`.
 */
export function sourceOfWindow(windowId: string): CaptureSource {
  const prefix = windowId.split(':', 1)[0];
  return (CAPTURE_SOURCES as readonly string[]).includes(prefix) ? (prefix as CaptureSource) : 'teammessaging';
}

/**
 * Capture windows (table exporttasks) and the checkpoint that only moves over stored windows, of
 * one capture source: each source has its own windows (partition) and checkpoint (row).
 */
export class CaptureWindows {
  private readonly stream: string;
  private readonly windowPartition: string;

  constructor(
    private readonly account: StorageAccount,
    readonly source: CaptureSource = 'teammessaging',
  ) {
    this.stream = source;
    // Team Messaging keeps the partition it had before there were other sources.
    this.windowPartition = source === 'teammessaging' ? 'window' : `window-${source}`;
  }

  /** The id (and row key) of the window starting at `from`. */
  idOf(from: string): string {
    return this.source === 'teammessaging' ? from : `${this.source}:${from}`;
  }

  /** Records that the source lacks a RingCentral app permission (shown by status, probed again later). */
  async block(permission: string, now = new Date()): Promise<void> {
    await this.checkpoints.upsertEntity(
      { partitionKey: this.stream, rowKey: 'checkpoint', missingPermission: permission, blockedAt: now.toISOString() },
      'Merge',
    );
  }

  /** Records that part of the source is not captured (status shows it for a day after the last time). */
  async degrade(reason: string, now = new Date()): Promise<void> {
    await this.checkpoints.upsertEntity(
      {
        partitionKey: this.stream,
        rowKey: 'checkpoint',
        degraded: reason.slice(0, 500),
        degradedAt: now.toISOString(),
      },
      'Merge',
    );
  }

  /** The permission came back: the source runs again. */
  async unblock(): Promise<void> {
    const current = await this.checkpoint();
    if (!current?.missingPermission) return;
    await this.checkpoints.upsertEntity(
      { partitionKey: this.stream, rowKey: 'checkpoint', missingPermission: '', blockedAt: '' },
      'Merge',
    );
  }

  private get windows() {
    return this.account.table(TABLES.exportTasks);
  }
  private get checkpoints() {
    return this.account.table(TABLES.checkpoints);
  }

  async checkpoint(): Promise<TableEntityResult<Checkpoint> | undefined> {
    try {
      return await this.checkpoints.getEntity<Checkpoint>(this.stream, 'checkpoint');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Reserves [from, to). The window row is created first and conditionally (RowKey = from), so
   * two ingest runs can never both plan a window; plannedThrough then moves with ETag retries.
   * A run that crashed in between is repaired by the next one, which finds the row.
   */
  async reserve(window: { from: string; to: string }, now = new Date()): Promise<'reserved' | 'taken'> {
    let outcome: 'reserved' | 'taken' = 'reserved';
    let to = window.to;
    try {
      await this.windows.createEntity({
        partitionKey: this.windowPartition,
        rowKey: this.idOf(window.from),
        windowId: this.idOf(window.from),
        from: window.from,
        to: window.to,
        status: 'planned',
        plannedAt: now.toISOString(),
        taskCreateAttempts: 0,
        failures: 0,
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
      outcome = 'taken';
      to = (await this.get(this.idOf(window.from)))!.to;
    }
    for (;;) {
      const current = await this.checkpoint();
      if (current?.plannedThrough && current.plannedThrough >= to) return outcome;
      try {
        if (current)
          await this.checkpoints.updateEntity(
            { partitionKey: this.stream, rowKey: 'checkpoint', plannedThrough: to },
            'Merge',
            { etag: current.etag },
          );
        else
          await this.checkpoints.createEntity({ partitionKey: this.stream, rowKey: 'checkpoint', plannedThrough: to });
        return outcome;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
      }
    }
  }

  /** Moves targetThrough forward to `to` (ETag retries); never back, so a late tick changes nothing. */
  async raiseTarget(to: string): Promise<void> {
    for (;;) {
      const current = await this.checkpoint();
      if (current?.targetThrough && current.targetThrough >= to) return;
      try {
        if (current)
          await this.checkpoints.updateEntity(
            { partitionKey: this.stream, rowKey: 'checkpoint', targetThrough: to },
            'Merge',
            { etag: current.etag },
          );
        else
          await this.checkpoints.createEntity({ partitionKey: this.stream, rowKey: 'checkpoint', targetThrough: to });
        return;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
      }
    }
  }

  /** Windows not yet stored whose row has not moved for `minutes`: their poll chain was lost. */
  async stalled(minutes: number, now = new Date()): Promise<CaptureWindow[]> {
    const cutoff = now.getTime() - minutes * 60_000;
    return (await this.list()).filter(
      (w) =>
        w.status !== 'stored' &&
        w.status !== 'queued' &&
        Date.parse((w as { timestamp?: string }).timestamp ?? now.toISOString()) < cutoff,
    );
  }

  async get(windowId: string): Promise<TableEntityResult<CaptureWindow> | undefined> {
    try {
      return await this.windows.getEntity<CaptureWindow>(this.windowPartition, windowId);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async update(windowId: string, patch: Partial<CaptureWindow>, etag?: string): Promise<void> {
    await this.windows.updateEntity(
      { partitionKey: this.windowPartition, rowKey: windowId, ...stripUndefined(patch) },
      'Merge',
      etag ? { etag } : undefined,
    );
  }

  /**
   * Splits [from, to) at `middle` into [from, middle) and [middle, to). The windows stay
   * contiguous, so the checkpoint still cannot pass either half until it is stored.
   */
  async split(windowId: string, middle: string, now = new Date()): Promise<void> {
    const w = await this.get(windowId);
    if (!w || middle <= w.from || middle >= w.to) return;
    await this.windows.upsertEntity(
      {
        partitionKey: this.windowPartition,
        rowKey: this.idOf(middle),
        windowId: this.idOf(middle),
        from: middle,
        to: w.to,
        status: 'planned',
        plannedAt: now.toISOString(),
        taskCreateAttempts: 0,
        failures: 0,
        backfill: w.backfill,
      },
      'Merge',
    );
    await this.update(windowId, { to: middle });
  }

  async list(): Promise<CaptureWindow[]> {
    const out: CaptureWindow[] = [];
    for await (const w of this.windows.listEntities<CaptureWindow>({
      queryOptions: { filter: `PartitionKey eq '${this.windowPartition}'` },
    }))
      out.push(w);
    return out.sort((a, b) => a.from.localeCompare(b.from));
  }

  async inFlightCount(): Promise<number> {
    return (await this.list()).filter((w) => w.status !== 'stored' && w.status !== 'queued').length;
  }

  /** Backfill windows (admin request) wait as 'queued' until an export slot is free. */
  async queueBackfill(
    from: Date,
    to: Date,
    maxHours: number,
    now = new Date(),
  ): Promise<Array<{ windowId: string; from: string; to: string }>> {
    const created: Array<{ windowId: string; from: string; to: string }> = [];
    for (let start = from.getTime(); start < to.getTime(); start += maxHours * 3_600_000) {
      const w = {
        from: new Date(start).toISOString(),
        to: new Date(Math.min(to.getTime(), start + maxHours * 3_600_000)).toISOString(),
      };
      const windowId = this.idOf(`backfill-${w.from}`);
      await this.windows.upsertEntity(
        {
          partitionKey: this.windowPartition,
          rowKey: windowId,
          windowId,
          ...w,
          status: 'queued',
          backfill: true,
          plannedAt: now.toISOString(),
          taskCreateAttempts: 0,
          failures: 0,
        },
        'Replace',
      );
      created.push({ windowId, ...w });
    }
    return created;
  }

  async queued(): Promise<CaptureWindow[]> {
    return (await this.list()).filter((w) => w.status === 'queued');
  }

  /**
   * Records one unpacked dataset; returns true when this call completed the window.
   * ETag retries make concurrent unpacks of one window's datasets safe.
   */
  async markDatasetUnpacked(windowId: string, datasetBlob: string, records = 0, now = new Date()): Promise<boolean> {
    for (;;) {
      const w = await this.get(windowId);
      if (!w) throw new Error(`unknown window ${windowId}`);
      const unpacked = new Set<string>(JSON.parse(w.unpacked ?? '[]') as string[]);
      if (w.status === 'stored') return false;
      // A dataset unpacked twice (a retry) counts its records once.
      const counted = unpacked.has(datasetBlob) ? (w.records ?? 0) : (w.records ?? 0) + records;
      unpacked.add(datasetBlob);
      const complete = w.datasets !== undefined && unpacked.size >= w.datasets;
      try {
        await this.update(
          windowId,
          {
            unpacked: JSON.stringify([...unpacked]),
            records: counted,
            ...(complete ? { status: 'stored', storedAt: now.toISOString() } : {}),
          },
          w.etag,
        );
        return complete;
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
      }
    }
  }

  /** Moves capturedThrough over every contiguous stored window; never past a window that is not stored. */
  async advanceCheckpoint(captureStart: string): Promise<string | undefined> {
    for (;;) {
      const current = await this.checkpoint();
      let through = current?.capturedThrough ?? captureStart;
      for (const w of await this.list()) {
        if (w.backfill) continue;
        if (w.to <= through) continue;
        if (w.from > through || w.status !== 'stored') break;
        through = w.to;
      }
      if (through === current?.capturedThrough) return through;
      try {
        if (current)
          await this.checkpoints.updateEntity(
            { partitionKey: this.stream, rowKey: 'checkpoint', capturedThrough: through },
            'Merge',
            { etag: current.etag },
          );
        else
          await this.checkpoints.createEntity({
            partitionKey: this.stream,
            rowKey: 'checkpoint',
            capturedThrough: through,
          });
        return through;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
      }
    }
  }
}
