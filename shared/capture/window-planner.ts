import type { Config } from '../config';
import type { CaptureWindow, CaptureWindows } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import { QUEUES } from '../store/names';
import type { ExportWindowMessage } from '../pipeline/messages';

/** RingCentral runs at most 2 export tasks per company at once. */
export const MAX_TASKS_IN_FLIGHT = 2;
/** RingCentral's longest export range is 6 months; 180 days stays inside it whatever the months. */
export const MAX_EXPORT_RANGE_MS = 180 * 86_400_000;
/**
 * The shortest window ever planned. A schedule more frequent than the export time does not make
 * windows this short: ticks that find both task slots busy plan nothing, and the next window
 * then covers everything since.
 */
export const MIN_WINDOW_MS = 60_000;
/**
 * Item records (posts, tasks, notes, events, files, ...) one window should hold once earlier windows
 * have shown how dense the data is. Chats and members are left out: every export repeats them.
 * Why 20,000: the bench's full organisation (20,743 items, one 200 MB dataset) unpacked in about
 * 6 minutes on a 2-core machine with local Azurite, inside host.json's 10-minute functionTimeout.
 * The first window has no history to go by, so it is as wide as allowed; an export RingCentral
 * cannot build fails and is split (export-task-poller.ts).
 */
export const TARGET_RECORDS_PER_WINDOW = 20_000;
/** A window narrowed by volume is never made shorter than this (a failing export still splits further). */
const MIN_VOLUME_WINDOW_MS = 15 * 60_000;
/** How many recent stored windows estimate the record density. */
const DENSITY_SAMPLE = 5;
/** Longer than any poll delay or failure backoff (max 60 min): a window untouched this long has lost its message. */
const STALL_MINUTES = 90;

/** A source that lacks a RingCentral app permission is tried again this long after it was last refused. */
export const PERMISSION_PROBE_MS = 60 * 60_000;

export interface PlannedWindows {
  planned: Array<{ windowId: string; from: string; to: string }>;
  inFlight: number;
  capturedThrough?: string;
  targetThrough?: string;
  /** The RingCentral app permission the source lacks: nothing was planned. */
  missingPermission?: string;
}

/**
 * Plans capture windows: contiguous from where the last one ended, never past the target set by
 * the last ingest tick (now − lag at that tick), and never more than the company's task limit.
 * Width follows volume, not the clock: as wide as RingCentral allows (capped by
 * MAX_WINDOW_HOURS) until stored windows show how many records a span of time holds.
 */
export class WindowPlanner {
  constructor(
    private readonly config: Config['capture'],
    private readonly windows: CaptureWindows,
    private readonly queues: WorkQueues,
  ) {}

  /**
   * An ingest tick: moves the target to now − lag and plans toward it. This is the only place
   * the target moves, so steady state is one window per INGEST_SCHEDULE tick, and a one-shot run
   * (one tick) captures up to the moment it started and then stops.
   */
  async tick(now = new Date()): Promise<PlannedWindows> {
    await this.windows.raiseTarget(new Date(now.getTime() - this.config.lagMinutes * 60_000).toISOString());
    return this.plan(now);
  }

  /**
   * Called when a window is stored: keeps a backlog moving at export speed, but only up to the
   * last tick's target, so it stops chaining once it has caught up instead of chasing the clock.
   */
  async continueBacklog(now = new Date()): Promise<PlannedWindows> {
    return this.plan(now);
  }

  /**
   * Records one stored dataset of a window (a zip unpacked, the call log read to its end). When
   * that completes the window, the checkpoint moves over it and a backlog chains on, up to the last
   * tick's target only. Returns whether this call completed the window.
   */
  async datasetStored(windowId: string, datasetBlob: string, records = 0): Promise<boolean> {
    if (!(await this.windows.markDatasetUnpacked(windowId, datasetBlob, records))) return false;
    await this.windows.advanceCheckpoint(this.config.start.toISOString());
    await this.continueBacklog();
    return true;
  }

  /** Queues a past range (POST /api/backfill); it runs as export slots free up. */
  async backfill(
    from: Date,
    to: Date,
    now = new Date(),
  ): Promise<{ queued: Array<{ windowId: string; from: string; to: string }>; started: PlannedWindows }> {
    const queued = await this.windows.queueBackfill(from, to, this.maxWidthMs() / 3_600_000, now);
    return { queued, started: await this.plan(now) };
  }

