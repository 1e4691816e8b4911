import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import { QUEUES } from '../shared/store/names';
import type { UnpackDatasetMessage } from '../shared/pipeline/messages';

export async function unpack(message: UnpackDatasetMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage(
    QUEUES.unpack,
    message,
    context,
    a,
    (m) => a.capture.unpack(m),
    (m) => ({ windowId: m.windowId }),
  );
}

app.storageQueue(QUEUES.unpack, { queueName: QUEUES.unpack, connection: 'AzureWebJobsStorage', handler: unpack });
