import { app, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { runQueueStage } from '../shared/pipeline/queue-stage';
import { QUEUES } from '../shared/store/names';
import type { ReconcileStepMessage } from '../shared/reconcile/reconcile-jobs';

export async function reconcileStep(message: ReconcileStepMessage, context: InvocationContext) {
  const a = await archiver();
  return runQueueStage(
    QUEUES.reconcileStep,
    message,
    context,
    a,
    (m) => a.reconcileJobs.handle(m),
    (m) => ({ jobId: m.jobId, step: m.step, mailbox: m.step === 'mailbox' ? m.mailbox : undefined }),
  );
}

app.storageQueue(QUEUES.reconcileStep, {
  queueName: QUEUES.reconcileStep,
  connection: 'AzureWebJobsStorage',
  handler: reconcileStep,
});
