import { startLocalEnvironment, type LocalEnvironment } from '../dev/local-environment';
import { loadConfig } from '../shared/config';
import { createArchiver } from '../shared/composition';
import { runSummary, type RunSummary } from '../shared/operations/run-summary';
import { StorageAccount } from '../shared/store/storage-account';
import { CaptureWindows } from '../shared/store/capture-windows';
import { QUEUES, poisonQueueOf } from '../shared/store/names';
import type { RingCentralStats } from '../dev/doubles/ringcentral/stats';
import type { GraphDoubleStats } from '../dev/doubles/graph/server';
import { CountingStorageProxy, type StorageCounts } from '../dev/storage-proxy';
import { HostWorker, type StageEvent } from './host-worker';
import type { BenchOrg } from './org';

export interface RunOptions {
  workers: number;
  latencyMs: [number, number];
  otherLatencyMs: [number, number];
  timeScale: number;
  timeoutMs: number;
  trustBundle: string;
  cpuProfDir?: string;
  log: (line: string) => void;
  /**
   * Build the whole backlog first (deliver off through AzureWebJobs.deliver.Disabled, as in Azure),
   * then deliver it: the delivery phase alone is timed, so one mailbox's rate is not bounded by
   * how fast conversion feeds it.
   */
  backlogFirst?: boolean;
}

export interface HotMailboxRate {
  delivered: number;
  steadyPerSecond: number;
  steadySeconds: number;
  peak10sPerSecond: number;
}

export interface RunResult {
  workers: number;
  wallSeconds: number;
  drained: boolean;
  summary: RunSummary;
  graph: GraphDoubleStats;
  ringCentral: RingCentralStats;
  storage: StorageCounts;
  /** Failures between the counting proxy and Azurite: a valid run has none. */
  storageProxyErrors: Record<string, number>;
  peakRssMb: number[];
  hostCpuSeconds: number[];
  events: StageEvent[];
  problems: string[];
  hot: HotMailboxRate;
  /** With backlogFirst: seconds spent building the backlog before delivery started. */
  backlogSeconds?: number;
  deliveredMessages: number;
  deliveredWithAttachments: number;
  maxQueueDepth: Record<string, number>;
}

/** Azurite + doubles in this process, N host processes, one synthetic organisation, until drained. */
export async function runPipeline(bench: BenchOrg, o: RunOptions): Promise<RunResult> {
  const scale = o.timeScale;
  const env: LocalEnvironment = await startLocalEnvironment({
    org: bench.org,
    // In memory: with disk persistence Azurite re-serialises its whole metadata database every few
    // seconds, and at the full organisation that, not the archiver, becomes the bottleneck.
    azurite: { inMemory: true },
    graph: {
      latencyMs: { create: o.latencyMs, other: o.otherLatencyMs },
      // The documented ceilings; only the 10-minute request window is shortened, at the same rate.
      limits: { requestsPerWindow: Math.floor(10_000 / scale), windowMs: Math.round(600_000 / scale) },
    },
    settings: {
      CAPTURE_START: bench.from.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '24',
      EXPORT_POLL_SECONDS: '2',
      INGEST_SCHEDULE: '*/10 * * * * *',
    },
  });
  const proxy = new CountingStorageProxy();
  const proxied = await proxy.start(env.settings.AzureWebJobsStorage);
  const hostEnv = {
    ...env.settings,
    AzureWebJobsStorage: proxied,
    NODE_EXTRA_CA_CERTS: o.trustBundle,
    // The archiver's pacing in step with the double's window: the same rate (9,700 per 10 min), a
    // window K times shorter. The reservation block follows the budget (graphMailboxPacing).
    GRAPH_MAILBOX_PACING: `${Math.floor(9_700 / scale)}/${600 / scale}`,
    LOCAL_FUNCTION_KEY: 'bench-function-key',
    LOCAL_ADMIN_KEY: 'bench-admin-key',
  };
  const storage = new StorageAccount(loadConfig(env.settings).storage);
  const windows = new CaptureWindows(storage);
  const workers = Array.from({ length: o.workers }, (_, i) => new HostWorker(`w${i + 1}`, hostEnv, o.cpuProfDir));
  const hotSamples: Array<{ at: number; count: number }> = [];
  const maxQueueDepth: Record<string, number> = {};
  let started = Date.now();
  let drained = false;
  let backlogSeconds: number | undefined;
  try {
    if (o.backlogFirst) {
      backlogSeconds = await buildBacklog(bench, o, hostEnv, storage, windows);
      started = Date.now();
    }
    for (const w of workers) await w.start();
    o.log(`  ${o.workers} host worker(s) started (pids ${workers.map((w) => w.pid).join(', ')})`);
    let quiet = 0;
    let lastReport = 0;
    while (Date.now() - started < o.timeoutMs) {
      await new Promise((r) => setTimeout(r, 1000));
      hotSamples.push({ at: Date.now(), count: env.graph.messagesIn(bench.hotMailbox).length });
      // An overloaded Azurite can stop answering; the time-out must still end the run with a report.
      const depths = await withinSeconds(
        10,
        Promise.all(
          Object.values(QUEUES)
            .flatMap((q) => [q, poisonQueueOf(q)])
            .map(async (q) => [q, (await storage.queue(q).getProperties()).approximateMessagesCount ?? 0] as const),
        ),
      );
      if (!depths) {
        quiet = 0;
        continue;
      }
      for (const [q, n] of depths) maxQueueDepth[q] = Math.max(maxQueueDepth[q] ?? 0, n);
      const checkpoint = await withinSeconds(
        10,
        windows.checkpoint().catch(() => undefined),
      );
      const captured = Date.parse(checkpoint?.capturedThrough ?? '') >= bench.to.getTime();
      const busy = depths.filter(([q]) => !q.endsWith('-poison')).reduce((n, [, d]) => n + d, 0);
      quiet = captured && busy === 0 ? quiet + 1 : 0;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        o.log(
          `  ${Math.round((Date.now() - started) / 1000)}s queues ${depths
            .filter(([q]) => !q.endsWith('-poison'))
            .map(([q, d]) => `${q}=${d}`)
            .join(
              ' ',
            )} graph creates ${env.graph.stats.requests['messages.create'] ?? 0} rss ${workers.map((w) => w.peakRssMb()).join('/')} MB`,
        );
      }
      if (quiet >= 3) {
        drained = true;
        break;
      }
    }
    const wallSeconds = (Date.now() - started - (drained ? 3000 : 0)) / 1000;
    const peakRssMb = workers.map((w) => w.peakRssMb());
    const hostCpuSeconds = workers.map((w) => w.cpuSeconds());
    const storageCounts = structuredClone(proxy.counts);
    const graph = env.graph.stats;
    const ringCentral = structuredClone(env.ringCentral.stats);
    let deliveredMessages = 0;
    let deliveredWithAttachments = 0;
    for (const m of bench.org.members) {
      if (!m.email) continue;
      for (const message of env.graph.messagesIn(m.email)) {
        deliveredMessages++;
        if (message.attachments.length > 0) deliveredWithAttachments++;
      }
    }
    const summary = await runSummary(createArchiver(loadConfig(env.settings)).status);
    return {
      workers: o.workers,
      wallSeconds,
      drained,
      summary,
      graph,
      ringCentral,
      storage: storageCounts,
      storageProxyErrors: { ...proxy.upstreamErrors },
      peakRssMb,
      hostCpuSeconds,
      events: workers.flatMap((w) => w.events),
      problems: workers.flatMap((w) => w.problems),
      hot: hotRate(hotSamples, o.backlogFirst ? 600_000 / scale : 0),
      deliveredMessages,
      deliveredWithAttachments,
      maxQueueDepth,
      backlogSeconds,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await proxy.stop();
    await env.stop();
  }
}

