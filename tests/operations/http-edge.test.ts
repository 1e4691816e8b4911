import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import { answer, BadRequestError, isDependencyOutage, parseDateRange } from '../../shared/operations/http-input';
import { RetryLaterError } from '../../shared/errors';
import { backfill } from '../../functions/backfill';

// The one HTTP edge (shared/operations/http-input.ts): 400 bad input, 503 a dependency outage, 500 a bug.
// The storage errors are the SDK's own, from a real TableClient: against a closed loopback port
// (storage unreachable) and against a loopback server that answers like Azure Storage does.

const SECRET = 'sig=do-not-log-me';
let storageDouble: http.Server;
let storageUrl: string;
let closedUrl: string;
/** By table name: what the double answers every request on it. */
const answers: Record<string, { status: number; code: string }> = {
  busy: { status: 503, code: 'ServerBusy' },
  missing: { status: 404, code: 'TableNotFound' },
};

before(async () => {
  storageDouble = http.createServer((req, res) => {
    const table = /^\/([a-z]+)/.exec(req.url ?? '')?.[1] ?? '';
    const a = answers[table] ?? { status: 500, code: 'InternalError' };
    res.writeHead(a.status, { 'content-type': 'application/json;odata=minimalmetadata', 'x-ms-error-code': a.code });
    res.end(
      JSON.stringify({ 'odata.error': { code: a.code, message: { lang: 'en-US', value: `${a.code} ${SECRET}` } } }),
    );
  });
  await new Promise<void>((r) => storageDouble.listen(0, '127.0.0.1', r));
  storageUrl = `http://127.0.0.1:${(storageDouble.address() as AddressInfo).port}`;
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
});

after(() => new Promise((r) => storageDouble.close(r)));

