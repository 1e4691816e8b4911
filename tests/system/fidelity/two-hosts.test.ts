import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import type { InjectedFault } from '../../../dev/doubles/graph/server';
import { loadConfig } from '../../../shared/config';
import { StorageAccount } from '../../../shared/store/storage-account';
import { QUEUES, TABLES, poisonQueueOf } from '../../../shared/store/names';
import { HostProcess, withTimeout } from '../chaos/host-process';
import { itemKeyIn, itemKeyOfPost, MB, orgBuilder, sha256, sourceSha256 } from './fixture';

// Two local Functions hosts as separate processes share the mailboxes: never more than 4 Graph
// requests in flight per mailbox across both, and a delivery cut between the message create and
// its attachments is finished by the retry without a second message or a second attachment.
const ADMIN_KEY = 'two-hosts-admin-key';
const MAILBOXES = ['alice@two.example', 'bob@two.example', 'carol@two.example'];
const start = new Date(Date.now() - 2 * 86_400_000);
const o = orgBuilder('acc-two', start);
o.person('m1', 'Alice', MAILBOXES[0]);
o.person('m2', 'Bob', MAILBOXES[1]);
o.person('m3', 'Carol', MAILBOXES[2]);
o.chat('c-busy', 'Team', 'Busy room', ['m1', 'm2', 'm3']);
const busy = Array.from({ length: 60 }, (_, i) =>
  o.post(`p${i + 1}`, 'c-busy', `m${(i % 3) + 1}`, `busy post ${i + 1}`),
);
const withFiles = o.post('p-files', 'c-busy', 'm1', 'two files', [
  { name: 'note.txt', size: 1024 },
  { name: 'deck.bin', size: Math.round(3.1 * MB) },
]);
const org = o.organisation();
const postKeys = [...busy, withFiles].map(itemKeyOfPost).sort();

let env: LocalEnvironment;
let storage: StorageAccount;
const hosts: HostProcess[] = [];
const faults: Record<string, InjectedFault> = {};
const hostLog: string[] = [];

async function queueDepth(): Promise<number> {
  const names = Object.values(QUEUES).flatMap((q) => [q, poisonQueueOf(q)]);
  const depths = await Promise.all(
    names.map(async (n) => (await storage.queue(n).getProperties()).approximateMessagesCount ?? 0),
  );
  return depths.reduce((a, b) => a + b, 0);
}

async function deliveredRows(): Promise<number> {
  let n = 0;
  for await (const row of storage.table(TABLES.deliveries).listEntities<{ status: string }>())
    if (row.status === 'delivered') n++;
  return n;
}

