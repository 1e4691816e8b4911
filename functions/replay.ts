import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { answer, BadRequestError, parseRange } from '../shared/operations/http-input';
import { isPlausibleEmail } from '../shared/email-address';

const FIELDS = new Set(['poison', 'mailbox', 'from', 'to']);

/**
 * POST /api/replay (admin key). Body `{"poison": true}` moves every poison message back into its
 * queue; `{"mailbox"?, "from"?, "to"?}` re-queues the failed deliveries of a mailbox and/or an
 * item time range. Both may be given at once.
 */
export async function replay(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answer(context, async () => {
    let body: Record<string, unknown>;
    try {
      body = (await request.json()) as Record<string, unknown>;
    } catch {
      throw new BadRequestError(
        'the body must be JSON: {"poison": true} or {"mailbox": "...", "from": "...", "to": "..."}',
      );
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new BadRequestError('the body must be a JSON object');
    for (const key of Object.keys(body))
      if (!FIELDS.has(key))
        throw new BadRequestError(`unknown field "${key.slice(0, 40)}"; use poison, mailbox, from, to`);
    if (body.poison !== undefined && typeof body.poison !== 'boolean')
      throw new BadRequestError('poison must be true or false');
    if (
      body.mailbox !== undefined &&
      (typeof body.mailbox !== 'string' || body.mailbox.length > 320 || !isPlausibleEmail(body.mailbox))
    ) {
      throw new BadRequestError('mailbox must be an email address');
    }
    const range = parseRange(body.from, body.to);
    const failed = body.mailbox !== undefined || range.from !== undefined || range.to !== undefined;
    if (!body.poison && !failed)
      throw new BadRequestError(
        'say what to replay: {"poison": true} and/or a mailbox, from or to for failed deliveries',
      );

    const a = await archiver();
    const result: Record<string, unknown> = {};
    if (body.poison) result.poison = await a.operations.replayer.replayPoison();
    if (failed)
      result.failed = await a.operations.replayer.replayFailed({ mailbox: body.mailbox as string | undefined, range });
    context.log(JSON.stringify({ event: 'replay.done', ...result }));
    return { status: 202, jsonBody: result };
  });
}

app.http('replay', { methods: ['POST'], authLevel: 'admin', route: 'replay', handler: replay });
