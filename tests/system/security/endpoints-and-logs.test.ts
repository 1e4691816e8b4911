import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format } from 'node:util';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { demoOrganisation } from '../../../dev/demo-org';
import { repoRoot } from '../../support/repo-root';

// Keys on every keyed endpoint, and no secret or message body in any log line of a full run.
const FUNCTION_KEY = 'security-function-key-0123456789';
const ADMIN_KEY = 'security-admin-key-9876543210';
const now = new Date();
const org = demoOrganisation(now);

let env: LocalEnvironment;
let host: LocalFunctionsHost;
const captured: string[] = [];
const restore: Array<() => void> = [];

/** Everything this process writes (console included) is kept, as well as passed on. */
function captureProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      captured.push(format(...args));
      original(...args);
    };
    restore.push(() => {
      console[level] = original;
    });
  }
}

before(async () => {
  captureProcessOutput();
  env = await startLocalEnvironment({
    org,
    withoutMailbox: org.members.filter((m) => /no-mailbox/i.test(`${m.lastName}`)).map((m) => m.email!),
    azurite: { inMemory: true },
    settings: {
      CAPTURE_START: new Date(now.getTime() - 3 * 86_400_000).toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
    },
  });
  host = new LocalFunctionsHost({
    repoRoot,
    settings: env.settings,
    httpPort: 0,
    timers: false,
    log: (line) => captured.push(line),
  });
  await host.start();
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: 240_000 });
});

after(async () => {
  for (const undo of restore.reverse()) undo();
  await host?.stop();
  await env?.stop();
});

function keyedRoutes(level: 'admin' | 'function') {
  return host.functions
    .filter((f) => f.kind === 'http' && (f.options as { authLevel?: string }).authLevel === level)
    .map((f) => {
      const o = f.options as { route?: string; methods?: string[] };
      // Route parameters get a harmless value; the key check comes before any handler.
      const path = (o.route ?? f.name).replace(/\{\*?([^}:?]+)[^}]*\}/g, 'probe');
      return { name: f.name, path, methods: o.methods ?? ['GET', 'POST'] };
    });
}

