import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { answer, BadRequestError, parseDateRange } from '../shared/operations/http-input';

// POST /api/backfill {"from": ISO, "to": ISO} (admin key): queues a past range for capture.
export async function backfill(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answer(context, async () => {
    let body: { from?: unknown; to?: unknown } | null;
    try {
      body = (await request.json()) as typeof body;
    } catch {
      throw new BadRequestError('body must be JSON: {"from": "<ISO time>", "to": "<ISO time>"}');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new BadRequestError('body must be a JSON object: {"from": "<ISO time>", "to": "<ISO time>"}');
    // Both ends required; a range that reaches into the future could not be captured yet.
    const { from, to } = parseDateRange(body.from, body.to, { latest: new Date() });
    const { capture } = await archiver();
    const results = await capture.backfill(from, to);
    context.log(
      JSON.stringify({
        event: 'backfill.queued',
        stage: 'backfill',
        from: from.toISOString(),
        to: to.toISOString(),
        windows: results.reduce((n, r) => n + r.queued.length, 0),
        started: results.reduce((n, r) => n + r.started.planned.length, 0),
      }),
    );
    // Every source on: each gets its own backfill windows over the same range.
    return {
      status: 202,
      jsonBody: {
        queued: results.flatMap((r) => r.queued.map((w) => ({ source: r.source, ...w }))),
        started: results.flatMap((r) => r.started.planned.map((w) => w.windowId)),
      },
    };
  });
}

app.http('backfill', { methods: ['POST'], authLevel: 'admin', route: 'backfill', handler: backfill });
