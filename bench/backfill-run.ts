import { startLocalEnvironment } from '../dev/local-environment';
import { loadConfig } from '../shared/config';
import { StorageAccount } from '../shared/store/storage-account';
import { CaptureWindows } from '../shared/store/capture-windows';
import { HostWorker } from './host-worker';
import type { BenchOrg } from './org';

export interface BackfillResult {
  /** Days of history from CAPTURE_START to the tick's target. */
  historyDays: number;
  exportLatencySeconds: number;
  /** Export tasks RingCentral was asked to create for the whole backfill. */
  exportTasks: number;
  windows: number;
  /** From the first ingest tick until the checkpoint reached the tick's target (every record in raw/). */
  backfillCaptureSeconds: number;
  captured: boolean;
  /** Item records unpacked (the windows' `records`; chats and members not counted). */
  recordsUnpacked: number;
}

/**
 * The first backfill of the retention period, capture only (convert and deliver switched off with
 * AzureWebJobs.<name>.Disabled, as in Azure): one host with the production defaults for window
 * size and poll interval, against a RingCentral double whose export tasks take `exportLatencySeconds`.
 */
export async function runBackfill(
  bench: BenchOrg,
  o: { exportLatencySeconds: number; timeoutMs: number; trustBundle: string; log: (line: string) => void },
): Promise<BackfillResult> {
  const env = await startLocalEnvironment({
    org: bench.org,
    azurite: { inMemory: true },
    ringCentral: { exportLatencyMs: o.exportLatencySeconds * 1000, pollsUntilComplete: 0 },
    // CAPTURE_START, MAX_WINDOW_HOURS and EXPORT_POLL_SECONDS keep their defaults (retention start,
    // 4320 h, 30 s): this measures what a new installation does. The history reaches back 90 days.
    settings: { CAPTURE_LAG_MINUTES: '0', EXPORT_POLL_SECONDS: '30', RETENTION_DAYS: '90' },
  });
  const storage = new StorageAccount(loadConfig(env.settings).storage);
  const windows = new CaptureWindows(storage);
  const worker = new HostWorker('backfill', {
    ...env.settings,
    NODE_EXTRA_CA_CERTS: o.trustBundle,
    LOCAL_HOST_TIMERS: 'false',
    LOCAL_ADMIN_KEY: 'bench-admin-key',
    'AzureWebJobs.convert.Disabled': 'true',
    'AzureWebJobs.deliver.Disabled': 'true',
  });
  try {
    await worker.start();
    const started = Date.now();
    const url = worker.url;
    const res = await fetch(`${url}/admin/functions/ingest`, {
      method: 'POST',
      headers: { 'x-functions-key': 'bench-admin-key', 'content-type': 'application/json' },
      body: '{}',
    });
    if (res.status !== 202) throw new Error(`ingest trigger answered ${res.status}`);
    let captured = false;
    let lastReport = 0;
    while (Date.now() - started < o.timeoutMs) {
      await new Promise((r) => setTimeout(r, 1000));
      const checkpoint = await windows.checkpoint().catch(() => undefined);
      if (
        checkpoint?.targetThrough &&
        checkpoint.capturedThrough &&
        checkpoint.capturedThrough >= checkpoint.targetThrough
      ) {
        captured = true;
        break;
      }
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        o.log(
          `  ${Math.round((Date.now() - started) / 1000)}s backfill: ${env.ringCentral.stats.tasksCreated} task(s), captured through ${checkpoint?.capturedThrough ?? '-'}`,
        );
      }
    }
    const backfillCaptureSeconds = (Date.now() - started) / 1000;
    const list = (await windows.list()).filter((w) => !w.backfill);
    const checkpoint = await windows.checkpoint();
    const from = list[0] ? Date.parse(list[0].from) : Date.now();
    return {
      historyDays: Math.round(((Date.parse(checkpoint?.targetThrough ?? '') - from) / 86_400_000) * 10) / 10,
      exportLatencySeconds: o.exportLatencySeconds,
      exportTasks: env.ringCentral.stats.tasksCreated,
      windows: list.length,
      backfillCaptureSeconds: Math.round(backfillCaptureSeconds * 10) / 10,
      captured,
      recordsUnpacked: list.reduce((n, w) => n + (w.records ?? 0), 0),
    };
  } finally {
    await worker.stop();
    await env.stop();
  }
}
