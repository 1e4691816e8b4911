import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { answer, parseDateRange } from '../shared/operations/http-input';
import { reconcileRangeRules } from '../shared/reconcile/reconciler';

/**
 * Admin only: the answer names mailboxes and item ids of the whole tenant.
 * POST /api/reconcile?from&to starts a job (202, Location: its GET); GET /api/reconcile/{id} answers
 * its progress, then the whole reconciliation. GET /api/reconcile (the old in-request form) is 410.
 */
export async function reconcile(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id;
  if (request.method === 'GET' && !id) {
    return {
      status: 410,
      jsonBody: {
        error:
          'reconciliation runs as a job: POST /api/reconcile?from=&to= starts it and answers its id; GET /api/reconcile/{id} shows its progress and, when finished, the result',
      },
    };
  }
  if (request.method === 'POST' && id)
    return {
      status: 405,
      headers: { allow: 'GET' },
      jsonBody: { error: 'POST /api/reconcile (without an id) starts a reconciliation' },
    };
  return answer(context, async (): Promise<HttpResponseInit> => {
    const a = await archiver();
    if (request.method === 'POST') {
      const range = parseDateRange(
        request.query.get('from'),
        request.query.get('to'),
        reconcileRangeRules(a.config.capture.retentionDays),
      );
      const jobId = await a.reconcileJobs.start(range);
      context.log(
        JSON.stringify({
          event: 'reconcile.started',
          jobId,
          from: range.from.toISOString(),
          to: range.to.toISOString(),
        }),
      );
      const location = `${new URL(request.url).pathname.replace(/\/+$/, '')}/${jobId}`;
      return {
        status: 202,
        headers: { location, 'cache-control': 'no-store' },
        jsonBody: { id: jobId, state: 'running', location, from: range.from.toISOString(), to: range.to.toISOString() },
      };
    }
    const progress = await a.reconcileJobs.progress(id!);
    if (!progress) return { status: 404, jsonBody: { error: 'no reconciliation with this id' } };
    if (progress.state !== 'finished')
      return { status: 200, jsonBody: progress, headers: { 'cache-control': 'no-store' } };
    return {
      status: 200,
      body: await a.reconcileJobs.openResult(progress),
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    };
  });
}

app.http('reconcile', { methods: ['GET', 'POST'], authLevel: 'admin', route: 'reconcile/{id?}', handler: reconcile });
