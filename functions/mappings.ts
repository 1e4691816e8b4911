import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { stringify } from 'csv-stringify';
import { archiver } from '../shared/composition';
import { isPlausibleEmail } from '../shared/email-address';
import { answer, BadRequestError, errorKind } from '../shared/operations/http-input';
import { MappingOverrides } from '../shared/mapping/mapping-overrides';
import { CSV_COLUMNS, parseOverridesCsv } from '../shared/mapping/override-csv';

// Manual mapping overrides (docs/mapping.md). Admin key only: overrides decide whose mail lands where.
export async function mappings(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answer(context, async () => {
    const overrides = new MappingOverrides((await archiver()).storage);
    if (request.method === 'POST') return await upload(request, overrides);
    if (request.method === 'DELETE') return await remove(request, overrides);
    return download(overrides, context);
  });
}

/** All or nothing: one bad row rejects the file, so a corrected file can simply be sent again. */
async function upload(request: HttpRequest, overrides: MappingOverrides): Promise<HttpResponseInit> {
  if (!request.body)
    return {
      status: 400,
      jsonBody: {
        error: 'send a CSV body with the header email,mailbox (and optionally note)',
        applied: 0,
        problems: [],
      },
    };
  const parsed = await parseOverridesCsv(Readable.fromWeb(request.body as WebReadableStream<Uint8Array>));
  if (parsed.problemCount > 0) {
    return {
      status: 400,
      jsonBody: {
        error: `${parsed.problemCount} problem(s) in the CSV; nothing was applied`,
        applied: 0,
        problemCount: parsed.problemCount,
        problems: parsed.problems,
      },
    };
  }
  await overrides.put(parsed.overrides);
  return { status: 200, jsonBody: { applied: parsed.overrides.length } };
}

async function remove(request: HttpRequest, overrides: MappingOverrides): Promise<HttpResponseInit> {
  const email = request.query.get('email')?.trim().toLowerCase();
  if (!email || !isPlausibleEmail(email)) throw new BadRequestError('pass ?email=<address> of the override to remove');
  return (await overrides.remove(email))
    ? { status: 204 }
    : { status: 404, jsonBody: { error: 'no override for that address' } };
}

/** Streams every override as CSV in the upload format, so the file can be edited and sent back. */
function download(overrides: MappingOverrides, context: InvocationContext): HttpResponseInit {
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
  void (async () => {
    for await (const o of overrides.list()) {
      if (!csv.write({ email: o.email, mailbox: o.mailbox, note: o.note ?? '' }))
        await new Promise((r) => csv.once('drain', r));
    }
    csv.end();
  })().catch((err) => {
    // The 200 and the header row are already sent: the caller sees a cut download, the log says why.
    context.error(JSON.stringify({ event: 'mappings.list.failed', ...errorKind(err) }));
    csv.destroy(err as Error);
  });
  return {
    status: 200,
    body: csv,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="mappings.csv"',
      'cache-control': 'no-store',
    },
  };
}

app.http('mappings', { methods: ['GET', 'POST', 'DELETE'], authLevel: 'admin', route: 'mappings', handler: mappings });
