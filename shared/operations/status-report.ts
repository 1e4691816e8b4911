import type { CaptureWindow, CaptureWindows, Checkpoint } from '../store/capture-windows';
import { CAPTURE_SOURCES, type CaptureSource } from '../config';
import { PERMISSION_PROBE_MS } from '../capture/window-planner';
import type { ErrorLog, ErrorEntry } from '../store/error-log';
import type { WorkQueues } from '../store/work-queues';
import { QUEUES, poisonQueueOf } from '../store/names';
import type { ItemLedger } from '../store/item-ledger';
import type { DeliveryLedger } from '../store/delivery-ledger';
import type { MailboxRegistry } from '../store/mailbox-registry';
import { mapLimited } from '../parallel';

export interface KindTotals {
  captured: number;
  converted: number;
  invalid: number;
  delivered: number;
  failed: number;
}

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
export interface DayTotals {
  day: string;
  captured: number;
  delivered: number;
  failed: number;
  pending: number;
  notDelivered: number;
}

export type MailboxTotals = { delivered: number; failed: number; pending: number };

/** One capture source as status shows it: whether it runs, and how far it has captured. */
export interface SourceStatus {
  /** off: not in CAPTURE_SOURCES; permission missing: RingCentral refused the app (tried again hourly). */
  state: 'on' | 'off' | 'permission missing';
  missingPermission?: string;
  /** When RingCentral last refused it; the next try is an hour later. */
  blockedAt?: string;
  nextProbeAt?: string;
  /** Part of the source that is not captured (e.g. recordings without ReadCallRecording), shown for a day. */
  degraded?: string;
  capturedThrough?: string;
  lagHours?: number;
  windowsInFlight: number;
  windowsStored: number;
  /** The oldest unfinished window's last error, when it has one. */
  lastError?: string;
}

export interface ArchiverStatus {
  generatedAt: string;
  health: { state: 'ok' | 'degraded' | 'failing'; reasons: string[] };
  /** Every capture source, on or off (CAPTURE_SOURCES); `capture` below is Team Messaging's. */
  sources: Record<CaptureSource, SourceStatus>;
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

export interface CaptureLatency {
  windows: number;
  medianMinutes?: number;
  p95Minutes?: number;
}

/** Median and 95th percentile (nearest rank) of storedAt − from over regular windows stored in the last day. */
export function captureLatency(
  windows: Array<{ from: string; storedAt?: string; backfill?: boolean; status: string }>,
  now: Date,
): CaptureLatency {
  const since = now.getTime() - DAY_MS;
  const minutes = windows
    .filter((w) => !w.backfill && w.status === 'stored' && w.storedAt && Date.parse(w.storedAt) >= since)
    .map((w) => (Date.parse(w.storedAt!) - Date.parse(w.from)) / 60_000)
    .sort((a, b) => a - b);
  if (!minutes.length) return { windows: 0 };
  const rank = (q: number) => Math.round(minutes[Math.max(0, Math.ceil(q * minutes.length) - 1)]! * 10) / 10;
  return { windows: minutes.length, medianMinutes: rank(0.5), p95Minutes: rank(0.95) };
}

export interface FileNoticeRow {
  itemKey: string;
  name: string;
  size?: number;
  sha256?: string;
  location?: string;
  reason: string;
}
const MAX_NOTICES_LISTED = 100;

const DAY_MS = 86_400_000;

/** Ledger partitions whose counts are read at once. */
const PARALLEL_READS = 16;

/**
 * The read model behind /api/status, the dashboard and the --once summary: all come from the same
 * counts. They are read from the tallies the ledgers keep beside their rows (one query per item
 * kind and per mailbox), never from the rows, so a status call costs the same whatever the history.
 */
export class StatusReport {
  private readonly windows: CaptureWindows;

  constructor(
    private readonly windowsBySource: Record<CaptureSource, CaptureWindows>,
    private readonly enabledSources: readonly CaptureSource[],
    private readonly items: ItemLedger,
    private readonly deliveries: DeliveryLedger,
    private readonly mailboxes: MailboxRegistry,
    private readonly errors: ErrorLog,
    private readonly queues: WorkQueues,
    private readonly retentionDays: number,
  ) {
    this.windows = windowsBySource.teammessaging;
  }

