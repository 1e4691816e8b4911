import type { BenchOrg, BenchOrgOptions } from './org';
import type { RunResult } from './pipeline-run';
import type { ConversionFloor } from './conversion-floor';
import type { BackfillResult } from './backfill-run';
import type { HistoryResult } from './history-run';
import { QUEUES } from '../shared/store/names';

export interface ReportInput {
  bench: BenchOrg;
  orgOptions: BenchOrgOptions;
  latencyMs: [number, number];
  otherLatencyMs: [number, number];
  timeScale: number;
  floor: ConversionFloor;
  runs: RunResult[];
  /** One mailbox's backlog delivered on its own (run with backlogFirst): the Graph ceiling measurement. */
  ceiling?: { run: RunResult; posts: number; timeScale: number };
  /** The first 90-day backfill, capture only, with a stated export latency. */
  backfill?: BackfillResult;
  machine: { cores: number; model: string; node: string };
  /** Status and reconciliation over a synthetic history (bench/history-worker.ts). */
  history?: HistoryResult;
}

const ATTACHMENT_ROUTE = /^(attachments|uploadSession|upload)\./;

/** Stage throughput from the hosts' `<stage>.done` log events: units per second over the stage's active span. */
function stageRates(run: RunResult): Record<string, { done: number; rescheduled: number; perSecond: number }> {
  const out: Record<string, { done: number; rescheduled: number; perSecond: number }> = {};
  for (const stage of [QUEUES.pollExport, QUEUES.unpack, QUEUES.convert, QUEUES.deliver]) {
    const events = run.events.filter((e) => e.stage === stage);
    if (!events.length) continue;
    const done = events.filter((e) => e.event === 'done');
    const units = stage === 'unpack' ? done.reduce((n, e) => n + (e.records ?? 0), 0) : done.length;
    const times = done.map((e) => e.at);
    const span = times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : 0;
    out[stage] = {
      done: units,
      rescheduled: events.filter((e) => e.event === 'rescheduled').length,
      perSecond: span > 0 ? units / span : units,
    };
  }
  return out;
}

function metricsOf(run: RunResult) {
  const items = run.summary.converted;
  const graphTotal = run.graph.totalRequests;
  const attachmentRequests = Object.entries(run.graph.requests)
    .filter(([name]) => ATTACHMENT_ROUTE.test(name))
    .reduce((n, [, v]) => n + v, 0);
  const withAttachments = run.deliveredWithAttachments;
  const withoutAttachments = run.deliveredMessages - withAttachments;
  const executions = run.events.length;
  const reasons: Record<string, number> = {};
  for (const e of run.events)
    if (e.event === 'rescheduled')
      reasons[`${e.stage}: ${e.reason ?? ''}`] = (reasons[`${e.stage}: ${e.reason ?? ''}`] ?? 0) + 1;
  return {
    items,
    itemsPerSecond: items / run.wallSeconds,
    deliveriesPerSecond: run.summary.delivered / run.wallSeconds,
    graphRequestsPerDelivery: graphTotal / Math.max(1, run.deliveredMessages),
    graphRequestsPerItemWithoutAttachments:
      (graphTotal - attachmentRequests - withAttachments) / Math.max(1, withoutAttachments),
    // Without the one-off requests per mailbox (user look-up, folder find/create): the steady state.
    graphRequestsPerItemMarginal:
      (graphTotal - attachmentRequests - withAttachments - oneOff(run)) / Math.max(1, withoutAttachments),
    graphRequestsPerItemWithAttachments: withAttachments
      ? (attachmentRequests + withAttachments) / withAttachments
      : null,
    storageOpsPerItem: run.storage.total / Math.max(1, items),
    storageOpsPerDelivery: run.storage.total / Math.max(1, run.summary.delivered),
    executionsPerItem: executions / Math.max(1, items),
    rcRequestsPerThousand: (run.ringCentral.requests / Math.max(1, run.summary.captured)) * 1000,
    itemsPerHostCpuSecond:
      items /
      Math.max(
        0.01,
        run.hostCpuSeconds.reduce((a, b) => a + b, 0),
      ),
    reasons,
  };
}

function oneOff(run: RunResult): number {
  return Object.entries(run.graph.requests)
    .filter(([name]) => /^(users|folders)\./.test(name))
    .reduce((n, [, v]) => n + v, 0);
}

