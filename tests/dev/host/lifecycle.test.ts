import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../dev/azurite';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { openStreamGate, probe } from './fixtures/probe';
import { ADMIN_KEY, fixtureRepo, openStream, uniqueName, fixtureSettings } from './helpers';
import { compiled } from '../../support/repo-root';

let azurite: RunningAzurite;

before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

test('azurite restart keeps ports, connection string and data', async () => {
  const name = uniqueName('persist');
  await new QueueClient(azurite.connectionString, name).create();
  await new QueueClient(azurite.connectionString, name).sendMessage('kept');
  const before = azurite.connectionString;
  await azurite.restart();
  assert.equal(azurite.connectionString, before);
  assert.match(
    before,
    /AccountName=devstoreaccount1;.*BlobEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;QueueEndpoint=.*TableEndpoint=/,
  );
  const peeked = await new QueueClient(azurite.connectionString, name).peekMessages();
  assert.equal(peeked.peekedMessageItems[0]?.messageText, 'kept');
});

test('stop() waits for an in-flight invocation to finish', async () => {
  const host = new LocalFunctionsHost({
    repoRoot: fixtureRepo(),
    settings: fixtureSettings(azurite.connectionString, { TICK_SCHEDULE: '0 0 0 1 1 *' }),
    httpPort: 0,
    log: () => undefined,
  });
  await host.start();
  openStreamGate();
  const { chunks } = await openStream(`${host.url}/api/stream/iterable`);
  assert.equal((await chunks.next()).value?.toString(), 'first\n');
  let stopped = false;
  const stopping = host.stop().then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(stopped, false, 'stop() returned while a response was still streaming');
  probe.streamGate!.release();
  let rest = '';
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += next.value.toString();
  await stopping;
  assert.equal(rest, 'second\n');
  await assert.rejects(fetch(`${host.url}/api/open`), 'no longer accepting requests');
});

test('AzureWebJobs.<name>.Disabled turns a function off, as in Azure; its queue is left alone', async () => {
  const settings = fixtureSettings(azurite.connectionString, {
    TICK_SCHEDULE: '0 0 0 1 1 *',
    'AzureWebJobs.record.Disabled': 'true',
  });
  const lines: string[] = [];
  const host = new LocalFunctionsHost({
    repoRoot: fixtureRepo(),
    settings,
    httpPort: 0,
    pollIntervalMs: 50,
    log: (line) => lines.push(line),
  });
  await host.start();
  try {
    assert.deepEqual(
      host.functions.filter((f) => f.name === 'record'),
      [],
    );
    assert.ok(
      host.functions.some((f) => f.name === 'failing'),
      'the other functions still run',
    );
    assert.ok(lines.some((l) => l.includes('disabled by AzureWebJobs.<name>.Disabled: record')));
    const before = probe.received.length;
    await new QueueClient(azurite.connectionString, settings.RECORD_QUEUE!).createIfNotExists();
    await new QueueClient(azurite.connectionString, settings.RECORD_QUEUE!).sendMessage(
      Buffer.from('"waiting"').toString('base64'),
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(probe.received.length, before, 'a disabled function is not invoked');
    const props = await new QueueClient(azurite.connectionString, settings.RECORD_QUEUE!).getProperties();
    assert.equal(props.approximateMessagesCount, 1);
  } finally {
    await host.stop();
  }
});

test('CLI: local.settings.json Values under env, READY <url> on stdout, graceful SIGTERM', async () => {
  const repoRoot = fixtureRepo();
  writeFileSync(
    path.join(repoRoot, 'local.settings.json'),
    JSON.stringify({
      IsEncrypted: false,
      Values: {
        LOCAL_ADMIN_KEY: ADMIN_KEY,
        TICK_SCHEDULE: 'not a schedule',
        RECORD_QUEUE: uniqueName('record'),
        FAILING_QUEUE: uniqueName('failing'),
      },
    }),
  );
  const child = spawn(process.execPath, [compiled('dev/host/main.js'), repoRoot], {
    env: { ...process.env, PORT: '0', AzureWebJobsStorage: azurite.connectionString, TICK_SCHEDULE: '0 0 0 1 1 *' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) => reject(new Error(`host exited (${code}): ${stderr}`)));
  });
  const match = /^READY (http:\/\/127\.0\.0\.1:\d+)$/.exec(firstLine);
  assert.ok(match, `unexpected first line: ${firstLine}`);
  const url = match[1]!;
  assert.equal((await fetch(`${url}/api/open`)).status, 200);
  // The admin key comes from local.settings.json; the environment's TICK_SCHEDULE won over the file's.
  assert.equal((await fetch(`${url}/api/admin-only`, { headers: { 'x-functions-key': ADMIN_KEY } })).status, 200);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(stderr, /host stopped/);
});
