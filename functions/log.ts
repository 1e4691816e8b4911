import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { answer, BadRequestError, parseRange } from '../shared/operations/http-input';
import type { LogFormat } from '../shared/operations/delivery-log';

// Without this the Azure host buffers a response body in memory before sending it.
app.setup({ enableHttpStream: true });

const CONTENT_TYPES: Record<LogFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

/** GET /api/log?from=&to=&format=csv|jsonl: one row per item × mailbox, streamed from the deliveries ledger. */
export async function log(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answer(context, async () => {
    const q = request.query;
    for (const name of q.keys()) {
      if (!['from', 'to', 'format', 'code'].includes(name))
        throw new BadRequestError(`unknown query parameter "${name.slice(0, 40)}"; use from, to and format`);
    }
    const format = (q.get('format') ?? 'csv').toLowerCase();
    if (format !== 'csv' && format !== 'jsonl') throw new BadRequestError('format must be csv or jsonl');
    const range = parseRange(q.get('from'), q.get('to'));
    const a = await archiver();
    const name = `ringcentral-archive-log-${(range.from?.toISOString() ?? 'start').slice(0, 10)}-${(range.to?.toISOString() ?? 'now').slice(0, 10)}.${format}`;
    context.log(
      JSON.stringify({ event: 'log.download', format, from: range.from?.toISOString(), to: range.to?.toISOString() }),
    );
    return {
      status: 200,
      body: a.operations.log.stream(format, range),
      headers: {
        'content-type': CONTENT_TYPES[format],
        'content-disposition': `attachment; filename="${name}"`,
        'cache-control': 'no-store',
      },
    };
  });
}

app.http('log', { methods: ['GET'], authLevel: 'function', route: 'log', handler: log });