  /** The upper bound of a window: MAX_WINDOW_HOURS, never past RingCentral's 6-month range. */
  maxWidthMs(): number {
    return Math.min(this.config.maxWindowHours * 3_600_000, MAX_EXPORT_RANGE_MS);
  }

  /**
   * The next window's width from the record counts of recent stored windows: wide when nothing
   * is known or the data is sparse, narrower when a span of time held many records.
   */
  widthMs(history: CaptureWindow[]): number {
    const cap = this.maxWidthMs();
    const sample = history
      .filter((w) => !w.backfill && w.status === 'stored' && typeof w.records === 'number')
      .slice(-DENSITY_SAMPLE);
    const records = sample.reduce((n, w) => n + (w.records ?? 0), 0);
    const span = sample.reduce((n, w) => n + (Date.parse(w.to) - Date.parse(w.from)), 0);
    if (records <= 0 || span <= 0) return cap;
    const width = Math.floor((TARGET_RECORDS_PER_WINDOW * span) / records);
    return Math.max(Math.min(MIN_VOLUME_WINDOW_MS, cap), Math.min(cap, width));
  }

  private async plan(now: Date): Promise<PlannedWindows> {
    const planned: PlannedWindows['planned'] = [];
    const history = await this.windows.list();
    let inFlight = history.filter((w) => w.status !== 'stored' && w.status !== 'queued').length;
    const state = await this.windows.checkpoint();
    if (state?.missingPermission) {
      // Retrying cannot help until an admin grants the permission: wait, then probe once an hour
      // by restarting the windows that were refused (their first call says whether it is back).
      if (now.getTime() - Date.parse(state.blockedAt ?? '') < PERMISSION_PROBE_MS)
        return { planned, inFlight, missingPermission: state.missingPermission };
      const refused = history.filter((x) => x.status !== 'stored' && x.status !== 'queued');
      if (refused.length) {
        await this.windows.block(state.missingPermission, now);
        for (const w of refused)
          await this.queues.send(QUEUES.pollExport, { windowId: w.windowId } satisfies ExportWindowMessage);
        return { planned, inFlight, missingPermission: state.missingPermission };
      }
      await this.windows.unblock(); // nothing left to probe with: plan, and the next call tells
    }
    // Admin backfills go first: they were asked for explicitly and are usually older data.
    for (const queued of history.filter((w) => w.status === 'queued')) {
      if (inFlight >= MAX_TASKS_IN_FLIGHT) break;
      await this.windows.update(queued.windowId, { status: 'planned' });
      await this.queues.send(QUEUES.pollExport, { windowId: queued.windowId } satisfies ExportWindowMessage);
      planned.push({ windowId: queued.windowId, from: queued.from, to: queued.to });
      inFlight++;
    }
    const width = this.widthMs(history);
    let target: number | undefined;
    while (inFlight < MAX_TASKS_IN_FLIGHT) {
      const checkpoint = await this.windows.checkpoint();
      if (!checkpoint?.targetThrough) break; // no tick yet: nothing to plan toward
      target = Date.parse(checkpoint.targetThrough);
      const start = Date.parse(
        checkpoint.plannedThrough ?? checkpoint.capturedThrough ?? this.config.start.toISOString(),
      );
      if (target - start < MIN_WINDOW_MS) break;
      const to = Math.min(target, start + width);
      const window = { from: new Date(start).toISOString(), to: new Date(to).toISOString() };
      if ((await this.windows.reserve(window, now)) === 'taken') continue; // another run planned it; read again
      const message: ExportWindowMessage = { windowId: this.windows.idOf(window.from) };
      await this.queues.send(QUEUES.pollExport, message);
      planned.push({ windowId: message.windowId, ...window });
      inFlight++;
    }
    for (const stalled of await this.windows.stalled(STALL_MINUTES, now)) {
      // A crash between planning and sending, or a lost poll message: restart the chain.
      await this.windows.update(stalled.windowId, { lastError: stalled.lastError ?? 'poll chain restarted' });
      await this.queues.send(QUEUES.pollExport, { windowId: stalled.windowId } satisfies ExportWindowMessage);
    }
    const checkpoint = await this.windows.checkpoint();
    return {
      planned,
      inFlight,
      capturedThrough: checkpoint?.capturedThrough,
      targetThrough: checkpoint?.targetThrough,
    };
  }
}
