import { resolve } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startLocalEnvironment, type LocalEnvironment } from '../../dev/local-environment';
import { LocalFunctionsHost } from '../../dev/host/local-functions-host';
import { CountingStorageProxy, type StorageCounts } from '../../dev/storage-proxy';
import { createArchiver, type Archiver } from '../../shared/composition';
import { loadConfig } from '../../shared/config';
import { createGraphClient } from '../../shared/mailbox/graph-client';
import { GraphAttachments } from '../../shared/mailbox/graph-attachments';
import { GraphMailboxInventory } from '../../shared/reconcile/mailbox-inventory';
import type { Reconciliation } from '../../shared/reconcile/reconciler';
import type { ArchiverStatus } from '../../shared/operations/status-report';
import { StorageAccount } from '../../shared/store/storage-account';
import { reconcileByJob } from '../reconcile/fixtures/job-rig';
import type { SyntheticHistory } from './synthetic-history';
import { repoRoot } from './repo-root';

// The parts the size test and the history bench share: Azurite (in memory, index preload) and the
// doubles with the history's users, a counting proxy in front of Azurite for status calls, and
// heap sampling (collect, then read: live heap, not garbage) around a reconciliation and a log download.

const FUNCTION_KEY = 'size-function-key-0123456789';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

export interface HeapRun<T> {
  value: T;
  heapGrowthMb: number;
  seconds: number;
}

/** Runs `work` while sampling the collected heap every `everyMs`; growth is the peak over the baseline taken just before. */
export async function withHeapSampling<T>(work: () => Promise<T>, everyMs = 1000): Promise<HeapRun<T>> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sample = () => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, everyMs);
  const started = Date.now();
  try {
    const value = await work();
    sample();
    return { value, heapGrowthMb: (peak - base) / 1_048_576, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

export interface StatusCost {
  transactions: number;
  byOperation: Record<string, number>;
  status: ArchiverStatus;
}

export class SizeRig {
  private host?: LocalFunctionsHost;
  private warmedUp = false;

  private constructor(
    readonly env: LocalEnvironment,
    /** Straight to Azurite: the writer and the reconciliation. */
    readonly storage: StorageAccount,
    private readonly proxy: CountingStorageProxy,
    /** Wired as the composition root wires it, with storage behind the counting proxy. */
    private readonly counted: Archiver,
    private readonly inventory: GraphMailboxInventory,
  ) {}

  static async start(history: SyntheticHistory): Promise<SizeRig> {
    const members = history.mailboxes.map((email, i) => ({
      id: `size-${i}`,
      firstName: 'Member',
      lastName: String(i),
      email,
    }));
    const env = await startLocalEnvironment({
      org: {
        accountId: 'acc-size',
        chats: [],
        members,
        guests: [],
        posts: [],
        events: [],
        tasks: [],
        notes: [],
        files: [],
      },
      azurite: { inMemory: true },
      settings: {
        CAPTURE_START: history.from.toISOString(),
        CAPTURE_LAG_MINUTES: '0',
        LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      },
    });
    const config = loadConfig(env.settings);
    const proxy = new CountingStorageProxy();
    const proxied = await proxy.start(env.settings.AzureWebJobsStorage!);
    const graph = createGraphClient(config.graph);
    const storage = new StorageAccount(config.storage);
    await storage.ensureCreated();
    return new SizeRig(
      env,
      storage,
      proxy,
      createArchiver(loadConfig({ ...env.settings, AzureWebJobsStorage: proxied })),
      new GraphMailboxInventory(graph, config.archiveFolder, new GraphAttachments(graph)),
    );
  }

  /** One status call counted at the wire; the rig's first is preceded by an uncounted one, so first-use work is not in it. */
  async statusCost(): Promise<StatusCost> {
    if (!this.warmedUp) await this.counted.status.build();
    this.warmedUp = true;
    this.proxy.reset();
    const status = await this.counted.status.build();
    const errors = Object.keys(this.proxy.upstreamErrors);
    if (errors.length) throw new Error(`storage proxy errors: ${JSON.stringify(this.proxy.upstreamErrors)}`);
    const counts: StorageCounts = this.proxy.counts;
    return { transactions: counts.total, byOperation: { ...counts.byOperation }, status };
  }

  /**
   * A reconciliation job over the range, its steps taken in this process as `--reconcile` does,
   * its storage transactions counted at the wire and its Graph requests from the double's stats.
   */
  async reconcile(range: {
    from: Date;
    to: Date;
  }): Promise<
    HeapRun<Reconciliation> & { transactions: number; byOperation: Record<string, number>; graphRequests: number }
  > {
    const graphBefore = this.env.graph.stats.totalRequests;
    this.proxy.reset();
    const run = await withHeapSampling(() => reconcileByJob(this.counted.storage, this.inventory, range));
    if (Object.keys(this.proxy.upstreamErrors).length)
      throw new Error(`storage proxy errors: ${JSON.stringify(this.proxy.upstreamErrors)}`);
    return {
      ...run,
      transactions: this.proxy.counts.total,
      byOperation: { ...this.proxy.counts.byOperation },
      graphRequests: this.env.graph.stats.totalRequests - graphBefore,
    };
  }

  /** GET /api/log from the local Functions host in this process, read as a stream: lines and bytes, nothing kept. */
  async downloadLog(
    range: { from: Date; to: Date },
    format: 'csv' | 'jsonl',
  ): Promise<HeapRun<{ status: number; lines: number; bytes: number }>> {
    if (!this.host) {
      this.host = new LocalFunctionsHost({
        repoRoot: repoRoot,
        settings: this.env.settings,
        httpPort: 0,
        timers: false,
        log: () => undefined,
      });
      await this.host.start();
    }
    const url = `${this.host.url}/api/log?from=${range.from.toISOString()}&to=${range.to.toISOString()}&format=${format}`;
    return withHeapSampling(async () => {
      const res = await fetch(url, { headers: { 'x-functions-key': FUNCTION_KEY } });
      let lines = 0;
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        bytes += buffer.length;
        for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
      }
      return { status: res.status, lines, bytes };
    });
  }

  async stop(): Promise<void> {
    await this.host?.stop();
    await this.proxy.stop();
    await this.env.stop();
  }
}
