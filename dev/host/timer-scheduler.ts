import { randomUUID } from 'node:crypto';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { Timer, TimerFunctionOptions } from '@azure/functions';
import { type HostStats, type InvocationTracker, sleep } from './invocations';
import { describeError, newInvocationContext, type HostLogger, type LogSink } from './logging';
import { parseSchedule, type Schedule } from './ncrontab';
import { writeOutputs } from './outputs';
import { blobService } from './storage';

export const LOCK_CONTAINER = 'azure-webjobs-hosts';
const LEASE_S = 15;
const RENEW_EVERY_MS = 5_000;
const NEVER = '0001-01-01T00:00:00.000Z';
// setTimeout overflows past ~24.8 days; long waits are taken in slices.
const MAX_SLEEP_MS = 60 * 60 * 1000;

export interface TimerSchedulerDeps {
  settings: Record<string, string>;
  storageConnection: string;
  sink: LogSink;
  logger: HostLogger;
  tracker: InvocationTracker;
  stats: HostStats;
  messageEncoding: 'base64' | 'none';
}

/**
 * One timer function. Occurrences are computed from the NCRONTAB schedule in UTC. Across host
 * processes the blob `azure-webjobs-hosts/locks/<function>` is the singleton: an occurrence runs only
 * under its lease, and the blob's metadata records the last completed occurrence so a worker that
 * arrives late for the same occurrence skips it. A crash leaves the lease to expire (15 s) and the
 * recorded `next` in the past, which a starting host runs as past due (the Azure schedule monitor).
 */
