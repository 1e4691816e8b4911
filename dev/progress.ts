import { stageMetrics } from '../shared/observability/metrics';
import type { CaptureWindow } from '../shared/store/capture-windows';

// What `npm start` shows on stderr while it runs: windows captured of planned, items converted,
// copies delivered, the current rate and an estimate of the time left. The counts come from the
// host's own stage events (the same mapping as the custom metrics), so showing them costs no
// storage reads beyond the small windows table.

export interface ProgressSnapshot {
  windowsStored: number;
  windowsPlanned: number;
  converted: number;
  delivered: number;
  failed: number;
  /** Deliveries queued by conversion and not yet delivered or failed. */
  pendingDeliveries: number;
  /** Copies delivered per minute over the last minute. */
  ratePerMinute: number;
  /** Seconds left, when there is enough to estimate from. */
  etaSeconds?: number;
}

const RATE_WINDOW_MS = 60_000;

/** Counts stage events from host log lines; one instance per run. */
export class ProgressCounter {
  private converted = 0;
  private queued = 0;
  private delivered = 0;
  private failed = 0;
  private readonly deliveredAt: number[] = [];
  private readonly started: number;

  constructor(private readonly now: () => number = Date.now) {
    this.started = now();
  }

  /** Feeds one host log line; lines that are not a finished stage event are ignored. */
  observe(line: string): void {
    const at = line.indexOf('{"event":"');
    if (at < 0 || !/\{"event":"(convert|deliver)\.done"/.test(line.slice(at, at + 30))) return;
    let event: { event: string; result?: unknown; mailbox?: string };
    try {
      event = JSON.parse(line.slice(at)) as typeof event;
    } catch {
      return; // a truncated line: the count is a display, the ledger stays the record
    }
    for (const sample of stageMetrics(event.event.split('.')[0]!, event.result)) {
      if (sample.name === 'items.converted') this.converted += sample.value;
      if (sample.name === 'deliveries.queued') this.queued += sample.value;
      if (sample.name === 'deliveries.failed') this.failed += sample.value;
      if (sample.name === 'deliveries.delivered') {
        this.delivered += sample.value;
        this.deliveredAt.push(this.now());
      }
    }
  }

  snapshot(windows: Pick<CaptureWindow, 'status' | 'from' | 'to'>[], captureTarget?: string): ProgressSnapshot {
    const now = this.now();
    while (this.deliveredAt.length && this.deliveredAt[0]! < now - RATE_WINDOW_MS) this.deliveredAt.shift();
    const elapsedMs = Math.max(1, now - this.started);
    const ratePerMinute = Math.round((this.deliveredAt.length * 60_000) / Math.min(RATE_WINDOW_MS, elapsedMs));
    const stored = windows.filter((w) => w.status === 'stored');
    const pendingDeliveries = Math.max(0, this.queued - this.delivered - this.failed);
    return {
      windowsStored: stored.length,
      windowsPlanned: windows.length,
      converted: this.converted,
      delivered: this.delivered,
      failed: this.failed,
      pendingDeliveries,
      ratePerMinute,
      etaSeconds: estimate(windows, captureTarget, pendingDeliveries, ratePerMinute, elapsedMs),
    };
  }
}

/**
 * Time left is the longer of two estimates: capture (the span still to store, at the span stored
 * per second so far) and delivery (copies queued, at the current rate). Both are rough at the
 * start of a run and settle as it goes.
 */
function estimate(
  windows: Pick<CaptureWindow, 'status' | 'from' | 'to'>[],
  target: string | undefined,
  pending: number,
  ratePerMinute: number,
  elapsedMs: number,
): number | undefined {
  const spanOf = (w: Pick<CaptureWindow, 'from' | 'to'>) => Date.parse(w.to) - Date.parse(w.from);
  const storedSpan = windows.filter((w) => w.status === 'stored').reduce((n, w) => n + spanOf(w), 0);
  const lastEnd = windows.reduce((max, w) => Math.max(max, Date.parse(w.to)), 0);
  const unstored = windows.filter((w) => w.status !== 'stored').reduce((n, w) => n + spanOf(w), 0);
  const unplanned = target && lastEnd ? Math.max(0, Date.parse(target) - lastEnd) : 0;
  let captureS = 0;
  if (unstored + unplanned > 0) {
    if (storedSpan <= 0) return undefined;
    captureS = ((unstored + unplanned) / storedSpan) * (elapsedMs / 1000);
  }
  let deliverS = 0;
  if (pending > 0) {
    if (ratePerMinute <= 0) return undefined;
    deliverS = (pending / ratePerMinute) * 60;
  }
  return Math.round(Math.max(captureS, deliverS));
}

/** `windows 3/4 · converted 120 · delivered 380 · 95/min · about 2 min left` */
export function formatProgress(s: ProgressSnapshot): string {
  const parts = [
    `windows ${s.windowsStored}/${s.windowsPlanned}`,
    `converted ${s.converted}`,
    `delivered ${s.delivered}${s.failed ? ` (${s.failed} failed)` : ''}`,
    `${s.ratePerMinute}/min`,
    s.etaSeconds === undefined
      ? 'time left unknown'
      : s.etaSeconds === 0 && s.pendingDeliveries === 0 && s.windowsStored === s.windowsPlanned
        ? 'caught up'
        : `about ${duration(s.etaSeconds)} left`,
  ];
  return parts.join(' · ');
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export interface ProgressDisplay {
  /** How often the line is refreshed: its counts read the windows table, so not more than needed. */
  readonly everyMs: number;
  update(line: string): void;
  done(line: string): void;
}

/**
 * One live line when stderr is a terminal (log-update redraws it in place, every 2 s); otherwise a
 * plain line every 30 s, so a log file gets a steady, readable trail.
 */
export async function progressDisplay(stream: NodeJS.WriteStream = process.stderr): Promise<ProgressDisplay> {
  if (stream.isTTY) {
    const { createLogUpdate } = await import('log-update');
    const live = createLogUpdate(stream);
    return {
      everyMs: 2000,
      update: (line) => live(line),
      done: (line) => {
        live(line);
        live.done();
      },
    };
  }
  const plain = (line: string) => {
    stream.write(`${new Date().toISOString()} progress: ${line}\n`);
  };
  return { everyMs: 30_000, update: plain, done: plain };
}
