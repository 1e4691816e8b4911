import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { runPipeline, FUNCTION_KEY, ADMIN_KEY, HOSTILE_ID, type Pipeline } from './fixture';
import { TABLES } from '../../shared/store/names';
import { runSummary } from '../../shared/operations/run-summary';
import { LOG_COLUMNS } from '../../shared/operations/delivery-log';
import { LEDGER_ROWS } from '../support/ledger-rows';

interface LedgerRow {
  partitionKey: string;
  rowKey: string;
  mailbox: string;
  itemKey: string;
  status: string;
  kind?: string;
  chatId?: string;
  itemTime?: string;
  graphMessageId?: string;
  reason?: string;
  size?: number;
  attempts?: number;
  deliveredAt?: string;
}

let p: Pipeline;
let ledger: LedgerRow[];

const get = (path: string, key: string | null = FUNCTION_KEY, init: RequestInit = {}) =>
  fetch(`${p.host.url}${path}`, {
    ...init,
    headers: { ...(key ? { 'x-functions-key': key } : {}), ...(init.headers as Record<string, string> | undefined) },
  });

async function readLedger(): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for await (const row of p.archiver.storage
    .table(TABLES.deliveries)
    .listEntities<LedgerRow>({ queryOptions: { filter: LEDGER_ROWS } }))
    rows.push(row);
  return rows;
}

before(async () => {
  p = await runPipeline();
  ledger = await readLedger();
});

after(async () => {
  await p?.stop();
});

test('the pipeline produced a ledger with delivered and not-delivered rows', () => {
  // 13 post versions; direct chat → alice, bob; team → alice, bob, carol (+ eve and the guest not delivered).
  assert.equal(ledger.filter((r) => r.status === 'delivered').length, 6 * 2 + 1 * 2 + 6 * 3);
  assert.equal(ledger.filter((r) => r.status === 'notDelivered').length, 6 * 2);
  assert.equal(ledger.filter((r) => r.status === 'failed').length, 0);
});

test('GET /api/status: health, lag against retention, totals per kind and per day, per mailbox, queues, errors', async () => {
  const res = await get('/api/status');
  assert.equal(res.status, 200);
  const s = (await res.json()) as any;
  assert.equal(s.health.state, 'ok');
  assert.equal(s.totals.captured, p.posts.length);
  assert.equal(s.totals.converted, p.posts.length);
  assert.equal(s.totals.invalid, 1);
  assert.deepEqual(s.totals.byKind, { post: { captured: 13, converted: 13, invalid: 1, delivered: 32, failed: 0 } });
  assert.equal(s.totals.delivered, 32);
  assert.equal(s.totals.notDelivered, 12);
  assert.equal(s.totals.mailboxes, 3);
  // Per day of the item's time: captured items and delivered copies, as counted straight from the ledgers.
  const expectCaptured = new Map<string, number>();
  for (const post of p.posts)
    expectCaptured.set(post.creationTime.slice(0, 10), (expectCaptured.get(post.creationTime.slice(0, 10)) ?? 0) + 1);
  const expectDelivered = new Map<string, number>();
  for (const r of ledger.filter((r) => r.status === 'delivered'))
    expectDelivered.set(r.itemTime!.slice(0, 10), (expectDelivered.get(r.itemTime!.slice(0, 10)) ?? 0) + 1);
  assert.ok(s.byDay.length >= 3, 'several days');
  assert.deepEqual(
    s.byDay.map((d: any) => d.day),
    [...expectCaptured.keys()].sort(),
  );
  for (const d of s.byDay) {
    assert.equal(d.captured, expectCaptured.get(d.day), d.day);
    assert.equal(d.delivered, expectDelivered.get(d.day) ?? 0, d.day);
  }
  assert.deepEqual(s.byMailbox, {
    'alice@ops.example': { delivered: 13, failed: 0, pending: 0 },
    'bob@ops.example': { delivered: 13, failed: 0, pending: 0 },
    'carol@ops.example': { delivered: 6, failed: 0, pending: 0 },
  });
  assert.deepEqual(s.byMailbox, expectedByMailbox());
  assert.deepEqual(Object.keys(s.queues).sort(), ['convert', 'deliver', 'poll-export', 'reconcile-step', 'unpack']);
  for (const q of Object.values(s.queues) as any[]) assert.deepEqual(q, { depth: 0, poison: 0 });
  assert.ok(s.capture.capturedThrough);
  assert.equal(s.capture.retentionDays, 90);
  assert.ok(s.capture.lagHours >= 0 && s.capture.lagHours < 1, `lag ${s.capture.lagHours}`);
  assert.equal(s.capture.lagPercentOfRetention, Math.round((s.capture.lagHours / (90 * 24)) * 1000) / 10);
  assert.ok(
    s.recentErrors.some((e: any) => e.itemKey?.includes(HOSTILE_ID) && /creator/.test(e.reason)),
    JSON.stringify(s.recentErrors),
  );
});

