import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { LocalFunctionsHost } from '../../dev/host/local-functions-host';
import { StorageAccount } from '../../shared/store/storage-account';
import { TABLES } from '../../shared/store/names';
import { MappingOverrides } from '../../shared/mapping/mapping-overrides';
import { MailboxRecipientPlanner } from '../../shared/mapping/recipient-planner';
import { StubDirectory, member, user } from './helpers';
import { compiled } from '../support/repo-root';

// POST/GET/DELETE /api/mappings through the local Functions host (real HTTP, real key checks) on Azurite.
const FUNCTION_KEY = 'mapping-function-key';
const ADMIN_KEY = 'mapping-admin-key';

let azurite: RunningAzurite;
let host: LocalFunctionsHost;
let account: StorageAccount;

/** A repo root whose package.json `main` is only the compiled mappings function. */
function mappingsOnlyRepo(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mappings-host-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const fn = compiled('functions/mappings.js');
  writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'mappings-only', main: path.relative(root, fn).split(path.sep).join('/') }),
  );
  writeFileSync(path.join(root, 'host.json'), JSON.stringify({ version: '2.0' }));
  return root;
}

async function call(method: string, body?: string, opts: { key?: string; query?: string; byCode?: boolean } = {}) {
  const key = opts.key === undefined ? ADMIN_KEY : opts.key;
  const params = new URLSearchParams(opts.query ?? '');
  if (key && opts.byCode) params.set('code', key);
  const qs = params.toString() ? `?${params}` : '';
  return fetch(`${host.url}/api/mappings${qs}`, {
    method,
    body,
    headers: { 'content-type': 'text/csv', ...(key && !opts.byCode ? { 'x-functions-key': key } : {}) },
  });
}

async function rows(): Promise<Record<string, { mailbox: string; note?: string }>> {
  const out: Record<string, { mailbox: string; note?: string }> = {};
  for await (const o of new MappingOverrides(account).list())
    out[o.email] = { mailbox: o.mailbox, ...(o.note ? { note: o.note } : {}) };
  return out;
}

before(async () => {
  azurite = await startAzurite({ inMemory: true });
  const settings = {
    AzureWebJobsStorage: azurite.connectionString,
    RINGCENTRAL_CLIENT_ID: 'unused',
    RINGCENTRAL_CLIENT_SECRET: 'unused',
    RINGCENTRAL_JWT: 'unused',
    GRAPH_TENANT_ID: 'unused',
    GRAPH_CLIENT_ID: 'unused',
    GRAPH_CLIENT_SECRET: 'unused',
    LOCAL_FUNCTION_KEY: FUNCTION_KEY,
    LOCAL_ADMIN_KEY: ADMIN_KEY,
  };
  host = new LocalFunctionsHost({ repoRoot: mappingsOnlyRepo(), settings, httpPort: 0, timers: false, log: () => {} });
  await host.start();
  account = new StorageAccount({ connectionString: azurite.connectionString });
  await account.ensureCreated();
});

after(async () => {
  await host?.stop();
  await azurite?.stop();
});

beforeEach(async () => {
  const table = account.table(TABLES.mappings);
  for await (const row of table.listEntities()) await table.deleteEntity(row.partitionKey!, row.rowKey!);
});

describe('keys', () => {
  test('every method needs the admin key: none and the function key get 401 and change nothing', async () => {
    for (const key of ['', FUNCTION_KEY, 'wrong']) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await call(method, method === 'POST' ? 'email,mailbox\nx@x.example,skip\n' : undefined, {
          key,
          query: method === 'DELETE' ? 'email=x@x.example' : '',
        });
        assert.equal(res.status, 401, `${method} with ${key || 'no key'}`);
      }
    }
    assert.deepEqual(await rows(), {});
    const ok = await call('POST', 'email,mailbox\nx@x.example,skip\n', { byCode: true });
    assert.equal(ok.status, 200, 'the admin key is also accepted as ?code=');
    assert.deepEqual(await rows(), { 'x@x.example': { mailbox: 'skip' } });
  });
});

