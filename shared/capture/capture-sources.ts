import type { CaptureSource } from '../config';
import { sourceOfWindow, type CaptureWindows } from '../store/capture-windows';
import type { ExportWindowMessage, UnpackDatasetMessage } from '../pipeline/messages';
import type { PlannedWindows, WindowPlanner } from './window-planner';

/** One capture source's parts: its windows, their planner, and the stages that fill them. */
export interface SourceCapture {
  windows: CaptureWindows;
  planner: WindowPlanner;
  /** poll-export: drive a window to stored zips (or, for the call log, read it page by page). */
  poll: { handle(message: ExportWindowMessage): Promise<unknown> };
  /** unpack: one stored zip of a window; absent for sources without zips. */
  unpack?: { handle(message: UnpackDatasetMessage): Promise<unknown> };
}

/**
 * The capture sources CAPTURE_SOURCES turns on, each with its own windows and checkpoint. Ticks
 * and backfills reach every one; queue messages reach the source their window belongs to.
 */
export class CaptureSources {
  constructor(private readonly enabled: ReadonlyMap<CaptureSource, SourceCapture>) {}

  get sources(): CaptureSource[] {
    return [...this.enabled.keys()];
  }

  of(source: CaptureSource): SourceCapture | undefined {
    return this.enabled.get(source);
  }

  async tick(now = new Date()): Promise<Partial<Record<CaptureSource, PlannedWindows>>> {
    const out: Partial<Record<CaptureSource, PlannedWindows>> = {};
    for (const [source, capture] of this.enabled) out[source] = await capture.planner.tick(now);
    return out;
  }

  async backfill(from: Date, to: Date, now = new Date()) {
    const out: Array<{ source: CaptureSource } & Awaited<ReturnType<WindowPlanner['backfill']>>> = [];
    for (const [source, capture] of this.enabled)
      out.push({ source, ...(await capture.planner.backfill(from, to, now)) });
    return out;
  }

  /** A window of a source CAPTURE_SOURCES no longer lists is left as it is. */
  poll(message: ExportWindowMessage): Promise<unknown> {
    const capture = this.enabled.get(sourceOfWindow(message.windowId));
    return capture ? capture.poll.handle(message) : Promise.resolve('source off');
  }

  unpack(message: UnpackDatasetMessage): Promise<unknown> {
    const capture = this.enabled.get(sourceOfWindow(message.windowId));
    if (!capture?.unpack) return Promise.resolve('source off');
    return capture.unpack.handle(message);
  }
}