  async totals(): Promise<{
    totals: Totals;
    byMailbox: Record<string, MailboxTotals>;
    byDay: DayTotals[];
    fileNotices: FileNoticeRow[];
  }> {
    const totals: Totals = {
      captured: 0,
      converted: 0,
      delivered: 0,
      failed: 0,
      notDelivered: 0,
      mailboxes: 0,
      invalid: 0,
      pending: 0,
      byKind: {},
    };
    const days = new Map<string, DayTotals>();
    const day = (group: string) => {
      const name = group.slice('day:'.length);
      let d = days.get(name);
      if (!d) days.set(name, (d = { day: name, captured: 0, delivered: 0, failed: 0, pending: 0, notDelivered: 0 }));
      return d;
    };
    const kindOf = (kind: string) =>
      (totals.byKind[kind || 'unknown'] ??= { captured: 0, converted: 0, invalid: 0, delivered: 0, failed: 0 });

    const kinds: string[] = [];
    for await (const kind of this.items.kinds()) kinds.push(kind);
    for (const [kind, tally] of await mapLimited(
      kinds,
      PARALLEL_READS,
      async (k) => [k, await this.items.tally(k)] as const,
    )) {
      const all = tally['all'] ?? {};
      const k = kindOf(kind);
      // A converted item is a captured one that went further.
      k.captured += (all['captured'] ?? 0) + (all['converted'] ?? 0);
      k.converted += all['converted'] ?? 0;
      k.invalid += all['invalid'] ?? 0;
      for (const [group, buckets] of Object.entries(tally)) {
        if (group.startsWith('day:')) day(group).captured += (buckets['captured'] ?? 0) + (buckets['converted'] ?? 0);
      }
    }
    for (const k of Object.values(totals.byKind)) {
      totals.captured += k.captured;
      totals.converted += k.converted;
      totals.invalid += k.invalid;
    }

    const mailboxes: string[] = [];
    for await (const mailbox of this.mailboxes.list()) mailboxes.push(mailbox);
    const byMailbox: Record<string, MailboxTotals> = {};
    for (const [mailbox, tally] of await mapLimited(
      mailboxes,
      PARALLEL_READS,
      async (m) => [m, await this.deliveries.tally(m)] as const,
    )) {
      const all = tally['all'] ?? {};
      const m = { delivered: all['delivered'] ?? 0, failed: all['failed'] ?? 0, pending: all['pending'] ?? 0 };
      // Addresses that only ever had copies not delivered (guests, people without a mailbox) are not mailboxes.
      if (m.delivered || m.failed || m.pending) byMailbox[mailbox] = m;
      totals.delivered += m.delivered;
      totals.failed += m.failed;
      totals.pending += m.pending;
      totals.notDelivered += all['notDelivered'] ?? 0;
      for (const [group, buckets] of Object.entries(tally)) {
        if (group.startsWith('kind:')) {
          const k = kindOf(group.slice('kind:'.length));
          k.delivered += buckets['delivered'] ?? 0;
          k.failed += buckets['failed'] ?? 0;
        } else if (group.startsWith('day:')) {
          const d = day(group);
          d.delivered += buckets['delivered'] ?? 0;
          d.failed += buckets['failed'] ?? 0;
          d.pending += buckets['pending'] ?? 0;
          d.notDelivered += buckets['notDelivered'] ?? 0;
        }
      }
    }
    totals.mailboxes = Object.values(byMailbox).filter((m) => m.delivered > 0).length;
    const fileNotices: FileNoticeRow[] = [];
    for (const item of await this.items.recentFileNotices(MAX_NOTICES_LISTED)) {
      try {
        for (const n of JSON.parse(item.fileNotices) as Array<Omit<FileNoticeRow, 'itemKey'>>)
          fileNotices.push({ itemKey: item.itemKey, ...n });
      } catch {
        /* a truncated list is still counted by the item itself */
      }
    }
    const byDay = [...days.values()]
      .filter((d) => d.captured || d.delivered || d.failed || d.pending || d.notDelivered)
      .sort((a, b) => a.day.localeCompare(b.day));
    return { totals, byMailbox, byDay, fileNotices: fileNotices.slice(0, MAX_NOTICES_LISTED) };
  }