test('every admin endpoint (reconcile included) rejects a missing, a wrong and a function-level key, on every method', async () => {
  const routes = keyedRoutes('admin');
  assert.ok(
    routes.some((r) => r.name === 'reconcile'),
    'reconcile is an admin endpoint',
  );
  const attempts: Array<[string, Record<string, string>, string]> = [
    ['no key', {}, ''],
    ['wrong key', { 'x-functions-key': 'not-the-key' }, ''],
    ['function key', { 'x-functions-key': FUNCTION_KEY }, ''],
    ['function key in code=', {}, `?code=${FUNCTION_KEY}`],
    ['admin key with a suffix', { 'x-functions-key': `${ADMIN_KEY}x` }, ''],
  ];
  for (const route of routes) {
    for (const method of route.methods) {
      for (const [label, headers, query] of attempts) {
        const res = await fetch(`${host.url}/api/${route.path}${query}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
        });
        assert.equal(res.status, 401, `${method} /api/${route.path} with ${label}`);
      }
    }
  }
  // The host's own admin API (run a timer now) follows the same rule.
  for (const key of [undefined, FUNCTION_KEY]) {
    const res = await fetch(`${host.url}/admin/functions/ingest`, {
      method: 'POST',
      headers: key ? { 'x-functions-key': key } : {},
    });
    assert.equal(res.status, 401);
  }
});

test('the admin key opens reconcile; bad ranges answer 400', async () => {
  const admin = { 'x-functions-key': ADMIN_KEY };
  const started = await fetch(`${host.url}/api/reconcile`, { method: 'POST', headers: admin });
  assert.equal(started.status, 202);
  const location = started.headers.get('location')!;
  assert.match(location, /^\/api\/reconcile\/\S+$/);
  let body: { state: string; expected: number; found: number; missing: number; duplicates: number } | undefined;
  for (let i = 0; i < 600 && body?.state !== 'finished'; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${host.url}${location}`, { headers: admin });
    assert.equal(res.status, 200);
    body = (await res.json()) as typeof body;
  }
  assert.equal(body?.state, 'finished');
  assert.ok(body!.expected > 0);
  assert.equal(body!.missing, 0);
  assert.equal(body!.duplicates, 0);
  for (const query of [
    'from=yesterday',
    'to=2024-13-45T00:00:00Z',
    `from=${now.toISOString()}&to=${new Date(now.getTime() - 1000).toISOString()}`,
  ]) {
    const res = await fetch(`${host.url}/api/reconcile?${query}`, { method: 'POST', headers: admin });
    assert.equal(res.status, 400, query);
  }
  // The in-request form is gone (it could not finish at a real tenant's size); it says where to go.
  const old = await fetch(`${host.url}/api/reconcile`, { headers: admin });
  assert.equal(old.status, 410);
  assert.match(((await old.json()) as { error: string }).error, /POST \/api\/reconcile/);
});

test('every function-level endpoint rejects a missing or wrong key', async () => {
  const routes = keyedRoutes('function');
  assert.ok(routes.some((r) => r.name === 'status'));
  for (const route of routes) {
    for (const headers of [{}, { 'x-functions-key': 'not-the-key' }]) {
      const res = await fetch(`${host.url}/api/${route.path}`, {
        method: route.methods[0],
        headers: headers as Record<string, string>,
      });
      assert.equal(res.status, 401, `${route.methods[0]} /api/${route.path}`);
    }
  }
});

test('no token, JWT, client secret, key or message body appears in the host log or the console of the run', () => {
  const all = captured.join('\n');
  assert.ok(all.length > 1000, 'the run logged something');
  assert.ok(/deliver/.test(all), 'the capture saw the delivery stage');
  for (const name of [
    'RINGCENTRAL_CLIENT_SECRET',
    'RINGCENTRAL_JWT',
    'GRAPH_CLIENT_SECRET',
    'LOCAL_FUNCTION_KEY',
    'LOCAL_ADMIN_KEY',
  ]) {
    assert.ok(!all.includes(env.settings[name]!), `${name} value appears in the logs`);
  }
  assert.ok(!/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/.test(all), 'a JWT appears in the logs');
  assert.ok(!/Bearer\s+[A-Za-z0-9._~+/-]{10,}/i.test(all), 'a bearer token appears in the logs');
  assert.ok(!/access_token|refresh_token|client_secret/i.test(all), 'an OAuth token field appears in the logs');
  const bodies = [
    ...org.posts.map((p) => p.text ?? ''),
    ...org.tasks.map((t) => t.description ?? ''),
    ...org.notes.map((n) => n.body ?? ''),
  ]
    .map((t) => t.replace(/!\[:\w+\]\([^)]*\)\s*/g, '').trim())
    .filter((t) => t.length >= 12);
  assert.ok(bodies.length > 10);
  for (const body of new Set(bodies))
    assert.ok(!all.includes(body), `message text appears in the logs: ${body.slice(0, 40)}`);
});

test('local.settings.json is git-ignored and no secret is committed', () => {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  assert.match(git('check-ignore', 'local.settings.json'), /local\.settings\.json/);
  const tracked = git('ls-files').split('\n').filter(Boolean);
  assert.ok(!tracked.includes('local.settings.json'));
  assert.deepEqual(
    tracked.filter((f) => /\.(pem|key|pfx|p12)$|(^|\/)\.env$/.test(f)),
    [],
    'key or env files are committed',
  );
  const devAccountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
  for (const file of tracked.filter((f) => !/package-lock\.json$/.test(f))) {
    let text: string;
    try {
      text = readFileSync(resolve(repoRoot, file), 'utf8');
    } catch {
      continue;
    }
    assert.ok(!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text), `${file} holds a private key`);
    assert.ok(!/\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/.test(text), `${file} holds a JWT`);
    for (const m of text.matchAll(/AccountKey=([A-Za-z0-9+/=]{40,})/g))
      assert.equal(m[1], devAccountKey, `${file} holds a storage account key`);
  }
  const sample = JSON.parse(readFileSync(resolve(repoRoot, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  for (const name of ['RINGCENTRAL_CLIENT_SECRET', 'RINGCENTRAL_JWT', 'GRAPH_CLIENT_SECRET'])
    assert.equal(sample.Values[name] ?? '', '', `${name} is empty in the sample`);
});
