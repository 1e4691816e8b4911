import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';

export async function status(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const a = await archiver();
    return { status: 200, jsonBody: await a.status.build(), headers: { 'cache-control': 'no-store' } };
  } catch (err) {
    context.error(JSON.stringify({ event: 'status.failed', error: (err as Error).message }));
    return { status: 503, jsonBody: { error: 'status is unavailable; see the function logs' } };
  }
}

app.http('status', { methods: ['GET'], authLevel: 'function', route: 'status', handler: status });
