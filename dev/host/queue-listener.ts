import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { StorageQueueFunctionOptions } from '@azure/functions';
import type { HostConfig } from './host-config';
import { type InvocationTracker, type HostStats, sleep } from './invocations';
import { describeError, newInvocationContext, type HostLogger, type LogSink } from './logging';
import { resolveSetting } from './ncrontab';
import { writeOutputs } from './outputs';
import { decodeBase64Strict, queueClient, resolveConnection } from './storage';

// While a message runs it stays invisible this long (Azure: 10 minutes), renewed halfway through.
export const DEFAULT_MESSAGE_LEASE_S = 600;

export interface QueueListenerDeps {
  settings: Record<string, string>;
  config: HostConfig['queues'];
  pollIntervalMs: number;
  messageLeaseSeconds: number;
  sink: LogSink;
  logger: HostLogger;
  tracker: InvocationTracker;
  stats: HostStats;
}

export class QueueListener {
  readonly queueName: string;
  readonly queue: QueueClient;
  private readonly poison: QueueClient;
  private readonly stopping = new AbortController();
  private active = 0;
  private loop: Promise<void> | undefined;

  constructor(
    readonly functionName: string,
    private readonly options: StorageQueueFunctionOptions,
    private readonly deps: QueueListenerDeps,
  ) {
    const connection = resolveConnection(deps.settings, options.connection);
    this.queueName = resolveSetting(options.queueName, deps.settings);
    this.queue = queueClient(connection, this.queueName);
    this.poison = queueClient(connection, `${this.queueName}-poison`);
  }

  async start(): Promise<void> {
    // A busy listener races many short sleeps against completions; each holds an abort
    // listener until its timer ends, so the default warning threshold of 10 is too low.
    setMaxListeners(1000, this.stopping.signal);
    await this.queue.createIfNotExists();
    await this.poison.createIfNotExists();
    this.loop = this.poll();
  }

  /** Stops receiving; in-flight invocations are awaited by the host's tracker. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async poll(): Promise<void> {
    const { batchSize, newBatchThreshold } = this.deps.config;
    const maxConcurrency = batchSize + newBatchThreshold;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      // Like the Azure host: fetch the next batch once the running count falls to newBatchThreshold.
      if (this.active > newBatchThreshold) {
        await Promise.race([this.deps.tracker.nextCompletion(), sleep(this.deps.pollIntervalMs, signal)]);
        continue;
      }
      let messages: DequeuedMessageItem[];
      try {
        const response = await this.queue.receiveMessages({
          numberOfMessages: Math.min(batchSize, maxConcurrency - this.active),
          visibilityTimeout: this.deps.messageLeaseSeconds,
        });
        messages = response.receivedMessageItems;
      } catch (err) {
        this.deps.logger.warn(`queue ${this.queueName}: receive failed: ${describeError(err)}`);
        await sleep(Math.max(1000, this.deps.pollIntervalMs), signal);
        continue;
      }
      if (signal.aborted) {
        // Received just as we stopped: hand them back at once rather than leave them invisible 10 minutes.
        await Promise.allSettled(
          messages.map((m) => this.queue.updateMessage(m.messageId, m.popReceipt, undefined, 0)),
        );
        break;
      }
      for (const message of messages) {
        this.active++;
        void this.deps.tracker.track(this.process(message).finally(() => this.active--));
      }
      if (messages.length === 0) await sleep(this.deps.pollIntervalMs, signal);
    }
  }

  private async process(message: DequeuedMessageItem): Promise<void> {
    const invocationId = randomUUID();
    const log = this.deps.logger.forFunction(this.functionName, invocationId);
    const { maxDequeueCount, visibilityTimeoutMs, messageEncoding } = this.deps.config;
    let popReceipt = message.popReceipt;

    const text = messageEncoding === 'base64' ? decodeBase64Strict(message.messageText) : message.messageText;
    if (text === undefined) {
      log.error(`message ${message.messageId} is not valid base64; moved to ${this.queueName}-poison`);
      await this.moveToPoison(message, popReceipt, log);
      return;
    }

    const renew = setInterval(
      () => {
        this.queue.updateMessage(message.messageId, popReceipt, undefined, this.deps.messageLeaseSeconds).then(
          (r) => {
            popReceipt = r.popReceipt!;
          },
          (err) => log.warn(`message ${message.messageId}: visibility renewal failed: ${describeError(err)}`),
        );
      },
      (this.deps.messageLeaseSeconds * 1000) / 2,
    );
    try {
      const context = newInvocationContext(this.deps.sink, {
        functionName: this.functionName,
        invocationId,
        triggerMetadata: {
          id: message.messageId,
          dequeueCount: message.dequeueCount,
          insertionTime: message.insertedOn.toISOString(),
          expirationTime: message.expiresOn.toISOString(),
          nextVisibleTime: message.nextVisibleOn.toISOString(),
          popReceipt: message.popReceipt,
        },
        options: {
          trigger: { type: 'queueTrigger', name: 'queueItem', queueName: this.queueName },
          return: this.options.return,
          extraInputs: this.options.extraInputs ?? [],
          extraOutputs: this.options.extraOutputs ?? [],
        },
      });
      const result = await this.options.handler(parseJsonOrText(text), context);
      await writeOutputs(context, result, this.deps.settings, messageEncoding);
      clearInterval(renew);
      this.deps.stats.record(this.functionName, 'succeeded');
      await this.queue
        .deleteMessage(message.messageId, popReceipt)
        .catch((err) => log.warn(`message ${message.messageId}: delete after success failed: ${describeError(err)}`));
    } catch (err) {
      clearInterval(renew);
      this.deps.stats.record(this.functionName, 'failed');
      log.error(
        `${this.functionName} failed for message ${message.messageId} (dequeueCount ${message.dequeueCount}): ${describeError(err)}`,
      );
      if (message.dequeueCount >= maxDequeueCount) {
        log.error(
          `message ${message.messageId} reached maxDequeueCount ${maxDequeueCount}; moved to ${this.queueName}-poison`,
        );
        await this.moveToPoison(message, popReceipt, log);
      } else {
        await this.queue
          .updateMessage(message.messageId, popReceipt, undefined, Math.round(visibilityTimeoutMs / 1000))
          .catch((e) => log.warn(`message ${message.messageId}: release failed: ${describeError(e)}`));
      }
    } finally {
      clearInterval(renew);
    }
  }

  private async moveToPoison(message: DequeuedMessageItem, popReceipt: string, log: { warn(m: string): void }) {
    try {
      await this.poison.sendMessage(message.messageText);
      await this.queue.deleteMessage(message.messageId, popReceipt);
      this.deps.stats.record(this.functionName, 'poisoned');
    } catch (err) {
      log.warn(`message ${message.messageId}: move to poison failed: ${describeError(err)}`);
    }
  }
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
