import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import { QUEUES } from '../shared/store/names';
import type { DeliverItemMessage } from '../shared/pipeline/messages';

export async function deliver(message: DeliverItemMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage(
    QUEUES.deliver,
    message,
    context,
    a,
    (m) => a.deliverer.handle(m),
    (m) => ({ itemKey: m.itemKey, mailbox: m.mailbox }),
  );
}

app.storageQueue(QUEUES.deliver, { queueName: QUEUES.deliver, connection: 'AzureWebJobsStorage', handler: deliver });