before(async () => {
  env = await startLocalEnvironment({
    org,
    azurite: { inMemory: true },
    // The double refuses a fifth concurrent request itself; let it see everything, so the
    // statistic measures what the archiver sends rather than what the double allows.
    graph: { limits: { concurrentPerMailbox: 64 }, latencyMs: { create: [40, 120], other: [10, 40] } },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '48',
      LOCAL_ADMIN_KEY: ADMIN_KEY,
      LOCAL_FUNCTION_KEY: 'two-hosts-function-key',
    },
  });
  storage = new StorageAccount(loadConfig(env.settings).storage);
  await storage.ensureCreated();
  // Carol's first attachment POST is stored but its answer is lost; Bob's upload session cannot
  // be created the first time (connection reset). Both messages already exist by then.
  faults.lostAttachment = env.graph.faults.inject({
    kind: 'lostResponse',
    match: { method: 'POST', pathIncludes: '/attachments', mailbox: MAILBOXES[2] },
    count: 1,
  });
  faults.resetSession = env.graph.faults.inject({
    kind: 'reset',
    match: { method: 'POST', pathIncludes: '/createUploadSession', mailbox: MAILBOXES[1] },
    count: 1,
  });
  for (const id of ['a', 'b']) {
    const host = new HostProcess(
      {
        ...env.settings,
        LOCAL_HOST_TIMERS: 'false',
        LOCAL_HOST_POLL_MS: '100',
        LOCAL_HOST_MESSAGE_LEASE_S: '30',
        ARCHIVER_TEST_GRAPH_TIMEOUT_MS: '5000',
      },
      (line) => hostLog.push(`[${id}] ${line}`),
    );
    hosts.push(host);
  }
  await Promise.all(hosts.map((h) => h.start()));
  const res = await fetch(`${hosts[0]!.url}/admin/functions/ingest`, {
    method: 'POST',
    headers: { 'x-functions-key': ADMIN_KEY, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 202);
  const expected = MAILBOXES.length * (busy.length + 1 + org.files.length);
  await withTimeout(
    (async () => {
      while ((await deliveredRows()) < expected || (await queueDepth()) > 0)
        await new Promise((r) => setTimeout(r, 500));
    })(),
    150_000,
    `${expected} deliveries`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${hostLog.slice(-30).join('\n')}`);
  });
});

after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await env?.stop();
});

test('both hosts worked, and never more than 4 Graph requests were in flight per mailbox', () => {
  assert.equal(
    hosts.every((h) => h.running && h.unexpectedExits === 0),
    true,
  );
  const stats = env.graph.stats;
  for (const mailbox of MAILBOXES) {
    const max = stats.maxConcurrency[mailbox] ?? 0;
    assert.ok(max <= 4, `${mailbox}: ${max} concurrent requests`);
    assert.ok(max >= 2, `${mailbox}: requests did overlap (${max}), so the limit was exercised`);
  }
  assert.equal(stats.throttledBy.MailboxConcurrency, 0);
  const workers = new Set(hostLog.filter((l) => l.includes('"event":"deliver.done"')).map((l) => l.slice(0, 3)));
  assert.equal(workers.size, 2, 'both hosts ran deliveries');
});

test('every mailbox holds each post exactly once', () => {
  for (const mailbox of MAILBOXES) {
    const keys = env.graph
      .messagesIn(mailbox, 'Inbox/RingCentral')
      .map(itemKeyIn)
      .filter((k) => k.startsWith('post:'))
      .sort();
    assert.deepEqual(keys, postKeys, mailbox);
  }
});

test('a delivery cut after the create is finished by the retry: one message, each attachment once, same bytes', async () => {
  assert.equal(faults.lostAttachment!.fired, 1);
  assert.equal(faults.resetSession!.fired, 1);
  const shaOf = new Map(await Promise.all(org.files.map(async (f) => [f.id, await sourceSha256(f)] as const)));
  const fileItemKey = (id: string) =>
    `file:${id}:${new Date(org.files.find((f) => f.id === id)!.lastModifiedTime).toISOString()}`;
  // The post carries both files; each file record is also an item of its own with its file.
  const expected = new Map<string, Array<readonly [string, string]>>();
  expected.set(
    itemKeyOfPost(withFiles),
    org.files.map((f) => [f.name, shaOf.get(f.id)!] as const),
  );
  for (const f of org.files) expected.set(fileItemKey(f.id), [[f.name, shaOf.get(f.id)!] as const]);
  for (const mailbox of MAILBOXES) {
    const messages = env.graph.messagesIn(mailbox, 'Inbox/RingCentral');
    for (const [key, files] of expected) {
      const copies = messages.filter((m) => itemKeyIn(m) === key);
      assert.equal(copies.length, 1, `${mailbox} ${key}: one message`);
      const attachments = copies[0]!.attachments.map((a) => [a.name, sha256(a.bytes)] as const);
      assert.deepEqual(attachments.sort(), [...files].sort(), `${mailbox} ${key}`);
    }
  }
  // The retries looked their message up by the named property and listed what it already had.
  assert.ok((env.graph.stats.requests['messages.get'] ?? 0) >= 2);
  assert.ok((env.graph.stats.requests['attachments.get'] ?? 0) >= 2);
  assert.equal(env.graph.stats.requests['messages.create'], MAILBOXES.length * (busy.length + 1 + org.files.length));
});