function expectedByMailbox(): Record<string, { delivered: number; failed: number; pending: number }> {
  const out: Record<string, { delivered: number; failed: number; pending: number }> = {};
  for (const r of ledger) {
    if (r.status === 'notDelivered') continue;
    const m = (out[r.mailbox] ??= { delivered: 0, failed: 0, pending: 0 });
    if (r.status === 'delivered') m.delivered++;
  }
  return out;
}

test('the --once summary and /api/status agree on the same state', async () => {
  const summary = await runSummary(p.archiver.status);
  const s = (await (await get('/api/status')).json()) as any;
  for (const key of ['captured', 'converted', 'delivered', 'failed', 'notDelivered', 'mailboxes', 'invalid'] as const) {
    assert.equal(summary[key], s.totals[key], key);
  }
  for (const [kind, captured] of Object.entries(summary.byKind))
    assert.equal(captured, s.totals.byKind[kind]?.captured ?? 0, `byKind.${kind}`);
  assert.deepEqual(summary, {
    captured: 13,
    converted: 13,
    delivered: 32,
    failed: 0,
    notDelivered: 12,
    mailboxes: 3,
    invalid: 1,
    byKind: { post: 13, task: 0, note: 0, event: 0, file: 0 },
  });
});

test('GET /api/log?format=csv: Excel-friendly CSV, parsed back and checked row by row against the ledger', async () => {
  const res = await get('/api/log?format=csv');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
  assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename=".+\.csv"/);
  assert.equal(res.headers.get('content-length'), null, 'streamed, not buffered');
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
  const text = bytes.subarray(3).toString('utf8');
  assert.equal(text.split('\r\n')[0], LOG_COLUMNS.join(','));
  assert.equal((text.match(/\n/g) ?? []).length, (text.match(/\r\n/g) ?? []).length, 'every line ends in CRLF');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  assert.equal(rows.length, ledger.length);
  const byKey = new Map(ledger.map((r) => [`${r.mailbox}|${r.itemKey}`, r]));
  for (const row of rows) {
    const l = byKey.get(`${row.mailbox}|${row.itemKey}`);
    assert.ok(l, `row ${row.mailbox} ${row.itemKey} is in the ledger`);
    byKey.delete(`${row.mailbox}|${row.itemKey}`);
    const [kind, sourceId, ...version] = l.itemKey.split(':');
    assert.deepEqual(row, {
      time: l.itemTime ?? '',
      kind: l.kind ?? kind,
      itemKey: l.itemKey,
      sourceId,
      version: version.join(':'),
      chatId: l.chatId ?? '',
      mailbox: l.mailbox,
      status: l.status,
      graphMessageId: l.graphMessageId ?? '',
      size: l.size === undefined ? '' : String(l.size),
      attempts: l.attempts === undefined ? '' : String(l.attempts),
      deliveredAt: l.deliveredAt ?? '',
      error: l.reason ?? '',
    });
    if (l.status === 'delivered') assert.ok(row.graphMessageId, 'delivered rows carry the Graph message id');
    if (l.status === 'notDelivered') assert.match(row.error, /guest|no Microsoft 365 mailbox/);
  }
  assert.equal(byKey.size, 0, 'every ledger row is in the CSV');
});

