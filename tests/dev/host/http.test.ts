import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite, type RunningAzurite } from '../../../dev/azurite';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { openStreamGate, probe } from './fixtures/probe';
import { ADMIN_KEY, FUNCTION_KEY, fixtureRepo, fixtureSettings, openStream } from './helpers';

let azurite: RunningAzurite;
let host: LocalFunctionsHost;
const logLines: string[] = [];

before(async () => {
  azurite = await startAzurite();
  host = new LocalFunctionsHost({
    repoRoot: fixtureRepo(),
    settings: fixtureSettings(azurite.connectionString, {
      TICK_SCHEDULE: '0 0 0 1 1 *',
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
    }),
    httpPort: 0,
    timers: false,
    log: (line) => logLines.push(line),
  });
  await host.start();
});

after(async () => {
  await host?.stop();
  await azurite?.stop();
});

test('url is loopback with the chosen free port', () => {
  assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(host.url, 'http://127.0.0.1:7071');
});

test('function-level keys: none and wrong are 401 without details; function or admin key, by header or code, pass', async () => {
  const url = `${host.url}/api/items/42`;
  for (const [label, init, query] of [
    ['no key', {}, ''],
    ['wrong header key', { headers: { 'x-functions-key': 'nope' } }, ''],
    ['wrong code', {}, '?code=nope'],
  ] as const) {
    const res = await fetch(url + query, init);
    assert.equal(res.status, 401, label);
    assert.equal(await res.text(), '', `${label}: no body details`);
  }
  for (const [label, init, query] of [
    ['function key header', { headers: { 'x-functions-key': FUNCTION_KEY } }, ''],
    ['function key code', {}, `?code=${FUNCTION_KEY}`],
    ['admin key header', { headers: { 'x-functions-key': ADMIN_KEY } }, ''],
    ['admin key code', {}, `?code=${ADMIN_KEY}`],
  ] as const) {
    const res = await fetch(url + query, init);
    assert.equal(res.status, 200, label);
  }
});

test('admin-level functions accept only the admin key', async () => {
  const url = `${host.url}/api/admin-only`;
  assert.equal((await fetch(url)).status, 401);
  assert.equal((await fetch(url, { headers: { 'x-functions-key': FUNCTION_KEY } })).status, 401);
  assert.equal((await fetch(`${url}?code=${FUNCTION_KEY}`)).status, 401);
  const ok = await fetch(url, { headers: { 'x-functions-key': ADMIN_KEY } });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'admin ok');
});

test('anonymous functions need no key', async () => {
  const res = await fetch(`${host.url}/api/open`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'open ok');
});

test('route params and query reach the handler; context logs are prefixed lines', async () => {
  const res = await fetch(`${host.url}/api/items/abc%20d?q=hello&code=${FUNCTION_KEY}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(await res.json(), { id: 'abc d', q: 'hello' });
  const line = logLines.find((l) => l.includes('looking up item abc d'));
  assert.match(line ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO items [0-9a-f-]{36} looking up item abc d$/);
});

test('method filter, unknown routes and missing prefix give 404', async () => {
  const key = { 'x-functions-key': FUNCTION_KEY };
  assert.equal((await fetch(`${host.url}/api/items/1`, { method: 'POST', headers: key, body: 'x' })).status, 404);
  assert.equal((await fetch(`${host.url}/api/items/1/extra`, { headers: key })).status, 404);
  assert.equal((await fetch(`${host.url}/items/1`, { headers: key })).status, 404);
  assert.equal((await fetch(`${host.url}/api/nothing-here`)).status, 404);
});

test('an unhandled error is a generic 500; the detail goes to the log only', async () => {
  const res = await fetch(`${host.url}/api/boom`);
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.equal(JSON.parse(text).error, 'Internal Server Error');
  assert.ok(!text.includes('secret internal detail') && !text.includes(' at '), 'no detail or stack to the caller');
  assert.ok(logLines.some((l) => / ERROR boom .*secret internal detail/.test(l)));
});

for (const kind of ['iterable', 'node', 'web']) {
  test(`a ${kind} response body is streamed, not buffered`, async () => {
    openStreamGate();
    const { status, chunks, res } = await openStream(`${host.url}/api/stream/${kind}`);
    assert.equal(status, 200);
    assert.equal(res.headers['content-length'], undefined);
    // The handler holds its second chunk until the gate opens, so the first can only arrive if streamed.
    const first = await chunks.next();
    assert.equal(first.value?.toString(), 'first\n');
    probe.streamGate!.release();
    let rest = '';
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += next.value.toString();
    assert.equal(rest, 'second\n');
  });
}

test('POST /admin/functions/<timer> with the admin key runs the timer', async () => {
  const runsBefore = probe.timer.runs.length;
  assert.equal((await fetch(`${host.url}/admin/functions/tick`, { method: 'POST' })).status, 401);
  const res = await fetch(`${host.url}/admin/functions/tick`, {
    method: 'POST',
    headers: { 'x-functions-key': ADMIN_KEY },
  });
  assert.equal(res.status, 202);
  const deadline = Date.now() + 5000;
  while (probe.timer.runs.length === runsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(probe.timer.runs.length, runsBefore + 1);
});