  async build(now = new Date()): Promise<ArchiverStatus> {
    const [checkpoint, windows, { totals, byMailbox, byDay, fileNotices }, recentErrors, queues, sources] =
      await Promise.all([
        this.windows.checkpoint(),
        this.windows.list(),
        this.totals(),
        this.errors.recent(20, now),
        this.queueDepths(),
        this.sources(now),
      ]);
    const stored = windows.filter((w) => w.status === 'stored');
    const last = stored[stored.length - 1];
    const lagHours = checkpoint?.capturedThrough
      ? (now.getTime() - Date.parse(checkpoint.capturedThrough)) / 3_600_000
      : undefined;
    const lagShare = lagHours === undefined ? undefined : lagHours / (this.retentionDays * 24);

    const reasons: string[] = [];
    let state: ArchiverStatus['health']['state'] = 'ok';
    const degrade = (reason: string) => {
      if (state === 'ok') state = 'degraded';
      reasons.push(reason);
    };
    const poisonTotal = Object.values(queues).reduce((n, q) => n + q.poison, 0);
    if (poisonTotal > 0) degrade(`${poisonTotal} message(s) in poison queues`);
    if (totals.failed > 0)
      degrade(
        `${totals.failed} failed deliveries in ${Object.values(byMailbox).filter((m) => m.failed > 0).length} mailbox(es)`,
      );
    if (lagShare !== undefined && lagShare > 0.5) {
      state = 'failing';
      reasons.push(
        `capture lag ${lagHours!.toFixed(1)} h is over half the ${this.retentionDays}-day retention: data may be purged before it is captured`,
      );
    } else if (lagHours !== undefined && lagHours > 48) {
      degrade(`capture lag ${lagHours.toFixed(1)} h: capture is behind`);
    }
    if (lagHours === undefined) reasons.push('no window captured yet');
    const stalled = windows.filter(
      (w) => w.status !== 'stored' && w.plannedAt && now.getTime() - Date.parse(w.plannedAt) > DAY_MS,
    );
    if (stalled.length) degrade(`${stalled.length} capture window(s) not stored a day after planning`);
    for (const [source, s] of Object.entries(sources) as Array<[CaptureSource, SourceStatus]>) {
      if (s.state === 'permission missing')
        degrade(
          `${source}: the RingCentral app lacks the ${s.missingPermission} permission; nothing of it is captured until it is granted`,
        );
      if (s.degraded) degrade(`${source}: ${s.degraded}`);
      if (source !== 'teammessaging' && s.state === 'on' && s.lagHours !== undefined && s.lagHours > 48)
        degrade(`${source} capture lag ${s.lagHours.toFixed(1)} h: capture is behind`);
    }

    return {
      generatedAt: now.toISOString(),
      health: { state, reasons },
      sources,
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

  /** Every source's state and checkpoint: one checkpoint row and one window partition each. */
  async sources(now: Date): Promise<Record<CaptureSource, SourceStatus>> {
    const entries = await Promise.all(
      CAPTURE_SOURCES.map(async (source) => {
        const windows = this.windowsBySource[source];
        const [checkpoint, list] = await Promise.all([windows.checkpoint(), windows.list()]);
        return [source, sourceStatus(this.enabledSources.includes(source), checkpoint, list, now)] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<CaptureSource, SourceStatus>;
  }

  /** Each stage's queue depth and its poison queue's, read once and in parallel. */
  async queueDepths(): Promise<ArchiverStatus['queues']> {
    const entries = await Promise.all(
      Object.values(QUEUES).map(
        async (q) =>
          [
            q,
            {
              depth: await this.queues.approximateDepth(q),
              poison: await this.queues.approximateDepth(poisonQueueOf(q)),
            },
          ] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
}

function sourceStatus(
  enabled: boolean,
  checkpoint: Checkpoint | undefined,
  windows: CaptureWindow[],
  now: Date,
): SourceStatus {
  const stored = windows.filter((w) => w.status === 'stored').length;
  const unfinished = windows.filter((w) => w.status !== 'stored' && w.status !== 'queued');
  const lagHours = checkpoint?.capturedThrough
    ? Math.round(((now.getTime() - Date.parse(checkpoint.capturedThrough)) / 3_600_000) * 100) / 100
    : undefined;
  const blocked = enabled && !!checkpoint?.missingPermission;
  const degradedRecently =
    checkpoint?.degraded && now.getTime() - Date.parse(checkpoint.degradedAt ?? '') < DAY_MS
      ? checkpoint.degraded
      : undefined;
  return {
    state: !enabled ? 'off' : blocked ? 'permission missing' : 'on',
    ...(blocked
      ? {
          missingPermission: checkpoint!.missingPermission,
          blockedAt: checkpoint!.blockedAt,
          nextProbeAt: Number.isNaN(Date.parse(checkpoint!.blockedAt ?? ''))
            ? undefined
            : new Date(Date.parse(checkpoint!.blockedAt!) + PERMISSION_PROBE_MS).toISOString(),
        }
      : {}),
    ...(enabled && degradedRecently ? { degraded: degradedRecently } : {}),
    capturedThrough: checkpoint?.capturedThrough,
    lagHours,
    windowsInFlight: unfinished.length,
    windowsStored: stored,
    lastError: unfinished.find((w) => w.lastError)?.lastError,
  };
}
