import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { InvalidRangeError, parseRange } from '../shared/reconcile/reconcile-range';

/**
 * Admin only: the answer names mailboxes and item ids of the whole tenant.
 * POST /api/reconcile?from&to starts a job (202, Location: its GET); GET /api/reconcile/{id} answers
 * its progress, then the whole reconciliation. GET /api/reconcile (the old in-request form) is 410.
 */
export async function reconcile(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id;
  if (request.method === 'GET' && !id) {
    return { status: 410, jsonBody: { error: 'reconciliation runs as a job: POST /api/reconcile?from=&to= starts it and answers its id; GET /api/reconcile/{id} shows its progress and, when finished, the result' } };
  }
  if (request.method === 'POST' && id) return { status: 405, headers: { allow: 'GET' }, jsonBody: { error: 'POST /api/reconcile (without an id) starts a reconciliation' } };
  let a;
  try {
    a = await archiver();
  } catch (err) {
    context.error(JSON.stringify({ event: 'reconcile.failed', error: (err as Error).message }));
    return { status: 503, jsonBody: { error: 'reconciliation is unavailable; see the function logs' } };
  }
  try {
    if (request.method === 'POST') {
      let range;
      try {
        range = parseRange(request.query.get('from'), request.query.get('to'), a.config.capture.retentionDays);
      } catch (err) {
        if (err instanceof InvalidRangeError) return { status: 400, jsonBody: { error: err.message } };
        throw err;
      }
      const jobId = await a.reconcileJobs.start(range);
      context.log(JSON.stringify({ event: 'reconcile.started', jobId, from: range.from.toISOString(), to: range.to.toISOString() }));
      const location = `${new URL(request.url).pathname.replace(/\/+$/, '')}/${jobId}`;
      return { status: 202, headers: { location, 'cache-control': 'no-store' }, jsonBody: { id: jobId, state: 'running', location, from: range.from.toISOString(), to: range.to.toISOString() } };
    }
    const progress = await a.reconcileJobs.progress(id!);
    if (!progress) return { status: 404, jsonBody: { error: 'no reconciliation with this id' } };
    if (progress.state !== 'finished') return { status: 200, jsonBody: progress, headers: { 'cache-control': 'no-store' } };
    return { status: 200, body: await a.reconcileJobs.openResult(progress), headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } };
  } catch (err) {
    context.error(JSON.stringify({ event: 'reconcile.failed', error: (err as Error).message }));
    return { status: 503, jsonBody: { error: 'reconciliation failed; see the function logs' } };
  }
}

app.http('reconcile', { methods: ['GET', 'POST'], authLevel: 'admin', route: 'reconcile/{id?}', handler: reconcile });
