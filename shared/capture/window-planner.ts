import type { Config } from '../config';
import type { CaptureWindows } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import { QUEUES } from '../store/names';
import type { ExportWindowMessage } from '../pipeline/messages';

/** RingCentral runs at most 2 export tasks per company at once. */
export const MAX_TASKS_IN_FLIGHT = 2;
const MIN_WINDOW_MS = 60_000;
/** Longer than any poll delay or failure backoff (max 60 min): a window untouched this long has lost its message. */
const STALL_MINUTES = 90;

export interface PlannedWindows { planned: Array<{ windowId: string; from: string; to: string }>; inFlight: number; capturedThrough?: string }

/**
 * Plans the next capture windows: contiguous from where the last one ended, never past
 * now − lag, at most MAX_WINDOW_HOURS long, and never more than the company's task limit.
 */
export class WindowPlanner {
  constructor(private readonly config: Config['capture'], private readonly windows: CaptureWindows, private readonly queues: WorkQueues) {}

  /** Queues a past range (POST /api/backfill); it runs as export slots free up. */
  async backfill(from: Date, to: Date, now = new Date()): Promise<{ queued: Array<{ windowId: string; from: string; to: string }>; started: PlannedWindows }> {
    const queued = await this.windows.queueBackfill(from, to, this.config.maxWindowHours, now);
    return { queued, started: await this.planDue(now) };
  }

  async planDue(now = new Date()): Promise<PlannedWindows> {
    const planned: PlannedWindows['planned'] = [];
    const end = now.getTime() - this.config.lagMinutes * 60_000;
    let inFlight = await this.windows.inFlightCount();
    // Admin backfills go first: they were asked for explicitly and are usually older data.
    for (const queued of await this.windows.queued()) {
      if (inFlight >= MAX_TASKS_IN_FLIGHT) break;
      await this.windows.update(queued.windowId, { status: 'planned' });
      await this.queues.send(QUEUES.exports, { windowId: queued.windowId } satisfies ExportWindowMessage);
      planned.push({ windowId: queued.windowId, from: queued.from, to: queued.to });
      inFlight++;
    }
    while (inFlight < MAX_TASKS_IN_FLIGHT) {
      const checkpoint = await this.windows.checkpoint();
      const start = Date.parse(checkpoint?.plannedThrough ?? checkpoint?.capturedThrough ?? this.config.start.toISOString());
      if (end - start < MIN_WINDOW_MS) break;
      const to = Math.min(end, start + this.config.maxWindowHours * 3_600_000);
      const window = { from: new Date(start).toISOString(), to: new Date(to).toISOString() };
      if ((await this.windows.reserve(window, now)) === 'taken') continue; // another run planned it; read again
      const message: ExportWindowMessage = { windowId: window.from };
      await this.queues.send(QUEUES.exports, message);
      planned.push({ windowId: window.from, ...window });
      inFlight++;
    }
    for (const stalled of await this.windows.stalled(STALL_MINUTES, now)) {
      // A crash between planning and sending, or a lost poll message: restart the chain.
      await this.windows.update(stalled.windowId, { lastError: stalled.lastError ?? 'poll chain restarted' });
      await this.queues.send(QUEUES.exports, { windowId: stalled.windowId } satisfies ExportWindowMessage);
    }
    const checkpoint = await this.windows.checkpoint();
    return { planned, inFlight, capturedThrough: checkpoint?.capturedThrough };
  }
}