/** The promise's value, or undefined when it takes longer than `seconds`. */
async function withinSeconds<T>(seconds: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), seconds * 1000);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Capture and convert everything with the deliver function disabled; the deliver queue keeps it all. */
async function buildBacklog(
  bench: BenchOrg,
  o: RunOptions,
  hostEnv: Record<string, string>,
  storage: StorageAccount,
  windows: CaptureWindows,
): Promise<number> {
  const started = Date.now();
  const builders = Array.from(
    { length: o.workers },
    (_, i) => new HostWorker(`b${i + 1}`, { ...hostEnv, 'AzureWebJobs.deliver.Disabled': 'true' }, o.cpuProfDir),
  );
  try {
    for (const w of builders) await w.start();
    let quiet = 0;
    while (Date.now() - started < o.timeoutMs && quiet < 3) {
      await new Promise((r) => setTimeout(r, 1000));
      const upstream = Object.values(QUEUES).filter((q) => q !== QUEUES.deliver);
      const busy = (
        await Promise.all(
          upstream.map(async (q) => (await storage.queue(q).getProperties()).approximateMessagesCount ?? 0),
        )
      ).reduce((a, b) => a + b, 0);
      const checkpoint = await windows.checkpoint().catch(() => undefined);
      quiet = Date.parse(checkpoint?.capturedThrough ?? '') >= bench.to.getTime() && busy === 0 ? quiet + 1 : 0;
    }
    const backlog = (await storage.queue(QUEUES.deliver).getProperties()).approximateMessagesCount ?? 0;
    o.log(
      `  backlog ${quiet >= 3 ? 'built' : 'NOT complete (time-out; raise --timeout-min): conversion still runs while delivering, so the rate is not the ceiling'} in ${Math.round((Date.now() - started) / 1000)} s: ${backlog} deliveries queued`,
    );
  } finally {
    await Promise.allSettled(builders.map((w) => w.stop()));
  }
  return (Date.now() - started) / 1000;
}

/**
 * The hot mailbox's sustained delivery rate: from one request window after its first delivery (or
 * 10% of its deliveries, if later) to 90% of them; the mixed run, whose hot mailbox is fed by
 * conversion and never meets the window, passes windowMs 0. Graph lets a mailbox spend a whole window's
 * budget at any pace up to the concurrency bound, so the sustained ceiling only applies after the
 * first window; the tail is left out as a ramp-down.
 */
function hotRate(samples: Array<{ at: number; count: number }>, windowMs: number): HotMailboxRate {
  const total = samples.at(-1)?.count ?? 0;
  const firstDelivery = samples.find((s) => s.count > 0);
  const first = samples.find((s) => s.count >= total * 0.1 && firstDelivery && s.at >= firstDelivery.at + windowMs);
  const last = samples.find((s) => s.count >= total * 0.9);
  let peak10sPerSecond = 0;
  for (const [i, s] of samples.entries()) {
    const later = samples.slice(i).find((t) => t.at - s.at >= 10_000);
    if (later) peak10sPerSecond = Math.max(peak10sPerSecond, (later.count - s.count) / ((later.at - s.at) / 1000));
  }
  if (!first || !last || last.at <= first.at)
    return { delivered: total, steadyPerSecond: 0, steadySeconds: 0, peak10sPerSecond };
  const seconds = (last.at - first.at) / 1000;
  return {
    delivered: total,
    steadyPerSecond: (last.count - first.count) / seconds,
    steadySeconds: seconds,
    peak10sPerSecond,
  };
}
