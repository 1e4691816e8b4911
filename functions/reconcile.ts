import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { InvalidRangeError, parseRange } from '../shared/reconcile/reconcile-range';

// Admin only: the answer names mailboxes and item ids of the whole tenant.
export async function reconcile(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let a;
  try {
    a = await archiver();
  } catch (err) {
    context.error(JSON.stringify({ event: 'reconcile.failed', error: (err as Error).message }));
    return { status: 503, jsonBody: { error: 'reconciliation is unavailable; see the function logs' } };
  }
  let range;
  try {
    range = parseRange(request.query.get('from'), request.query.get('to'), a.config.capture.retentionDays);
  } catch (err) {
    if (err instanceof InvalidRangeError) return { status: 400, jsonBody: { error: err.message } };
    throw err;
  }
  try {
    const result = await a.reconciler.reconcile(range);
    context.log(JSON.stringify({ event: 'reconcile.done', from: result.from, to: result.to, expected: result.expected, found: result.found, missing: result.missing, duplicates: result.duplicates, unexpected: result.unexpected }));
    return { status: 200, jsonBody: result, headers: { 'cache-control': 'no-store' } };
  } catch (err) {
    context.error(JSON.stringify({ event: 'reconcile.failed', error: (err as Error).message }));
    return { status: 503, jsonBody: { error: 'reconciliation failed; see the function logs' } };
  }
}

app.http('reconcile', { methods: ['GET'], authLevel: 'admin', route: 'reconcile', handler: reconcile });
