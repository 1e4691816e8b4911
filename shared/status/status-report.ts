import type { CaptureWindows } from '../store/capture-windows';
import type { ItemLedger } from '../store/item-ledger';
import type { DeliveryLedger } from '../store/delivery-ledger';
import type { ErrorLog, ErrorEntry } from '../store/error-log';
import type { WorkQueues } from '../store/work-queues';
import { QUEUES, poisonQueueOf } from '../store/names';

export interface Totals {
  captured: number;
  converted: number;
  delivered: number;
  failed: number;
  notDelivered: number;
  mailboxes: number;
  invalid: number;
  pending: number;
}

export interface ArchiverStatus {
  generatedAt: string;
  health: { state: 'ok' | 'degraded' | 'failing'; reasons: string[] };
  capture: { capturedThrough?: string; plannedThrough?: string; lastWindow?: { from: string; to: string; storedAt?: string }; windowsInFlight: number; lagHours?: number; retentionDays: number };
  totals: Totals;
  byMailbox: Record<string, { delivered: number; failed: number; pending: number }>;
  queues: Record<string, { depth: number; poison: number }>;
  recentErrors: ErrorEntry[];
}

/** The read model behind /api/status and the --once summary: both come from the same tables. */
export class StatusReport {
  constructor(
    private readonly windows: CaptureWindows,
    private readonly items: ItemLedger,
    private readonly deliveries: DeliveryLedger,
    private readonly errors: ErrorLog,
    private readonly queues: WorkQueues,
    private readonly retentionDays: number,
  ) {}

  async totals(): Promise<{ totals: Totals; byMailbox: ArchiverStatus['byMailbox']; poison: number }> {
    const totals: Totals = { captured: 0, converted: 0, delivered: 0, failed: 0, notDelivered: 0, mailboxes: 0, invalid: 0, pending: 0 };
    for await (const item of this.items.all()) {
      if (item.state === 'invalid') totals.invalid++;
      else totals.captured++;
      if (item.state === 'converted') totals.converted++;
    }
    const byMailbox: ArchiverStatus['byMailbox'] = {};
    for await (const d of this.deliveries.all()) {
      if (d.status === 'notDelivered') {
        totals.notDelivered++;
        continue;
      }
      const m = (byMailbox[d.mailbox] ??= { delivered: 0, failed: 0, pending: 0 });
      if (d.status === 'delivered') { totals.delivered++; m.delivered++; }
      else if (d.status === 'failed') { totals.failed++; m.failed++; }
      else { totals.pending++; m.pending++; }
    }
    totals.mailboxes = Object.values(byMailbox).filter((m) => m.delivered > 0).length;
    let poison = 0;
    for (const q of Object.values(QUEUES)) poison += await this.queues.approximateDepth(poisonQueueOf(q));
    return { totals, byMailbox, poison };
  }

  async build(now = new Date()): Promise<ArchiverStatus> {
    const [checkpoint, windows, { totals, byMailbox }, recentErrors] = await Promise.all([
      this.windows.checkpoint(),
      this.windows.list(),
      this.totals(),
      this.errors.recent(20, now),
    ]);
    const queues: ArchiverStatus['queues'] = {};
    for (const q of Object.values(QUEUES)) {
      queues[q] = { depth: await this.queues.approximateDepth(q), poison: await this.queues.approximateDepth(poisonQueueOf(q)) };
    }
    const stored = windows.filter((w) => w.status === 'stored');
    const last = stored[stored.length - 1];
    const lagHours = checkpoint?.capturedThrough ? (now.getTime() - Date.parse(checkpoint.capturedThrough)) / 3_600_000 : undefined;

    const reasons: string[] = [];
    let state: ArchiverStatus['health']['state'] = 'ok';
    const poisonTotal = Object.values(queues).reduce((n, q) => n + q.poison, 0);
    if (poisonTotal > 0) { state = 'degraded'; reasons.push(`${poisonTotal} message(s) in poison queues`); }
    if (totals.failed > 0) { state = 'degraded'; reasons.push(`${totals.failed} failed deliveries`); }
    if (lagHours !== undefined && lagHours > this.retentionDays * 24 * 0.5) {
      state = 'failing';
      reasons.push(`capture lag ${lagHours.toFixed(1)} h is over half the ${this.retentionDays}-day retention: data may be purged before it is captured`);
    }
    if (lagHours === undefined) reasons.push('no window captured yet');

    return {
      generatedAt: now.toISOString(),
      health: { state, reasons },
      capture: {
        capturedThrough: checkpoint?.capturedThrough,
        plannedThrough: checkpoint?.plannedThrough,
        lastWindow: last ? { from: last.from, to: last.to, storedAt: last.storedAt } : undefined,
        windowsInFlight: windows.length - stored.length,
        lagHours: lagHours === undefined ? undefined : Math.round(lagHours * 100) / 100,
        retentionDays: this.retentionDays,
      },
      totals,
      byMailbox,
      queues,
      recentErrors,
    };
  }
}
