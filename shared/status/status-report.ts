import type { CaptureWindows } from '../store/capture-windows';
import type { ErrorLog, ErrorEntry } from '../store/error-log';
import type { WorkQueues } from '../store/work-queues';
import { QUEUES, poisonQueueOf } from '../store/names';
import type { LedgerScan } from './ledger-scan';

export interface KindTotals { captured: number; converted: number; invalid: number; delivered: number; failed: number }

export interface Totals {
  captured: number;
  converted: number;
  delivered: number;
  failed: number;
  notDelivered: number;
  mailboxes: number;
  invalid: number;
  pending: number;
  /** Per item kind (the items table `kind` column; deliveries by their `kind`). */
  byKind: Record<string, KindTotals>;
}

/** Per UTC day of the item's own time: items captured, and mailbox copies delivered / failed / pending. */
export interface DayTotals { day: string; captured: number; delivered: number; failed: number; pending: number; notDelivered: number }

export type MailboxTotals = { delivered: number; failed: number; pending: number };

export interface ArchiverStatus {
  generatedAt: string;
  health: { state: 'ok' | 'degraded' | 'failing'; reasons: string[] };
  capture: {
    capturedThrough?: string;
    plannedThrough?: string;
    lastWindow?: { from: string; to: string; storedAt?: string };
    windowsInFlight: number;
    windowsStored: number;
    lagHours?: number;
    retentionDays: number;
    /** Capture lag as a share of the retention period: at 100 % RingCentral purges data before we capture it. */
    lagPercentOfRetention?: number;
    /**
     * Measured over the regular windows stored in the last 24 h: for each, storedAt − from, the
     * longest any change in it waited to be stored (schedule + lag + export time in steady state).
     */
    captureLatency: CaptureLatency;
  };
  totals: Totals;
  byDay: DayTotals[];
  byMailbox: Record<string, MailboxTotals>;
  queues: Record<string, { depth: number; poison: number }>;
  recentErrors: ErrorEntry[];
  /** Files that did not travel with their message (over the mailbox limit, or gone), newest first. */
  filesKeptInBlob: FileNoticeRow[];
}

export interface CaptureLatency { windows: number; medianMinutes?: number; p95Minutes?: number }

/** Median and 95th percentile (nearest rank) of storedAt − from over regular windows stored in the last day. */
export function captureLatency(windows: Array<{ from: string; storedAt?: string; backfill?: boolean; status: string }>, now: Date): CaptureLatency {
  const since = now.getTime() - DAY_MS;
  const minutes = windows
    .filter((w) => !w.backfill && w.status === 'stored' && w.storedAt && Date.parse(w.storedAt) >= since)
    .map((w) => (Date.parse(w.storedAt!) - Date.parse(w.from)) / 60_000)
    .sort((a, b) => a - b);
  if (!minutes.length) return { windows: 0 };
  const rank = (q: number) => Math.round(minutes[Math.max(0, Math.ceil(q * minutes.length) - 1)]! * 10) / 10;
  return { windows: minutes.length, medianMinutes: rank(0.5), p95Minutes: rank(0.95) };
}

export interface FileNoticeRow { itemKey: string; name: string; size?: number; sha256?: string; location?: string; reason: string }
const MAX_NOTICES_LISTED = 100;

const DAY_MS = 86_400_000;

/** The read model behind /api/status, the dashboard and the --once summary: all come from the same tables. */
export class StatusReport {
  constructor(
    private readonly windows: CaptureWindows,
    private readonly scan: LedgerScan,
    private readonly errors: ErrorLog,
    private readonly queues: WorkQueues,
    private readonly retentionDays: number,
  ) {}

