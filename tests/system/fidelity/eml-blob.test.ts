import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { createArchiver, type Archiver } from '../../../shared/composition';
import { loadConfig } from '../../../shared/config';
import { CONTAINERS, TABLES } from '../../../shared/store/names';
import { itemKeyOfPost, orgBuilder, repoRoot, sha256, sourceSha256 } from './fixture';

// MAILBOX_TARGET=eml-blob, the dry run that works in Azure (the Flex file system is read-only):
// the same pipeline writes eml/<mailbox>/Inbox/RingCentral/*.eml blobs instead of calling Graph,
// and a second run (even with the deliveries ledger lost) rewrites no blob.
const start = new Date(Date.now() - 2 * 86_400_000);
const o = orgBuilder('acc-emlblob', start);
o.person('m1', 'Alice', 'alice@emlblob.example');
o.person('m2', 'Bob', 'bob@emlblob.example');
o.chat('c-direct', 'Direct', undefined, ['m1', 'm2']);
const posts = [
  o.post('p1', 'c-direct', 'm1', 'first <script>alert(1)</script>'),
  o.post('p2', 'c-direct', 'm2', 'second', [{ name: 'notes.txt', size: 2048 }]),
];
const org = o.organisation();

let env: LocalEnvironment;
let host: LocalFunctionsHost;
let archiver: Archiver;

async function cycle(): Promise<void> {
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: 90_000 });
}

async function emlBlobs(): Promise<Map<string, { etag: string; body: Buffer }>> {
  const out = new Map<string, { etag: string; body: Buffer }>();
  const container = archiver.storage.container(CONTAINERS.eml);
  for await (const blob of container.listBlobsFlat()) {
    const response = await container.getBlockBlobClient(blob.name).download(0);
    const chunks: Buffer[] = [];
    for await (const c of response.readableStreamBody as Readable) chunks.push(c as Buffer);
    out.set(blob.name, { etag: blob.properties.etag!, body: Buffer.concat(chunks) });
  }
  return out;
}

before(async () => {
  env = await startLocalEnvironment({
    org,
    azurite: { inMemory: true },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '48',
      MAILBOX_TARGET: 'eml-blob',
    },
  });
  host = new LocalFunctionsHost({ repoRoot, settings: env.settings, httpPort: 0, timers: false, log: () => undefined });
  await host.start();
  archiver = createArchiver(loadConfig(env.settings));
  await cycle();
});

after(async () => {
  await host?.stop();
  await env?.stop();
});

test('each mailbox gets eml/<mailbox>/Inbox/RingCentral/*.eml blobs, one per item, and Graph is not called', async () => {
  const blobs = await emlBlobs();
  const fileKeys = org.files.map((f) => `file:${f.id}:${new Date(f.lastModifiedTime).toISOString()}`);
  const want = [...posts.map(itemKeyOfPost), ...fileKeys].sort();
  for (const mailbox of ['alice@emlblob.example', 'bob@emlblob.example']) {
    const keys: string[] = [];
    for (const [name, blob] of blobs) {
      if (!name.startsWith(`${mailbox}/Inbox/RingCentral/`)) continue;
      assert.match(name.slice(`${mailbox}/Inbox/RingCentral/`.length), /^[A-Za-z0-9._-]+\.eml$/);
      keys.push(String((await simpleParser(blob.body)).headers.get('x-ringcentral-item-key')));
    }
    assert.deepEqual(keys.sort(), want, mailbox);
  }
  assert.equal(blobs.size, 2 * want.length, 'no blob outside the two mailboxes');
  assert.equal(env.graph.stats.requests['messages.create'], undefined);
});

test('the .eml blobs carry the escaped body and the attachment bytes unchanged', async () => {
  const byKey = new Map<string, Awaited<ReturnType<typeof simpleParser>>>();
  for (const [name, blob] of await emlBlobs()) {
    if (name.startsWith('alice@emlblob.example/')) {
      const parsed = await simpleParser(blob.body);
      byKey.set(String(parsed.headers.get('x-ringcentral-item-key')), parsed);
    }
  }
  const first = byKey.get(itemKeyOfPost(posts[0]!))!;
  assert.ok(!/<script/i.test(first.html as string));
  assert.ok((first.html as string).includes('&lt;script&gt;'));
  const second = byKey.get(itemKeyOfPost(posts[1]!))!;
  assert.equal(second.attachments.length, 1);
  assert.equal(sha256(second.attachments[0]!.content), await sourceSha256(org.files[0]!));
});

test('a second run with the deliveries ledger lost finds every blob and rewrites none', async () => {
  const before = await emlBlobs();
  for (const table of [TABLES.checkpoints, TABLES.exportTasks, TABLES.deliveries]) {
    for await (const row of archiver.storage.table(table).listEntities())
      await archiver.storage.table(table).deleteEntity(row.partitionKey!, row.rowKey!);
  }
  await cycle();
  assert.ok(env.ringCentral.stats.tasksCreated >= 2, 'the window was exported again');
  let delivered = 0;
  for await (const row of archiver.storage.table(TABLES.deliveries).listEntities<{ status: string }>())
    if (row.status === 'delivered') delivered++;
  assert.equal(delivered, before.size, 'every pair went through delivery again');
  const afterRun = await emlBlobs();
  assert.deepEqual([...afterRun.keys()].sort(), [...before.keys()].sort());
  for (const [name, blob] of afterRun) assert.equal(blob.etag, before.get(name)!.etag, `${name} was rewritten`);
});
