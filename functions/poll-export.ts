import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import type { ExportWindowMessage } from '../shared/pipeline/messages';

export async function pollExport(message: ExportWindowMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage('exports', message, context, a, (m) => a.exportPoller.handle(m), (m) => ({ windowId: m.windowId }));
}

app.storageQueue('poll-export', { queueName: 'exports', connection: 'AzureWebJobsStorage', handler: pollExport });
