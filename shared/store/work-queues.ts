import type { StorageAccount } from './storage-account';
import type { QueueName } from './names';
import { mapLimited } from '../parallel';

// Messages are small JSON that point at blobs; they never carry content. The Functions host
// expects base64 (host.json messageEncoding), and the SDK does not encode by itself.
const MAX_VISIBILITY_DELAY_SECONDS = 7 * 24 * 3600 - 1;

export class WorkQueues {
  constructor(private readonly account: StorageAccount) {}

  async send(queue: QueueName, message: object, options: { delaySeconds?: number } = {}): Promise<void> {
    const text = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
    const delay = Math.min(Math.max(0, Math.ceil(options.delaySeconds ?? 0)), MAX_VISIBILITY_DELAY_SECONDS);
    await this.account.queue(queue).sendMessage(text, { visibilityTimeout: delay, messageTimeToLive: -1 });
  }

  /** Sends many messages with bounded parallelism: one Azurite/Storage round trip each. */
  async sendAll(queue: QueueName, messages: object[], parallelism = 16): Promise<void> {
    await mapLimited(messages, parallelism, (message) => this.send(queue, message));
  }

  async approximateDepth(queue: string): Promise<number> {
    const props = await this.account
      .queue(queue)
      .getProperties()
      .catch(() => ({ approximateMessagesCount: 0 }));
    return props.approximateMessagesCount ?? 0;
  }
}