test('GET /api/log?format=jsonl with from/to returns exactly the rows whose item time is in range', async () => {
  const times = [...new Set(ledger.map((r) => r.itemTime!))].sort();
  const from = times[3]!;
  const to = times[9]!;
  const res = await get(`/api/log?format=jsonl&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /ndjson/);
  const lines = (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);
  const expected = ledger.filter((r) => r.itemTime! >= from && r.itemTime! < to);
  assert.ok(expected.length > 0 && expected.length < ledger.length);
  assert.deepEqual(
    lines.map((l) => `${l.mailbox}|${l.itemKey}`).sort(),
    expected.map((r) => `${r.mailbox}|${r.itemKey}`).sort(),
  );
  // A date-only bound means UTC midnight.
  const day = from.slice(0, 10);
  const dayRows = (await (await get(`/api/log?format=jsonl&from=${day}&to=${day}T23:59:59.999Z`)).text())
    .split('\n')
    .filter(Boolean);
  assert.equal(dayRows.length, ledger.filter((r) => r.itemTime!.startsWith(day)).length);
});

test('bad input gets a 400 with a clear message and no stack; an unknown item a 404', async () => {
  const cases: Array<[string, RegExp]> = [
    ['/api/log?format=xml', /format must be csv or jsonl/],
    ['/api/log?from=2025-02-01&to=2025-01-01', /from must not be after to/],
    ['/api/log?from=yesterday', /from must be an ISO 8601 date/],
    ['/api/log?to=2025-02-30', /to is not a real date/],
    ['/api/log?format=csv&limit=5', /unknown query parameter "limit"/],
    [`/api/items/${encodeURIComponent('post:p1:not-a-time')}`, /an item key is <kind>:<RingCentral id>:<version time>/],
    [`/api/items/${encodeURIComponent('p1\u0001')}`, /printable characters/],
  ];
  for (const [path, message] of cases) {
    const res = await get(path);
    const body = await res.text();
    assert.equal(res.status, 400, `${path}: ${body}`);
    assert.match(JSON.parse(body).error, message, path);
    assert.doesNotMatch(body, /\bat .+:\d+:\d+|node_modules|\.js:/, 'no stack trace');
  }
  const missing = await get(`/api/items/${encodeURIComponent('post:p999:2020-01-01T00:00:00.000Z')}`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /no item/);
  assert.equal((await get('/api/items/p999')).status, 404);
  const replayCases: Array<[string, RegExp]> = [
    ['not json', /must be JSON/],
    ['[1]', /JSON object/],
    ['{}', /say what to replay/],
    ['{"poison":"yes"}', /poison must be true or false/],
    ['{"mailbox":"not an address"}', /mailbox must be an email address/],
    ['{"from":"2025-02-01","to":"2025-01-01"}', /from must not be after to/],
    ['{"everything":true}', /unknown field "everything"/],
  ];
  for (const [body, message] of replayCases) {
    const res = await get('/api/replay', ADMIN_KEY, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400, body);
    assert.match(((await res.json()) as { error: string }).error, message, body);
  }
});

test('a missing or wrong key is refused; replay needs the admin key, the admin key opens everything', async () => {
  for (const path of ['/api/status', '/api/log?format=csv', '/api/items/p1', '/api/dashboard']) {
    assert.equal((await get(path, null)).status, 401, `${path} without key`);
    assert.equal((await get(path, 'wrong-key')).status, 401, `${path} wrong key`);
    assert.equal(
      (await fetch(`${p.host.url}${path}${path.includes('?') ? '&' : '?'}code=${FUNCTION_KEY}`)).status,
      200,
      `${path} ?code=`,
    );
    assert.equal((await get(path, ADMIN_KEY)).status, 200, `${path} admin key`);
  }
  const body = JSON.stringify({ poison: true });
  assert.equal((await get('/api/replay', null, { method: 'POST', body })).status, 401);
  assert.equal(
    (await get('/api/replay', FUNCTION_KEY, { method: 'POST', body })).status,
    401,
    'a function key cannot replay',
  );
  const ok = await get('/api/replay', ADMIN_KEY, { method: 'POST', body });
  assert.equal(ok.status, 202);
  assert.deepEqual(await ok.json(), {
    poison: { moved: { 'poll-export': 0, unpack: 0, convert: 0, deliver: 0, 'reconcile-step': 0 }, total: 0 },
  });
});

test('GET /api/items/{itemKey}: the trace of one version through every stage, with times', async () => {
  const post = p.posts[1]!; // p2, in the team chat
  const itemKey = `post:${post.id}:${new Date(post.lastModifiedTime).toISOString()}`;
  const res = await get(`/api/items/${encodeURIComponent(itemKey)}`);
  assert.equal(res.status, 200);
  const trace = (await res.json()) as any;
  assert.equal(trace.versions.length, 1);
  const v = trace.versions[0];
  assert.equal(v.itemKey, itemKey);
  assert.equal(v.state, 'converted');
  assert.equal(v.chatId, post.chatId);
  assert.ok(v.window.from && v.window.storedAt, 'the capture window and when it was stored');
  assert.deepEqual(
    v.blobs.map((b: any) => [b.container, b.exists]),
    [
      ['raw', true],
      ['messages', true],
      ['messages', true],
    ],
  );
  for (const b of v.blobs) assert.ok(b.size > 0 && b.createdAt);
  const expected = ledger
    .filter((r) => r.itemKey === itemKey)
    .map((r) => [r.mailbox, r.status, r.graphMessageId ?? null])
    .sort();
  assert.deepEqual(v.deliveries.map((d: any) => [d.mailbox, d.status, d.graphMessageId ?? null]).sort(), expected);
  const stages = v.timeline.map((e: any) => e.stage);
  for (const stage of ['created', 'window stored', 'captured', 'blob written', 'converted', 'delivered'])
    assert.ok(stages.includes(stage), stage);
  assert.equal(stages.filter((s: string) => s === 'delivered').length, 3);
  const times = v.timeline.map((e: any) => Date.parse(e.at));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'oldest first',
  );
});

test('GET /api/items/{RingCentral id}: every version of an edited post; a malformed one shows why', async () => {
  const trace = (await (await get('/api/items/p1')).json()) as any;
  assert.equal(trace.versions.length, 2);
  assert.deepEqual(
    trace.versions.map((v: any) => v.version),
    p.posts
      .filter((x) => x.id === 'p1')
      .map((x) => new Date(x.lastModifiedTime).toISOString())
      .sort(),
  );
  for (const v of trace.versions) assert.equal(v.deliveries.filter((d: any) => d.status === 'delivered').length, 2);
  const bad = (await (await get(`/api/items/${encodeURIComponent(HOSTILE_ID)}`)).json()) as any;
  assert.equal(bad.versions.length, 1);
  assert.equal(bad.versions[0].state, 'invalid');
  assert.match(bad.versions[0].errors[0].reason, /malformed posts record/);
});

test('the log streams thousands of rows over several table pages', async () => {
  // 2,500 rows on a day of their own: three table pages of at most 1,000.
  const table = p.archiver.storage.table(TABLES.deliveries);
  const rows = Array.from({ length: 2500 }, (_, i) => ({
    partitionKey: `bulk${i % 5}@ops.example`,
    rowKey: `post:bulk${i}:2001-01-01T00:00:00.000Z`,
    mailbox: `bulk${i % 5}@ops.example`,
    itemKey: `post:bulk${i}:2001-01-01T00:00:00.000Z`,
    status: 'delivered',
    kind: 'post',
    chatId: 'c-bulk',
    itemTime: new Date(Date.UTC(2001, 0, 1, 0, 0, i % 3600)).toISOString(),
    graphMessageId: `AAMk-${i}`,
  }));
  for (let i = 0; i < rows.length; i += 100) {
    const chunk = rows.slice(i, i + 100);
    const byPartition = new Map<string, typeof chunk>();
    for (const r of chunk) byPartition.set(r.partitionKey, [...(byPartition.get(r.partitionKey) ?? []), r]);
    for (const batch of byPartition.values()) await table.submitTransaction(batch.map((r) => ['create', r]));
  }
  const res = await get('/api/log?format=csv&from=2001-01-01&to=2001-01-02');
  let chunks = 0;
  let text = '';
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks++;
    text += decoder.decode(value, { stream: true });
  }
  const parsed = parse(text.replace(/^\uFEFF/, ''), { columns: true }) as Array<Record<string, string>>;
  assert.equal(parsed.length, 2500);
  assert.deepEqual(new Set(parsed.map((r) => r.itemKey)), new Set(rows.map((r) => r.itemKey)));
  assert.ok(chunks > 3, `arrived in ${chunks} chunks`);
});

test('health follows capture lag: degraded past 48 h, failing past half the retention period', async () => {
  const base = await p.archiver.status.build();
  const capturedThrough = Date.parse(base.capture.capturedThrough!);
  assert.equal(base.capture.retentionDays, 90);
  const behind = await p.archiver.status.build(new Date(capturedThrough + 50 * 3_600_000));
  assert.equal(behind.health.state, 'degraded');
  assert.ok(
    behind.health.reasons.some((r) => /capture lag 50\.0 h: capture is behind/.test(r)),
    behind.health.reasons.join('; '),
  );
  // 46 days is over half of the 90-day retention: items may be purged before they are captured.
  const late = await p.archiver.status.build(new Date(capturedThrough + 46 * 86_400_000));
  assert.equal(late.health.state, 'failing');
  assert.equal(late.capture.lagPercentOfRetention, 51.1);
  assert.ok(
    late.health.reasons.some((r) => /over half the 90-day retention/.test(r)),
    late.health.reasons.join('; '),
  );
});
