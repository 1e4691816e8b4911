import type { InvocationContext } from '@azure/functions';
import type { WorkQueues } from '../store/work-queues';
import type { ErrorLog } from '../store/error-log';
import type { QueueName } from '../store/names';
import { InvalidInputError, RetryLaterError, errorMessage } from '../errors';
import { stageMetrics, type Metrics } from '../observability/metrics';

/** After this many reschedules a message is treated as failing, so nothing loops forever. */
const MAX_RESCHEDULES = 200;

type Rescheduled = { reschedules?: number };

/**
 * The common behaviour of every queue stage:
 * - RetryLaterError: send the message again with the delay as its visibility timeout, then
 *   complete this invocation (no sleeping inside a function);
 * - InvalidInputError: report it and complete (retrying cannot help);
 * - anything else: log and rethrow, so the host retries and finally moves it to poison.
 */
export async function runQueueStage<M extends Rescheduled, R>(
  stage: QueueName,
  message: M,
  context: InvocationContext,
  deps: { queues: WorkQueues; errors: ErrorLog; metrics: Metrics },
  work: (message: M) => Promise<R>,
  describe: (message: M) => Record<string, string | undefined>,
): Promise<R | 'rescheduled' | 'rejected'> {
  const ids: Record<string, string | undefined> = {
    stage,
    ...describe(message),
    dequeueCount: String(context.triggerMetadata?.dequeueCount ?? ''),
  };
  try {
    const result = await work(message);
    context.log(
      JSON.stringify({ event: `${stage}.done`, ...ids, result: typeof result === 'object' ? result : String(result) }),
    );
    deps.metrics.record(stageMetrics(stage, result, { mailbox: ids.mailbox }));
    return result;
  } catch (err) {
    if (err instanceof RetryLaterError) {
      const reschedules = (message.reschedules ?? 0) + 1;
      if (reschedules > MAX_RESCHEDULES) {
        await deps.errors.report({
          stage,
          reason: `gave up after ${MAX_RESCHEDULES} reschedules: ${err.reason}`,
          ...pick(ids),
        });
        throw new Error(`too many reschedules: ${err.reason}`);
      }
      await deps.queues.send(stage, { ...message, reschedules }, { delaySeconds: err.delaySeconds });
      context.log(
        JSON.stringify({ event: `${stage}.rescheduled`, ...ids, delaySeconds: err.delaySeconds, reason: err.reason }),
      );
      return 'rescheduled';
    }
    if (err instanceof InvalidInputError) {
      await deps.errors.report({ stage, reason: err.message, ...pick(ids) });
      deps.metrics.record([{ name: 'stage.errors', value: 1, dimensions: { stage, outcome: 'rejected' } }]);
      context.warn(JSON.stringify({ event: `${stage}.rejected`, ...ids, reason: err.message }));
      return 'rejected';
    }
    context.error(JSON.stringify({ event: `${stage}.failed`, ...ids, error: errorMessage(err) }));
    deps.metrics.record([{ name: 'stage.errors', value: 1, dimensions: { stage, outcome: 'failed' } }]);
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 0);
    if (dequeueCount >= 5)
      await deps.errors
        .report({
          stage,
          reason: `moving to poison after ${dequeueCount} attempts: ${errorMessage(err)}`,
          ...pick(ids),
        })
        .catch(() => undefined);
    throw err;
  }
}

function pick(ids: Record<string, string | undefined>) {
  return { itemKey: ids.itemKey, windowId: ids.windowId, mailbox: ids.mailbox };
}
