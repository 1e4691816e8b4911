import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import { QUEUES } from '../shared/store/names';
import type { ConvertItemMessage } from '../shared/pipeline/messages';

export async function convert(message: ConvertItemMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage(
    QUEUES.convert,
    message,
    context,
    a,
    (m) => a.converter.handle(m),
    (m) => ({ itemKey: m.itemKey, windowId: m.windowId }),
  );
}

app.storageQueue(QUEUES.convert, { queueName: QUEUES.convert, connection: 'AzureWebJobsStorage', handler: convert });
