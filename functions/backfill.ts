import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';

// POST /api/backfill {"from": ISO, "to": ISO} (admin key): queues a past range for capture.
export async function backfill(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let body: { from?: unknown; to?: unknown };
  try {
    body = (await request.json()) as typeof body;
  } catch {
    return { status: 400, jsonBody: { error: 'body must be JSON: {"from": "<ISO time>", "to": "<ISO time>"}' } };
  }
  const from = typeof body?.from === 'string' ? new Date(body.from) : undefined;
  const to = typeof body?.to === 'string' ? new Date(body.to) : undefined;
  if (!from || Number.isNaN(from.getTime()) || !to || Number.isNaN(to.getTime())) {
    return { status: 400, jsonBody: { error: '"from" and "to" must be ISO date-times' } };
  }
  if (from >= to) return { status: 400, jsonBody: { error: '"from" must be before "to"' } };
  if (to.getTime() > Date.now()) return { status: 400, jsonBody: { error: '"to" must not be in the future' } };
  try {
    const { planner } = await archiver();
    const result = await planner.backfill(from, to);
    context.log(JSON.stringify({ event: 'backfill.queued', stage: 'backfill', from: from.toISOString(), to: to.toISOString(), windows: result.queued.length, started: result.started.planned.length }));
    return { status: 202, jsonBody: { queued: result.queued, started: result.started.planned.map((w) => w.windowId) } };
  } catch (err) {
    context.error(JSON.stringify({ event: 'backfill.failed', error: (err as Error).message }));
    return { status: 503, jsonBody: { error: 'backfill could not be queued; see the function logs' } };
  }
}

app.http('backfill', { methods: ['POST'], authLevel: 'admin', route: 'backfill', handler: backfill });