  async totals(): Promise<{ totals: Totals; byMailbox: Record<string, MailboxTotals>; byDay: DayTotals[]; poison: number; fileNotices: FileNoticeRow[] }> {
    const fileNotices: FileNoticeRow[] = [];
    const totals: Totals = { captured: 0, converted: 0, delivered: 0, failed: 0, notDelivered: 0, mailboxes: 0, invalid: 0, pending: 0, byKind: {} };
    const days = new Map<string, DayTotals>();
    const dayOf = (iso?: string) => {
      const t = iso ? Date.parse(iso) : NaN;
      if (Number.isNaN(t)) return undefined;
      const day = new Date(t).toISOString().slice(0, 10);
      let d = days.get(day);
      if (!d) days.set(day, (d = { day, captured: 0, delivered: 0, failed: 0, pending: 0, notDelivered: 0 }));
      return d;
    };
    const kindOf = (kind?: string) => (totals.byKind[kind || 'unknown'] ??= { captured: 0, converted: 0, invalid: 0, delivered: 0, failed: 0 });

    for await (const item of this.scan.items()) {
      const k = kindOf(item.kind ?? item.partitionKey);
      if (item.state === 'invalid') { totals.invalid++; k.invalid++; continue; }
      totals.captured++;
      k.captured++;
      if (item.fileNotices) {
        try {
          for (const n of JSON.parse(item.fileNotices) as Array<Omit<FileNoticeRow, 'itemKey'>>) fileNotices.push({ itemKey: item.itemKey, ...n });
        } catch { /* a truncated list is still counted by the item itself */ }
      }
      if (item.state === 'converted') { totals.converted++; k.converted++; }
      const d = dayOf(item.itemTime);
      if (d) d.captured++;
    }
    const byMailbox: Record<string, MailboxTotals> = {};
    for await (const row of this.scan.deliveries()) {
      const d = dayOf(row.itemTime);
      if (row.status === 'notDelivered') {
        totals.notDelivered++;
        if (d) d.notDelivered++;
        continue;
      }
      const m = (byMailbox[row.mailbox] ??= { delivered: 0, failed: 0, pending: 0 });
      if (row.status === 'delivered') {
        totals.delivered++; m.delivered++; kindOf(row.kind).delivered++;
        if (d) d.delivered++;
      } else if (row.status === 'failed') {
        totals.failed++; m.failed++; kindOf(row.kind).failed++;
        if (d) d.failed++;
      } else {
        totals.pending++; m.pending++;
        if (d) d.pending++;
      }
    }
    totals.mailboxes = Object.values(byMailbox).filter((m) => m.delivered > 0).length;
    let poison = 0;
    for (const q of Object.values(QUEUES)) poison += await this.queues.approximateDepth(poisonQueueOf(q));
    fileNotices.sort((a, b) => b.itemKey.localeCompare(a.itemKey));
    return { totals, byMailbox, byDay: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)), poison, fileNotices: fileNotices.slice(0, MAX_NOTICES_LISTED) };
  }

  async build(now = new Date()): Promise<ArchiverStatus> {
    const [checkpoint, windows, { totals, byMailbox, byDay, fileNotices }, recentErrors, queues] = await Promise.all([
      this.windows.checkpoint(),
      this.windows.list(),
      this.totals(),
      this.errors.recent(20, now),
      this.queueDepths(),
    ]);
    const stored = windows.filter((w) => w.status === 'stored');
    const last = stored[stored.length - 1];
    const lagHours = checkpoint?.capturedThrough ? (now.getTime() - Date.parse(checkpoint.capturedThrough)) / 3_600_000 : undefined;
    const lagShare = lagHours === undefined ? undefined : lagHours / (this.retentionDays * 24);

    const reasons: string[] = [];
    let state: ArchiverStatus['health']['state'] = 'ok';
    const degrade = (reason: string) => { if (state === 'ok') state = 'degraded'; reasons.push(reason); };
    const poisonTotal = Object.values(queues).reduce((n, q) => n + q.poison, 0);
    if (poisonTotal > 0) degrade(`${poisonTotal} message(s) in poison queues`);
    if (totals.failed > 0) degrade(`${totals.failed} failed deliveries in ${Object.values(byMailbox).filter((m) => m.failed > 0).length} mailbox(es)`);
    if (lagShare !== undefined && lagShare > 0.5) {
      state = 'failing';
      reasons.push(`capture lag ${lagHours!.toFixed(1)} h is over half the ${this.retentionDays}-day retention: data may be purged before it is captured`);
    } else if (lagHours !== undefined && lagHours > 48) {
      degrade(`capture lag ${lagHours.toFixed(1)} h: capture is behind`);
    }
    if (lagHours === undefined) reasons.push('no window captured yet');
    const stalled = windows.filter((w) => w.status !== 'stored' && w.plannedAt && now.getTime() - Date.parse(w.plannedAt) > DAY_MS);
    if (stalled.length) degrade(`${stalled.length} capture window(s) not stored a day after planning`);

    return {
      generatedAt: now.toISOString(),
      health: { state, reasons },
      capture: {
        capturedThrough: checkpoint?.capturedThrough,
        plannedThrough: checkpoint?.plannedThrough,
        lastWindow: last ? { from: last.from, to: last.to, storedAt: last.storedAt } : undefined,
        windowsInFlight: windows.length - stored.length,
        windowsStored: stored.length,
        lagHours: lagHours === undefined ? undefined : Math.round(lagHours * 100) / 100,
        retentionDays: this.retentionDays,
        lagPercentOfRetention: lagShare === undefined ? undefined : Math.round(lagShare * 1000) / 10,
        captureLatency: captureLatency(windows, now),
      },
      totals,
      byDay,
      byMailbox,
      queues,
      recentErrors,
      filesKeptInBlob: fileNotices,
    };
  }

  private async queueDepths(): Promise<ArchiverStatus['queues']> {
    const entries = await Promise.all(
      Object.values(QUEUES).map(async (q) => [q, { depth: await this.queues.approximateDepth(q), poison: await this.queues.approximateDepth(poisonQueueOf(q)) }] as const),
    );
    return Object.fromEntries(entries);
  }
}