describe('POST /api/mappings', () => {
  test('loads a CSV with BOM, CRLF, any column order, quoted notes and skip; GET returns it and it round-trips', async () => {
    const csv =
      '\uFEFFnote,Email,MAILBOX\r\n' +
      '"moved to legal, see ticket 42",Bob@X.example,Legal@X.example\r\n' +
      '\r\n' +
      '"two\nlines",o\'brien@x.example,archive@x.example\r\n' +
      ',carl@x.example,SKIP\r\n';
    const res = await call('POST', csv);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { applied: 3 });
    const expected = {
      'bob@x.example': { mailbox: 'legal@x.example', note: 'moved to legal, see ticket 42' },
      "o'brien@x.example": { mailbox: 'archive@x.example', note: 'two\nlines' },
      'carl@x.example': { mailbox: 'skip' },
    };
    assert.deepEqual(await rows(), expected);

    const listed = await call('GET');
    assert.equal(listed.status, 200);
    assert.match(listed.headers.get('content-type') ?? '', /^text\/csv/);
    const text = await listed.text();
    const records = parse(text, { columns: true }) as Array<{ email: string; mailbox: string; note: string }>;
    assert.deepEqual(
      Object.fromEntries(records.map((r) => [r.email, { mailbox: r.mailbox, ...(r.note ? { note: r.note } : {}) }])),
      expected,
    );

    // What GET returns can be sent back unchanged.
    const again = await call('POST', text);
    assert.deepEqual(await again.json(), { applied: 3 });
    assert.deepEqual(await rows(), expected);
  });

  test('a later upload replaces the row for the same address and keeps the others', async () => {
    await call('POST', 'email,mailbox,note\na@x.example,legal@x.example,first\nb@x.example,skip,\n');
    await call('POST', 'email,mailbox\na@x.example,archive@x.example\n');
    assert.deepEqual(await rows(), {
      'a@x.example': { mailbox: 'archive@x.example' },
      'b@x.example': { mailbox: 'skip' },
    });
  });

  test('bad rows are reported with their line numbers and nothing is applied', async () => {
    await call('POST', 'email,mailbox\nkeep@x.example,skip\n');
    const csv = [
      'email,mailbox,note', // 1
      'good@x.example,legal@x.example,fine', // 2
      ',legal@x.example,', // 3 empty email
      'not-an-email,legal@x.example,', // 4
      'a@b,legal@x.example,', // 5
      'c@x.example,,', // 6 empty mailbox
      'd@x.example,somewhere,', // 7
      'e@x.example,legal@x.example', // 8 too few fields
      'f@x.example,legal@x.example,x,extra', // 9 too many
      'GOOD@x.example,archive@x.example,', // 10 duplicate of line 2
      '"g@x.example\r\nBcc: evil@x.example",legal@x.example,', // 11-12 header injection attempt
      `h@x.example,legal@x.example,${'n'.repeat(1001)}`, // 13
      '"<script>@x.example",legal@x.example,', // 14
    ].join('\n');
    const res = await call('POST', csv);
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      applied: number;
      problemCount: number;
      problems: Array<{ line: number; error: string }>;
    };
    assert.equal(body.applied, 0);
    assert.deepEqual(
      body.problems.map((p) => p.line),
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14],
    );
    assert.equal(body.problemCount, 11);
    const byLine = Object.fromEntries(body.problems.map((p) => [p.line, p.error]));
    assert.match(byLine[3]!, /email is empty/);
    assert.match(byLine[4]!, /"not-an-email" is not a valid address/);
    assert.match(byLine[6]!, /mailbox is empty/);
    assert.match(byLine[7]!, /mailbox "somewhere" is not a valid address or "skip"/);
    assert.match(byLine[8]!, /expected 3 fields, found 2/);
    assert.match(byLine[10]!, /good@x\.example is already on line 2/);
    assert.match(byLine[11]!, /is not a valid address/);
    assert.ok(!/[\r\n]/.test(byLine[11]!), 'control characters are not echoed');
    assert.match(byLine[13]!, /note is longer than 1000/);
    assert.deepEqual(await rows(), { 'keep@x.example': { mailbox: 'skip' } }, 'the good row was not applied either');
  });

  test('a wrong header, an empty body and broken quoting are rejected', async () => {
    const cases: Array<[string | undefined, RegExp, number]> = [
      [
        'mail,target\na@x.example,b@x.example\n',
        /header must be email,mailbox.*unknown: "mail", "target".*missing: email, mailbox/,
        1,
      ],
      ['email,mailbox,email\n', /repeated: email/, 1],
      [undefined, /send a CSV body/, -1],
      ['\r\n\r\n', /empty file/, 1],
      ['email,mailbox\na@x.example,skip\n"b@x.example,skip\n', /not readable as CSV/, 3],
    ];
    for (const [csv, message, line] of cases) {
      const res = await call('POST', csv);
      assert.equal(res.status, 400, JSON.stringify(csv));
      const body = (await res.json()) as { error: string; problems: Array<{ line: number; error: string }> };
      const text = [body.error, ...body.problems.map((p) => p.error)].join(' | ');
      assert.match(text, message);
      if (line > 0) assert.equal(body.problems[0]?.line, line, JSON.stringify(csv));
    }
    assert.deepEqual(await rows(), {});
  });

  test('a header-only file applies nothing and GET of an empty table is just the header', async () => {
    const res = await call('POST', 'email,mailbox\n');
    assert.deepEqual(await res.json(), { applied: 0 });
    assert.equal((await (await call('GET')).text()).trim(), 'email,mailbox,note');
  });
});

describe('DELETE /api/mappings', () => {
  test('removes one override (204), then 404; a missing or invalid address is 400', async () => {
    await call('POST', "email,mailbox\no'brien@x.example,skip\nkeep@x.example,skip\n");
    assert.equal((await call('DELETE', undefined, { query: "email=O'Brien@x.example" })).status, 204);
    assert.equal((await call('DELETE', undefined, { query: "email=o'brien@x.example" })).status, 404);
    assert.equal((await call('DELETE', undefined, { query: '' })).status, 400);
    assert.equal((await call('DELETE', undefined, { query: 'email=a@b' })).status, 400);
    assert.deepEqual(await rows(), { 'keep@x.example': { mailbox: 'skip' } });
  });
});

test('an override uploaded through the endpoint steers the planner', async () => {
  await call('POST', 'email,mailbox\nbob@x.example,legal@x.example\ncarl@x.example,skip\n');
  const directory = new StubDirectory({
    'bob@x.example': user('u-bob', 'bob@x.example'),
    'legal@x.example': user('u-legal', 'legal@x.example'),
    'carl@x.example': user('u-carl', 'carl@x.example'),
  });
  const planner = new MailboxRecipientPlanner(account, directory, { ttlHours: 24, fanoutLimit: 0 });
  const plan = await planner.plan([member('b', 'bob@x.example'), member('c', 'carl@x.example')], {
    creatorId: 'b',
    chatMemberCount: 2,
  });
  assert.deepEqual(plan.deliveries, [{ mailbox: 'legal@x.example', userId: 'u-legal', via: 'override' }]);
  assert.deepEqual(
    plan.notDelivered.map((n) => n.key),
    ['carl@x.example'],
  );
});
