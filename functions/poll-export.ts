import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import { QUEUES } from '../shared/store/names';
import type { ExportWindowMessage } from '../shared/pipeline/messages';

export async function pollExport(message: ExportWindowMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage(
    QUEUES.pollExport,
    message,
    context,
    a,
    (m) => a.capture.poll(m),
    (m) => ({ windowId: m.windowId }),
  );
}

app.storageQueue(QUEUES.pollExport, {
  queueName: QUEUES.pollExport,
  connection: 'AzureWebJobsStorage',
  handler: pollExport,
});
