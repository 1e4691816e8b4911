import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { createArchiver, type Archiver } from '../../../shared/composition';
import { loadConfig } from '../../../shared/config';
import { TABLES } from '../../../shared/store/names';
import { itemKeyOfPost, orgBuilder, repoRoot, sha256, sourceSha256 } from './fixture';

// MAILBOX_TARGET=eml-folder: the same pipeline writes <mailbox>/Inbox/RingCentral/*.eml instead
// of calling Graph, and a second run (even with the deliveries ledger lost) changes no file.
const start = new Date(Date.now() - 2 * 86_400_000);
const o = orgBuilder('acc-eml', start);
o.person('m1', 'Alice', 'alice@eml.example');
o.person('m2', 'Bob', 'bob@eml.example');
o.person('m3', 'Carol', 'carol@eml.example');
o.chat('c-direct', 'Direct', undefined, ['m1', 'm2']);
o.chat('c-evil', 'Group', 'Ops\r\nX-Injected: yes', ['m1', 'm3']);
const posts = [
  o.post('p1', 'c-direct', 'm1', 'first <script>alert(1)</script>'),
  o.post('p2', 'c-direct', 'm2', 'second', [
    { name: 'notes.txt', size: 2048 },
    { name: '..', size: 0 },
  ]),
  o.post('p3', 'c-evil', 'm3', 'third'),
];
const org = o.organisation();
const expected: Record<string, string[]> = {
  'alice@eml.example': ['p1', 'p2', 'p3'],
  'bob@eml.example': ['p1', 'p2'],
  'carol@eml.example': ['p3'],
};

let env: LocalEnvironment;
let host: LocalFunctionsHost;
let archiver: Archiver;
let outDir: string;

function folderOf(mailbox: string): string {
  return path.join(outDir, mailbox, 'Inbox', 'RingCentral');
}

function snapshot(): Record<string, { sha: string; mtimeMs: number }> {
  const files: Record<string, { sha: string; mtimeMs: number }> = {};
  for (const mailbox of readdirSync(outDir)) {
    for (const name of readdirSync(folderOf(mailbox))) {
      const file = path.join(folderOf(mailbox), name);
      files[path.relative(outDir, file)] = { sha: sha256(readFileSync(file)), mtimeMs: statSync(file).mtimeMs };
    }
  }
  return files;
}

async function cycle(): Promise<void> {
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: 90_000 });
}

before(async () => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'eml-folder-'));
  env = await startLocalEnvironment({
    org,
    azurite: { inMemory: true },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '48',
      MAILBOX_TARGET: 'eml-folder',
      EML_FOLDER: outDir,
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
  rmSync(outDir, { recursive: true, force: true });
});

test('each mailbox gets <mailbox>/Inbox/RingCentral/*.eml, one file per item, and Graph mailboxes are untouched', async () => {
  assert.deepEqual(readdirSync(outDir).sort(), Object.keys(expected).sort());
  for (const [mailbox, ids] of Object.entries(expected)) {
    const keys: string[] = [];
    for (const name of readdirSync(folderOf(mailbox))) {
      assert.match(name, /^[A-Za-z0-9._-]+\.eml$/);
      const parsed = await simpleParser(readFileSync(path.join(folderOf(mailbox), name)));
      keys.push(String(parsed.headers.get('x-ringcentral-item-key')));
    }
    const fileKeys = ids.includes('p2')
      ? org.files.map((f) => `file:${f.id}:${new Date(f.lastModifiedTime).toISOString()}`)
      : [];
    assert.deepEqual(
      keys.sort(),
      [...ids.map((id) => itemKeyOfPost(posts.find((p) => p.id === id)!)), ...fileKeys].sort(),
      mailbox,
    );
  }
  assert.equal(env.graph.stats.requests['messages.create'], undefined);
});

test('the .eml files carry subject, date, addresses, escaped bodies and identical attachment bytes', async () => {
  const byKey = new Map<string, Awaited<ReturnType<typeof simpleParser>>>();
  for (const name of readdirSync(folderOf('alice@eml.example'))) {
    const parsed = await simpleParser(readFileSync(path.join(folderOf('alice@eml.example'), name)));
    byKey.set(String(parsed.headers.get('x-ringcentral-item-key')), parsed);
  }
  const first = byKey.get(itemKeyOfPost(posts[0]!))!;
  assert.equal(first.subject, '[RingCentral] Alice Fid, Bob Fid — Post');
  assert.equal(first.date!.getTime(), Math.floor(Date.parse(posts[0]!.creationTime) / 1000) * 1000);
  assert.ok(!/<script/i.test(first.html as string));
  assert.ok((first.html as string).includes('&lt;script&gt;'));
  assert.equal(first.headers.get('x-ringcentral-message-class'), 'IPM.Note.RingCentral.Post');

  const second = byKey.get(itemKeyOfPost(posts[1]!))!;
  assert.equal(second.attachments.length, 2);
  for (const file of org.files) {
    const attached = second.attachments.find((a) => a.size === file.size)!;
    assert.equal(sha256(attached.content), await sourceSha256(file));
  }

  const evil = byKey.get(itemKeyOfPost(posts[2]!))!;
  assert.equal(evil.subject, '[RingCentral] Ops X-Injected: yes — Post');
  assert.equal(evil.headers.get('x-injected'), undefined);
});

test('a second run over the same window, with the deliveries ledger lost, leaves the same files untouched', async () => {
  const before = snapshot();
  assert.equal(Object.keys(before).length, 3 + 2 + 2 + 2 + 1);
  for (const table of [TABLES.checkpoints, TABLES.exportTasks, TABLES.deliveries]) {
    for await (const row of archiver.storage.table(table).listEntities())
      await archiver.storage.table(table).deleteEntity(row.partitionKey!, row.rowKey!);
  }
  await cycle();
  assert.ok(env.ringCentral.stats.tasksCreated >= 2, 'the window was exported again');
  let delivered = 0;
  for await (const row of archiver.storage.table(TABLES.deliveries).listEntities<{ status: string }>())
    if (row.status === 'delivered') delivered++;
  assert.equal(delivered, Object.keys(before).length, 'every pair went through delivery again');
  assert.deepEqual(snapshot(), before);
});
