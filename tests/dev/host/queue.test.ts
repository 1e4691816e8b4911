import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../dev/azurite';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { probe, resetProbe } from './fixtures/probe';
import { b64, fixtureRepo, uniqueName, until } from './helpers';

let azurite: RunningAzurite;
let host: LocalFunctionsHost;
const logLines: string[] = [];
const recordQueue = uniqueName('record');
const failingQueue = uniqueName('failing');

before(async () => {
  azurite = await startAzurite();
  host = new LocalFunctionsHost({
    repoRoot: fixtureRepo(),
    settings: {
      AzureWebJobsStorage: azurite.connectionString,
      RECORD_QUEUE: recordQueue,
      FAILING_QUEUE: failingQueue,
      TICK_SCHEDULE: '0 0 0 1 1 *',
    },
    httpPort: 0,
    pollIntervalMs: 50,
    timers: false,
    log: (line) => logLines.push(line),
    // A 2 s message lease (renewed every second) so the renewal test is quick.
    messageLeaseSeconds: 2,
    // Fast retries for the test: three attempts, two seconds apart.
    hostJson: { extensions: { queues: { maxDequeueCount: 3, visibilityTimeout: '00:00:02' } } },
  });
  await host.start();
});

after(async () => {
  await host?.stop();
  await azurite?.stop();
});

beforeEach(() => resetProbe());

const queue = (name: string) => new QueueClient(azurite.connectionString, name);

test('creates the trigger queues and their -poison twins', async () => {
  for (const name of [recordQueue, `${recordQueue}-poison`, failingQueue, `${failingQueue}-poison`]) {
    assert.equal(await queue(name).exists(), true, name);
  }
});

test('base64 JSON arrives parsed, base64 text arrives as a string, with trigger metadata', async () => {
  await queue(recordQueue).sendMessage(b64(JSON.stringify({ kind: 'post', id: 7 })));
  await queue(recordQueue).sendMessage(b64('plain text, not json'));
  await host.waitForIdle({ timeoutMs: 10_000 });
  assert.equal(probe.received.length, 2);
  const json = probe.received.find((r) => typeof r.input === 'object');
  const text = probe.received.find((r) => typeof r.input === 'string');
  assert.deepEqual(json?.input, { kind: 'post', id: 7 });
  assert.equal(text?.input, 'plain text, not json');
  const metadata = json!.metadata!;
  assert.equal(metadata.dequeueCount, 1);
  assert.match(String(metadata.id), /\S+/);
  assert.match(String(metadata.popReceipt), /\S+/);
  for (const key of ['insertionTime', 'expirationTime', 'nextVisibleTime']) {
    assert.ok(!Number.isNaN(Date.parse(String(metadata[key]))), `${key} is a date`);
  }
  assert.equal(await peekCount(recordQueue), 0, 'processed messages are deleted');
});

test('a message that is not base64 goes straight to poison without invoking the function', async () => {
  await queue(recordQueue).sendMessage('this is {not} base64!');
  await until('poison message', async () => (await peekCount(`${recordQueue}-poison`)) === 1, 10_000);
  const [poisoned] = (await queue(`${recordQueue}-poison`).receiveMessages()).receivedMessageItems;
  assert.equal(poisoned?.messageText, 'this is {not} base64!');
  assert.equal(probe.received.length, 0);
  assert.equal(await peekCount(recordQueue), 0);
});

test('a failing message is tried maxDequeueCount times, visibilityTimeout apart, then poisoned with its original text', async () => {
  const original = b64(JSON.stringify({ poison: 'me' }));
  await queue(failingQueue).sendMessage(original);
  await until('poisoned message', async () => (await peekCount(`${failingQueue}-poison`)) === 1, 20_000);
  assert.deepEqual(
    probe.failures.map((f) => f.dequeueCount),
    [1, 2, 3],
  );
  for (let i = 1; i < probe.failures.length; i++) {
    const gap = probe.failures[i]!.at - probe.failures[i - 1]!.at;
    assert.ok(gap >= 1900, `retry ${i} came ${gap} ms after the previous attempt; visibilityTimeout is 2 s`);
  }
  const [poisoned] = (await queue(`${failingQueue}-poison`).receiveMessages()).receivedMessageItems;
  assert.equal(poisoned?.messageText, original);
  await host.waitForIdle({ timeoutMs: 5_000, queues: [failingQueue] });
  assert.equal(probe.failures.length, 3, 'no fourth attempt');
  const failureLines = logLines.filter((l) => l.includes('failed for message'));
  assert.equal(failureLines.length, 3);
  assert.match(failureLines[2]!, / ERROR failing .*dequeueCount 3.*fixture always fails/);
  assert.ok(!logLines.some((l) => l.includes('poison') && l.includes('"me"')), 'message bodies are never logged');
  assert.equal(host.stats.byFunction.failing?.poisoned, 1);
});

test('waitForIdle waits for a message that is still invisible (delayed)', async () => {
  const started = Date.now();
  await queue(recordQueue).sendMessage(b64('"delayed"'), { visibilityTimeout: 2 });
  await host.waitForIdle({ timeoutMs: 10_000 });
  assert.ok(Date.now() - started >= 1900, 'returned before the delayed message became visible');
  assert.deepEqual(
    probe.received.map((r) => r.input),
    ['delayed'],
  );
});

test('waitForIdle times out with the counts while work remains', async () => {
  await queue(recordQueue).sendMessage(b64('"late"'), { visibilityTimeout: 2 });
  await assert.rejects(host.waitForIdle({ timeoutMs: 500 }), /not idle after 500 ms/);
  await host.waitForIdle({ timeoutMs: 10_000 });
});

async function peekCount(name: string): Promise<number> {
  return (await queue(name).getProperties()).approximateMessagesCount ?? 0;
}

test('a long-running message stays invisible: its lease is renewed, so it is delivered once', async () => {
  probe.recordDelayMs = 4500; // more than twice the 2 s lease
  await queue(recordQueue).sendMessage(b64('"slow"'));
  await host.waitForIdle({ timeoutMs: 15_000 });
  assert.equal(probe.received.length, 1, 'the message was delivered again while still running');
  assert.equal(host.stats.byFunction.record!.failed, 0);
});

test('storage queue output bindings (extraOutputs) are written base64 after the handler succeeds', async () => {
  const res = await fetch(`${host.url}/api/enqueue`, { method: 'POST', body: JSON.stringify([{ n: 1 }, { n: 2 }]) });
  assert.equal(res.status, 202);
  await host.waitForIdle({ timeoutMs: 10_000 });
  assert.deepEqual(
    probe.received.map((r) => r.input).sort((a: any, b: any) => a.n - b.n),
    [{ n: 1 }, { n: 2 }],
  );
});