const f = (n: number | null | undefined, digits = 2) =>
  n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);

export function report(input: ReportInput): { table: string; json: Record<string, unknown> } {
  const { runs, floor, latencyMs, timeScale } = input;
  // Without a mixed run (`--workers 0`) the ceiling run stands in for the per-item figures.
  const base = runs[0] ?? input.ceiling?.run;
  if (!base) throw new Error('nothing to report: no mixed run and no ceiling run');
  const m = metricsOf(base);
  const meanLatencyS = (latencyMs[0] + latencyMs[1]) / 2 / 1000;
  const ceiling = Math.min(4 / meanLatencyS, 10_000 / 600);
  // The ceiling run measures one mailbox with a backlog; without it, the mixed run's hot mailbox.
  const ceilingRun = input.ceiling?.run ?? base;
  const graphCeilingRatio = ceilingRun.hot.steadyPerSecond / ceiling;
  const ceilingWindows = input.ceiling ? ceilingRun.hot.steadySeconds / (600 / input.ceiling.timeScale) : 0;
  const stages = stageRates(base);
  const scaled = runs[1];
  const speedUp = scaled ? scaled.summary.converted / scaled.wallSeconds / m.itemsPerSecond : null;
  const peakRssMb = Math.max(...base.peakRssMb);

  const goals = [
    [
      'per-mailbox delivery >= 90% of Graph ceiling',
      graphCeilingRatio >= 0.9,
      `${f(graphCeilingRatio * 100, 0)}% (${f(ceilingRun.hot.steadyPerSecond)}/s vs ${f(ceiling)}/s)`,
    ],
    [
      '0 Graph throttling responses provoked',
      runs.every((r) => r.graph.throttled === 0) && ceilingRun.graph.throttled === 0,
      `${[...runs, ...(input.ceiling ? [ceilingRun] : [])].map((r) => r.graph.throttled).join(' + ')} (${JSON.stringify(ceilingRun.graph.throttledBy)})`,
    ],
    [
      '<= 1.05 Graph requests per attachment-free item',
      m.graphRequestsPerItemWithoutAttachments <= 1.05,
      f(m.graphRequestsPerItemWithoutAttachments, 3),
    ],
    [
      '0 RingCentral penalties',
      base.ringCentral.responses429 === 0,
      `${base.ringCentral.responses429} 429s, ${base.ringCentral.penaltiesStarted} penalties`,
    ],
    ['peak RSS <= 300 MB', peakRssMb <= 300, `${peakRssMb} MB`],
    ['conversion >= 50% of MIME floor', floor.ratio >= 0.5, `${f(floor.ratio * 100, 0)}%`],
  ] as const;

  const rows: Array<[string, string]> = [
    ['machine', `${input.machine.cores} cores, ${input.machine.model}, Node ${input.machine.node}`],
    [
      'organisation',
      `${input.bench.itemVersions} item versions, ${input.orgOptions.chats} chats, ${input.orgOptions.members} members, files ${input.orgOptions.filesRatio * 100}% + ${input.orgOptions.largeFileMb.join('/')} MB, export ~${input.orgOptions.exportMb} MB`,
    ],
    [
      'Graph latency / time scale',
      `creates ${latencyMs.join('-')} ms, others ${input.otherLatencyMs.join('-')} ms; 10-min window / ${timeScale}`,
    ],
    ['drained', `${base.drained} in ${f(base.wallSeconds, 1)} s; ${JSON.stringify(base.summary)}`],
    ['items/s end to end', `${f(m.itemsPerSecond)} items, ${f(m.deliveriesPerSecond)} deliveries`],
    ...Object.entries(stages).map(([s, v]): [string, string] => [
      `  stage ${s}`,
      `${f(v.perSecond)}/s (${v.done} done, ${v.rescheduled} rescheduled)`,
    ]),
    [
      'hot mailbox, mixed run',
      `${base.hot.delivered} delivered; steady ${f(base.hot.steadyPerSecond)}/s over ${f(base.hot.steadySeconds, 0)} s; best 10 s ${f(base.hot.peak10sPerSecond)}/s`,
    ],
    ...(input.ceiling
      ? [
          [
            'one-mailbox backlog run',
            `time scale ${input.ceiling.timeScale} (window ${f(600 / input.ceiling.timeScale, 0)} s, ${Math.floor(10_000 / input.ceiling.timeScale)} requests); ${input.ceiling.posts} posts built in ${f(ceilingRun.backlogSeconds, 0)} s, then ${ceilingRun.hot.delivered} delivered in ${f(ceilingRun.wallSeconds, 1)} s; steady ${f(ceilingRun.hot.steadyPerSecond)}/s over ${f(ceilingRun.hot.steadySeconds, 0)} s (${f(ceilingWindows, 1)} windows); best 10 s ${f(ceilingRun.hot.peak10sPerSecond)}/s; Graph ${JSON.stringify(ceilingRun.graph.requests)}`,
          ] as [string, string],
        ]
      : []),
    [
      'Graph ceiling ratio',
      `${f(graphCeilingRatio, 3)} (ceiling ${f(ceiling)}/s = min(4/${meanLatencyS}s, 10000/600s))`,
    ],
    [
      'Graph requests/item',
      `all ${f(m.graphRequestsPerDelivery, 3)}; no attachments ${f(m.graphRequestsPerItemWithoutAttachments, 3)} (steady state ${f(m.graphRequestsPerItemMarginal, 3)}); with ${f(m.graphRequestsPerItemWithAttachments, 2)} (${base.deliveredWithAttachments} items)`,
    ],
    ['Graph requests by route', JSON.stringify(base.graph.requests)],
    [
      'storage ops/item',
      `${f(m.storageOpsPerItem, 1)} (${f(m.storageOpsPerDelivery, 1)}/delivery); ${JSON.stringify(base.storage.byService)}; pacing rows ${base.storage.pacing} (${f(base.storage.pacing / Math.max(1, m.items), 2)}/item, inflated by the scaled reservation block)`,
    ],
    ['storage ops by kind', JSON.stringify(base.storage.byOperation)],
    ['storage proxy errors (must be {})', JSON.stringify(Object.assign({}, ...runs.map((r) => r.storageProxyErrors)))],
    ['executions/item', f(m.executionsPerItem, 2)],
    [
      'RingCentral',
      `${f(m.rcRequestsPerThousand, 1)} requests/1000 items; ${base.ringCentral.responses429} 429s; by group ${JSON.stringify(base.ringCentral.byGroup)}`,
    ],
    [
      'peak RSS (host)',
      `${base.peakRssMb.join(', ')} MB; host CPU ${base.hostCpuSeconds.map((c) => f(c, 0)).join(', ')} s; ${f(m.itemsPerHostCpuSecond, 1)} items/host-CPU-s`,
    ],
    [
      'conversion vs floor',
      `${f(floor.ratio, 2)} (archiver ${f(floor.archiverPerCpuSecond, 0)}/CPU-s, MailComposer ${f(floor.floorPerCpuSecond, 0)}/CPU-s, ${floor.messages} msgs)`,
    ],
    ...(scaled
      ? [
          [
            'scale-out (2 workers)',
            `${f(scaled.wallSeconds, 1)} s, ${f(scaled.summary.converted / scaled.wallSeconds)} items/s, speed-up x${f(speedUp)}; RSS ${scaled.peakRssMb.join(', ')} MB; throttled ${scaled.graph.throttled}; drained ${scaled.drained}`,
          ] as [string, string],
        ]
      : []),
    ...(input.backfill
      ? [
          [
            '90-day backfill (capture)',
            `${input.backfill.historyDays} days in ${input.backfill.exportTasks} export task(s), ${input.backfill.windows} window(s), ${input.backfill.recordsUnpacked} item records; ${f(input.backfill.backfillCaptureSeconds, 1)} s with exports taking ${input.backfill.exportLatencySeconds} s${input.backfill.captured ? '' : ' (NOT captured: time-out)'}`,
          ] as [string, string],
        ]
      : []),
    ['reschedules', JSON.stringify(m.reasons)],
    ...(input.history
      ? ([
          [
            'history (synthetic)',
            `${input.history.items} items over ${input.history.days} days and ${input.history.mailboxes} mailboxes, written in ${f(input.history.writeSeconds, 0)} s`,
          ],
          [
            'status transactions',
            Object.entries(input.history.statusTransactions)
              .map(
                ([rows, n]) =>
                  `${n} at ${rows} delivery rows ${JSON.stringify(input.history!.statusByOperation[rows])} (${input.history!.statusSeconds[rows]} s)`,
              )
              .join('; '),
          ],
          [
            'reconciliation at size',
            `${input.history.reconcileMailboxes} mailboxes, ${input.history.reconcileExpected} expected copies, in ${f(input.history.reconcileSeconds, 1)} s; heap growth ${f(input.history.reconcileHeapMb, 1)} MB; ${input.history.reconcileTransactions} storage transactions ${JSON.stringify(input.history.reconcileByOperation)}; ${input.history.reconcileGraphRequests} Graph requests`,
          ],
        ] as Array<[string, string]>)
      : []),
    ...goals.map(([goal, met, value]): [string, string] => [`goal: ${goal}`, `${met ? 'MET' : 'MISSED'} - ${value}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const table = rows.map(([k, v]) => `${k.padEnd(width)} | ${v}`).join('\n');

  const json = {
    itemsPerSecond: round(m.itemsPerSecond),
    deliveriesPerSecond: round(m.deliveriesPerSecond),
    stageItemsPerSecond: Object.fromEntries(Object.entries(stages).map(([s, v]) => [s, round(v.perSecond)])),
    graphCeilingRatio: round(graphCeilingRatio, 3),
    graphCeilingPerSecond: round(ceiling),
    graphCeilingTimeScale: input.ceiling?.timeScale ?? null,
    /** The steady span in (scaled) request windows: a ratio over fewer than 3 is not a sustained rate. */
    graphCeilingWindows: input.ceiling ? round(ceilingWindows, 1) : null,
    hotMailboxPerSecond: round(ceilingRun.hot.steadyPerSecond),
    mixedRunHotMailboxPerSecond: round(base.hot.steadyPerSecond),
    graphThrottled: runs.reduce((n, r) => n + r.graph.throttled, 0) + (input.ceiling ? ceilingRun.graph.throttled : 0),
    graphRequestsPerItem: round(m.graphRequestsPerDelivery, 3),
    graphRequestsPerItemWithoutAttachments: round(m.graphRequestsPerItemWithoutAttachments, 3),
    graphRequestsPerItemMarginal: round(m.graphRequestsPerItemMarginal, 3),
    graphRequestsPerItemWithAttachments:
      m.graphRequestsPerItemWithAttachments === null ? null : round(m.graphRequestsPerItemWithAttachments, 2),
    storageOpsPerItem: round(m.storageOpsPerItem, 1),
    storageOpsPerDelivery: round(m.storageOpsPerDelivery, 1),
    storageOpsPerItemPacing: round(base.storage.pacing / Math.max(1, m.items), 2),
    executionsPerItem: round(m.executionsPerItem, 2),
    rcRequestsPerThousand: round(m.rcRequestsPerThousand, 1),
    rcPenalties: base.ringCentral.responses429,
    peakRssMb,
    conversionVsFloor: round(floor.ratio, 2),
    scaleOutSpeedUp: speedUp === null ? null : round(speedUp),
    drained: runs.every((r) => r.drained) && ceilingRun.drained,
    failed: base.summary.failed,
    wallSeconds: round(base.wallSeconds, 1),
    items: m.items,
    deliveries: base.summary.delivered,
    cores: input.machine.cores,
    exportTasks: input.backfill?.exportTasks ?? null,
    backfillCaptureSeconds: input.backfill?.backfillCaptureSeconds ?? null,
    backfillExportLatencySeconds: input.backfill?.exportLatencySeconds ?? null,
    backfillCaptured: input.backfill?.captured ?? null,
    statusTransactions: input.history?.statusTransactions ?? null,
    reconcileHeapMb: input.history?.reconcileHeapMb ?? null,
    reconcileSeconds: input.history?.reconcileSeconds ?? null,
    reconcileTransactions: input.history?.reconcileTransactions ?? null,
    goalsMet: goals.filter(([, met]) => met).length,
    goalsTotal: goals.length,
  };
  return { table, json };
}

function round(n: number, digits = 2): number {
  const p = 10 ** digits;
  return Math.round(n * p) / p;
}