export class TimerScheduler {
  readonly schedule: Schedule;
  private readonly lockBlob: BlockBlobClient;
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    readonly functionName: string,
    private readonly options: TimerFunctionOptions,
    private readonly deps: TimerSchedulerDeps,
  ) {
    this.schedule = parseSchedule(options.schedule, deps.settings);
    this.lockBlob = blobService(deps.storageConnection)
      .getContainerClient(LOCK_CONTAINER)
      .getBlockBlobClient(`locks/${functionName}`);
  }

  async start(schedule: boolean): Promise<void> {
    await blobService(this.deps.storageConnection).getContainerClient(LOCK_CONTAINER).createIfNotExists();
    await this.lockBlob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((err) => {
      if (!isStatus(err, 409, 412)) throw err;
    });
    if (!schedule) return;
    this.loop = this.scheduleLoop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** Runs the function now, outside the schedule; waits for a running occurrence (here or elsewhere) first. */
  async runNow(): Promise<void> {
    const deadline = Date.now() + 2 * LEASE_S * 1000 + 60_000;
    for (;;) {
      while (this.running) await this.running.catch(() => undefined);
      if (await this.exclusive(() => this.runUnderLease(undefined, false))) return;
      if (Date.now() > deadline) throw new Error(`timer ${this.functionName}: singleton lock stayed busy`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async scheduleLoop(): Promise<void> {
    const signal = this.stopping.signal;
    try {
      if (this.options.useMonitor !== false) await this.runPastDue();
      if (this.options.runOnStartup && !signal.aborted) await this.startOccurrence(undefined, false);
    } catch (err) {
      this.deps.logger.error(`timer ${this.functionName}: startup run failed: ${describeError(err)}`);
    }
    while (!signal.aborted) {
      const occurrence = this.schedule.next(new Date());
      while (!signal.aborted && Date.now() < occurrence.getTime()) {
        await sleep(Math.min(MAX_SLEEP_MS, occurrence.getTime() - Date.now()), signal);
      }
      if (signal.aborted) break;
      // A new occurrence never starts while the last one still runs; the next is computed after it ends.
      await this.startOccurrence(occurrence, false).catch((err) =>
        this.deps.logger.error(`timer ${this.functionName}: ${describeError(err)}`),
      );
    }
  }

  private async runPastDue(): Promise<void> {
    const metadata = (await this.lockBlob.getProperties()).metadata ?? {};
    const next = metadata.next ? new Date(metadata.next) : undefined;
    const last = metadata.lastoccurrence ? new Date(metadata.lastoccurrence) : undefined;
    if (next && next.getTime() < Date.now() && (!last || last < next)) {
      this.deps.logger.info(
        `timer ${this.functionName}: occurrence ${next.toISOString()} was missed; running it past due`,
      );
      await this.startOccurrence(next, true);
    }
  }

  private async startOccurrence(occurrence: Date | undefined, isPastDue: boolean): Promise<void> {
    if (this.running) return;
    await this.exclusive(() => this.runUnderLease(occurrence, isPastDue));
  }

  /** One run at a time in this process, whether scheduled or manual. */
  private async exclusive<T>(run: () => Promise<T>): Promise<T> {
    const work = run();
    this.running = work;
    try {
      return await work;
    } finally {
      this.running = undefined;
    }
  }

  /** false when another worker holds the lease. */
  private async runUnderLease(occurrence: Date | undefined, isPastDue: boolean): Promise<boolean> {
    const lease = this.lockBlob.getBlobLeaseClient(randomUUID());
    try {
      await lease.acquireLease(LEASE_S);
    } catch (err) {
      if (isStatus(err, 409)) {
        if (occurrence)
          this.deps.logger.info(
            `timer ${this.functionName}: occurrence ${occurrence.toISOString()} skipped, another worker holds the singleton lock`,
          );
        return false;
      }
      throw err;
    }
    const renew = setInterval(() => {
      lease
        .renewLease()
        .catch((err) =>
          this.deps.logger.warn(`timer ${this.functionName}: lease renewal failed: ${describeError(err)}`),
        );
    }, RENEW_EVERY_MS);
    try {
      const metadata = (await this.lockBlob.getProperties({ conditions: { leaseId: lease.leaseId } })).metadata ?? {};
      if (occurrence && metadata.lastoccurrence && new Date(metadata.lastoccurrence) >= occurrence) return true;
      const started = new Date();
      const next = this.schedule.next(occurrence && occurrence > started ? occurrence : started);
      const timer: Timer = {
        isPastDue: isPastDue || (occurrence !== undefined && started.getTime() - occurrence.getTime() > 1000),
        schedule: { adjustForDST: false },
        scheduleStatus: {
          last: metadata.lastoccurrence ?? NEVER,
          next: next.toISOString(),
          lastUpdated: metadata.lastupdated ?? NEVER,
        },
      };
      await this.deps.tracker.track(this.invoke(timer));
      const status: Record<string, string> = {
        ...metadata,
        next: next.toISOString(),
        lastupdated: new Date().toISOString(),
      };
      if (occurrence) status.lastoccurrence = occurrence.toISOString();
      await this.lockBlob.setMetadata(status, { conditions: { leaseId: lease.leaseId } });
      return true;
    } finally {
      clearInterval(renew);
      await lease.releaseLease().catch(() => undefined);
    }
  }

  private async invoke(timer: Timer): Promise<void> {
    const invocationId = randomUUID();
    const context = newInvocationContext(this.deps.sink, {
      functionName: this.functionName,
      invocationId,
      options: {
        trigger: { type: 'timerTrigger', name: 'timer', schedule: this.schedule.text },
        return: this.options.return,
        extraInputs: this.options.extraInputs ?? [],
        extraOutputs: this.options.extraOutputs ?? [],
      },
    });
    try {
      const result = await this.options.handler(timer, context);
      await writeOutputs(context, result, this.deps.settings, this.deps.messageEncoding);
      this.deps.stats.record(this.functionName, 'succeeded');
    } catch (err) {
      this.deps.stats.record(this.functionName, 'failed');
      this.deps.logger
        .forFunction(this.functionName, invocationId)
        .error(`${this.functionName} failed: ${describeError(err)}`);
    }
  }
}

function isStatus(err: unknown, ...codes: number[]): boolean {
  return codes.includes((err as { statusCode?: number }).statusCode ?? -1);
}
