import { resolve } from 'node:path';
import {
  startLocalEnvironment,
  type LocalEnvironment,
  type LocalEnvironmentOptions,
} from '../../dev/local-environment';
import { LocalFunctionsHost } from '../../dev/host/local-functions-host';
import type { StoredMessage } from '../../dev/doubles/graph/mailbox-state';
import { createArchiver, type Archiver } from '../../shared/composition';
import { loadConfig } from '../../shared/config';
import { ITEM_KEY_PROPERTY } from '../../shared/mailbox/mapi-properties';
import { TABLES } from '../../shared/store/names';
import type { CaptureWindow } from '../../shared/store/capture-windows';

// The capture tests run the real pipeline: RingCentral double → export → Azurite → local host → Graph double.
export { repoRoot } from '../support/repo-root';
import { repoRoot } from '../support/repo-root';
export const FUNCTION_KEY = 'capture-function-key';
export const ADMIN_KEY = 'capture-admin-key';

export interface CapturePipeline {
  env: LocalEnvironment;
  host: LocalFunctionsHost;
  archiver: Archiver;
  logLines: string[];
  cycle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPipeline(opts: LocalEnvironmentOptions): Promise<CapturePipeline> {
  const env = await startLocalEnvironment({
    azurite: { inMemory: true },
    ...opts,
    settings: {
      CAPTURE_LAG_MINUTES: '0',
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
      ...opts.settings,
    },
  });
  const logLines: string[] = [];
  // Short visibility timeout: a stage that throws (a cut download) is retried within a second.
  const host = new LocalFunctionsHost({
    repoRoot,
    settings: env.settings,
    httpPort: 0,
    timers: false,
    pollIntervalMs: 50,
    log: (line) => logLines.push(line),
    hostJson: { extensions: { queues: { visibilityTimeout: '00:00:01' } } },
  });
  await host.start();
  const archiver = createArchiver(loadConfig(env.settings));
  return {
    env,
    host,
    archiver,
    logLines,
    async cycle(timeoutMs = 150_000) {
      await host.runTimer('ingest');
      await host.waitForIdle({ timeoutMs });
    },
    async stop() {
      await host.stop();
      await env.stop();
    },
  };
}

export function itemKeyOfMessage(m: StoredMessage): string {
  return m.singleValueExtendedProperties?.find((p) => p.id === ITEM_KEY_PROPERTY)?.value ?? '';
}

export { header } from '../support/stored-message';

export function bodyOf(m: StoredMessage): string {
  return m.body?.content ?? '';
}

/** Forgets the checkpoint and every window, so the same range is exported and processed again. */
export async function forgetCheckpoint(archiver: Archiver): Promise<void> {
  for (const table of [TABLES.checkpoints, TABLES.exportTasks]) {
    for await (const row of archiver.storage.table(table).listEntities())
      await archiver.storage.table(table).deleteEntity(row.partitionKey!, row.rowKey!);
  }
}

export async function windowsOf(archiver: Archiver): Promise<CaptureWindow[]> {
  const out: CaptureWindow[] = [];
  for await (const w of archiver.storage
    .table(TABLES.exportTasks)
    .listEntities<CaptureWindow>({ queryOptions: { filter: "PartitionKey eq 'window'" } }))
    out.push(w);
  return out.sort((a, b) => a.from.localeCompare(b.from));
}

/**
 * Samples the checkpoint and the windows while a cycle runs and records every moment the
 * checkpoint stood past the start of a regular window that was not yet stored.
 */
export function watchCheckpoint(
  archiver: Archiver,
  everyMs = 100,
): { violations: string[]; samples: () => number; heldBack: () => number; stop(): Promise<void> } {
  const violations: string[] = [];
  let samples = 0;
  let heldBack = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        // Checkpoint first: a window read afterwards can only be further along, never behind it.
        const checkpoint = await archiver.storage
          .table(TABLES.checkpoints)
          .getEntity<{ capturedThrough?: string }>('teammessaging', 'checkpoint')
          .catch(() => undefined);
        const windows = await windowsOf(archiver);
        const through = checkpoint?.capturedThrough;
        if (through) {
          samples++;
          const unstored = windows.filter((w) => !w.backfill && w.status !== 'stored');
          for (const w of unstored)
            if (Date.parse(w.from) < Date.parse(through))
              violations.push(`checkpoint ${through} passed window ${w.from} (${w.status})`);
          // A later window is stored while an earlier one is not: the checkpoint had to wait.
          if (unstored.some((u) => windows.some((s) => !s.backfill && s.status === 'stored' && s.from > u.from)))
            heldBack++;
        }
      } catch {
        // Tables not created yet.
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    violations,
    samples: () => samples,
    heldBack: () => heldBack,
    async stop() {
      running = false;
      await loop;
    },
  };
}