/** The error a real storage call throws. */
async function storageError(baseUrl: string, table: string): Promise<unknown> {
  const client = new TableClient(baseUrl, table, { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
  try {
    await client.getEntity('p', 'r');
  } catch (err) {
    return err;
  }
  throw new Error('the storage call did not fail');
}

function context(lines: string[]): InvocationContext {
  return new InvocationContext({
    functionName: 'probe',
    invocationId: 'inv-1',
    logHandler: (level, ...args) => lines.push(`${level} ${args.join(' ')}`),
  });
}

async function answered(err: unknown): Promise<{ res: HttpResponseInit; lines: string[] }> {
  const lines: string[] = [];
  const res = await answer(context(lines), async () => {
    throw err;
  });
  return { res, lines };
}

function assertNoDetail(res: HttpResponseInit, lines: string[]): void {
  const text = JSON.stringify(res);
  assert.ok(!text.includes(SECRET) && !text.includes(' at '), `no detail or stack to the caller: ${text}`);
  assert.ok(
    lines.every((l) => !l.includes(SECRET) && !l.includes(' at ')),
    `no error content in the log: ${lines.join('\n')}`,
  );
}

test('bad input is 400 with its message', async () => {
  const { res, lines } = await answered(new BadRequestError('from must be before to'));
  assert.equal(res.status, 400);
  assert.deepEqual(res.jsonBody, { error: 'from must be before to' });
  assert.match(lines[0]!, /^warning .*"event":"probe\.badRequest"/);
});

test('storage unreachable (no answer at all) is 503, logged by type', async () => {
  const err = await storageError(closedUrl, 'items');
  assert.equal((err as Error).name, 'RestError');
  assert.equal((err as { statusCode?: number }).statusCode, undefined);
  const { res, lines } = await answered(err);
  assert.equal(res.status, 503);
  assert.equal((res.headers as Record<string, string>)['retry-after'], '30');
  assert.match(String((res.jsonBody as { error: string }).error), /unavailable/);
  assert.match(lines[0]!, /^error .*"event":"probe\.failed","outcome":"unavailable".*"errorType":"RestError"/);
  assertNoDetail(res, lines);
});

test('a 5xx from Azure Storage is 503; a 4xx (our request or our configuration) is 500', async () => {
  const busy = await storageError(storageUrl, 'busy');
  assert.equal((busy as { statusCode?: number }).statusCode, 503);
  assert.ok(
    (busy as Error).message.includes(SECRET),
    'the SDK error carries the storage message, which must not reach the caller or the log',
  );
  const outage = await answered(busy);
  assert.equal(outage.res.status, 503);
  assert.match(outage.lines[0]!, /"errorType":"RestError","statusCode":503/);
  assertNoDetail(outage.res, outage.lines);

  const missing = await storageError(storageUrl, 'missing');
  assert.equal((missing as { statusCode?: number }).statusCode, 404);
  const bug = await answered(missing);
  assert.equal(bug.res.status, 500);
  assert.match(bug.lines[0]!, /"outcome":"bug".*"statusCode":404/);
  assertNoDetail(bug.res, bug.lines);
});

test('a network error under fetch, a RetryLaterError and a Graph 503 are outages; a TypeError is a bug', async () => {
  const fetchFailed = await fetch(closedUrl).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(fetchFailed instanceof TypeError, 'fetch wraps the refused connection in a TypeError');
  assert.equal(isDependencyOutage(fetchFailed), true);
  const later = await answered(new RetryLaterError(12, 'RingCentral answered 503'));
  assert.equal(later.res.status, 503);
  assert.equal((later.res.headers as Record<string, string>)['retry-after'], '12');
  assert.equal(isDependencyOutage(Object.assign(new Error('x'), { name: 'GraphCallError', status: 503 })), true);
  assert.equal(isDependencyOutage(Object.assign(new Error('x'), { name: 'GraphCallError', status: 400 })), false);

  let bugError: unknown;
  try {
    (undefined as unknown as { x: () => void }).x();
  } catch (err) {
    bugError = Object.assign(err as Error, { message: `${(err as Error).message} ${SECRET}` });
  }
  const bug = await answered(bugError);
  assert.equal(bug.res.status, 500);
  assert.deepEqual(bug.res.jsonBody, { error: 'probe failed; see the function logs', invocationId: 'inv-1' });
  assert.match(bug.lines[0]!, /"outcome":"bug","error":"TypeError","errorType":"TypeError"/);
  // Where it broke (code locations only), so the 500's "see the function logs" leads somewhere.
  assert.match(bug.lines[0]!, /"where":\["at [^"]*http-edge\.test\.js:\d+:\d+\)?"/);
  assertNoDetail(bug.res, bug.lines);
});

test('closed ranges: both ends, from before to, the latest to, and whole seconds', () => {
  const now = new Date('2026-03-01T12:00:00.500Z');
  assert.throws(
    () => parseDateRange(undefined, '2026-01-01', {}),
    /^BadRequestError: from is required: an ISO 8601 date/,
  );
  assert.throws(() => parseDateRange('2026-01-02', '2026-01-02'), /from must be before to/);
  assert.throws(() => parseDateRange('2026-01-02', '2026-01-01T00:00:00Z'), /from must be before to/);
  assert.throws(() => parseDateRange('2026-01-01', '2026-03-02', { latest: now }), /to must not be in the future/);
  assert.throws(() => parseDateRange('yesterday', '2026-01-01'), /from must be an ISO 8601 date/);
  assert.throws(() => parseDateRange('2026-01-01', '2026-02-30'), /to is not a real date: 2026-02-30/);
  assert.deepEqual(parseDateRange('2026-01-01', '2026-01-01T08:00:00+01:00'), {
    from: new Date('2026-01-01T00:00:00Z'),
    to: new Date('2026-01-01T07:00:00Z'),
  });
  const defaults = { from: new Date('2026-01-01T00:00:00.250Z'), to: now };
  assert.deepEqual(parseDateRange(null, undefined, { defaults, wholeSeconds: true }), {
    from: new Date('2026-01-01T00:00:00Z'),
    to: new Date('2026-03-01T12:00:01Z'),
  });
  assert.deepEqual(parseDateRange('2026-02-01', null, { defaults }), {
    from: new Date('2026-02-01T00:00:00Z'),
    to: now,
  });
});

test('POST /api/backfill answers bad input 400 before it touches anything', async () => {
  const post = async (body: string) => {
    const lines: string[] = [];
    const res = await backfill(
      new HttpRequest({ method: 'POST', url: 'http://localhost/api/backfill', body: { string: body } }),
      context(lines),
    );
    return { status: res.status, error: (res.jsonBody as { error?: string } | undefined)?.error ?? '' };
  };
  const future = new Date(Date.now() + 86_400_000).toISOString();
  const cases: Array<[string, RegExp]> = [
    ['not json', /body must be JSON/],
    ['[1]', /body must be a JSON object/],
    ['{"to": "2025-01-02T00:00:00Z"}', /from is required/],
    ['{"from": "2025-01-01T00:00:00Z", "to": "soon"}', /to must be an ISO 8601 date/],
    ['{"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"}', /from must be before to/],
    [`{"from": "2025-01-01T00:00:00Z", "to": "${future}"}`, /to must not be in the future/],
  ];
  for (const [body, message] of cases) {
    const res = await post(body);
    assert.equal(res.status, 400, body);
    assert.match(res.error, message, body);
  }
});
