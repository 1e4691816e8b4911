import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import type { ReconcileStepMessage } from '../shared/reconcile/reconcile-jobs';

export async function reconcileStep(message: ReconcileStepMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage('reconcile', message, context, a, (m) => a.reconcileJobs.handle(m), (m) => ({ jobId: m.jobId, step: m.step, mailbox: m.step === 'mailbox' ? m.mailbox : undefined }));
}

app.storageQueue('reconcile-step', { queueName: 'reconcile', connection: 'AzureWebJobsStorage', handler: reconcileStep });
