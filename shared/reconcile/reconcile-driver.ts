import { InvocationContext } from '@azure/functions';
import type { StorageAccount } from '../store/storage-account';
import type { WorkQueues } from '../store/work-queues';
import type { ErrorLog } from '../store/error-log';
import type { Metrics } from '../observability/metrics';
import { QUEUES, poisonQueueOf } from '../store/names';
import { mapLimited } from '../parallel';
import { runQueueStage } from '../pipeline/queue-stage';
import type { ReconcileJobs, ReconcileProgress, ReconcileStepMessage } from './reconcile-jobs';
import type { Reconciliation } from './reconciler';

const MAX_ATTEMPTS = 5;
const PARALLEL_STEPS = 8;

/**
 * Drives a reconciliation job to its end. With `process: true` this process takes the reconcile
 * queue's messages itself through the same stage wrapper as the Functions host (for `--reconcile`
 * against real endpoints, with no host running); otherwise a running host does, and this only waits.
 */
/** What driving a job needs of the archiver (the composition root's Archiver has all of it). */
export interface ReconcileDriverParts {
  storage: StorageAccount;
  queues: WorkQueues;
  errors: ErrorLog;
  metrics: Metrics;
  reconcileJobs: ReconcileJobs;
}

export async function reconcileToEnd(
  a: ReconcileDriverParts,
  jobId: string,
  opts: {
    process: boolean;
    onProgress?: (p: ReconcileProgress) => void;
    log?: (line: string) => void;
    pollMs?: number;
  },
): Promise<Reconciliation> {
  const queue = a.storage.queue(QUEUES.reconcileStep);
  let last = '';
  for (;;) {
    const progress = await a.reconcileJobs.progress(jobId);
    if (!progress) throw new Error(`reconciliation ${jobId} not found`);
    const line = `${progress.mailboxesDone}/${progress.mailboxesTotal ?? '?'}`;
    if (line !== last) opts.onProgress?.(progress);
    last = line;
    if (progress.state === 'finished') return a.reconcileJobs.result(jobId);
    const received = opts.process
      ? (await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 })).receivedMessageItems
      : [];
    if (!received.length) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      continue;
    }
    await mapLimited(received, PARALLEL_STEPS, async (item) => {
      // Step logs go to stderr: stdout's last line is the CLI's answer.
      const context = new InvocationContext({
        functionName: QUEUES.reconcileStep,
        triggerMetadata: { dequeueCount: item.dequeueCount },
        logHandler: (_level, ...args) => opts.log?.(args.join(' ')),
      });
      try {
        const message = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as ReconcileStepMessage;
        await runQueueStage(
          QUEUES.reconcileStep,
          message,
          context,
          a,
          (m) => a.reconcileJobs.handle(m),
          (m) => ({ jobId: m.jobId, step: m.step }),
        );
      } catch {
        // Left on the queue: it comes back after its visibility timeout, and goes to poison at the limit.
        if (item.dequeueCount < MAX_ATTEMPTS) return;
        await a.storage.queue(poisonQueueOf(QUEUES.reconcileStep)).sendMessage(item.messageText);
      }
      await queue.deleteMessage(item.messageId, item.popReceipt);
    });
  }
}
