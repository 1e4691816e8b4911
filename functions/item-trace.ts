import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { answer } from '../shared/operations/http-input';

/** GET /api/items/{id}: id = an item key (post:<id>:<version>, URL-encoded) or a RingCentral id (every version). */
export async function itemTrace(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answer(context, async () => {
    const id = request.params.id ?? '';
    const a = await archiver();
    const trace = await a.operations.tracer.trace(id);
    context.log(JSON.stringify({ event: 'items.trace', itemKey: id.slice(0, 200), found: !!trace }));
    if (!trace) return { status: 404, jsonBody: { error: 'no item with this id has been captured' } };
    return { status: 200, jsonBody: trace, headers: { 'cache-control': 'no-store' } };
  });
}

app.http('itemTrace', { methods: ['GET'], authLevel: 'function', route: 'items/{*id}', handler: itemTrace });
