// Lost create answers keep their pair claimed for twice the Graph client's time-out; a short one
// keeps that wait short here.
import '../../delivery/fixtures/short-graph-timeout';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import type {
  ExportChat,
  ExportOrganisation,
  ExportPerson,
  ExportPost,
} from '../../../shared/ringcentral/export-records';
import { createArchiver, type Archiver } from '../../../shared/composition';
import { loadConfig } from '../../../shared/config';
import { ITEM_KEY_PROPERTY } from '../../../shared/mailbox/mapi-properties';
import { QUEUES, TABLES } from '../../../shared/store/names';
import { tableKey } from '../../../shared/store/keys';
import { messageBlobName } from '../../../shared/store/blob-names';
import { LEDGER_ROWS } from '../../support/ledger-rows';
import { repoRoot } from '../../support/repo-root';
import { chatsOf, peopleOf } from '../../support/export-builders';

// The spine end to end: RingCentral double → export → Azurite → local host → Graph double.
const start = new Date(Date.now() - 3 * 86_400_000);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();

const person = peopleOf('Spine', at(0));
const members = [
  person('m1', 'Alice', 'alice@spine.example'),
  person('m2', 'Bob', 'bob@spine.example'),
  person('m3', 'Carol', 'carol@spine.example'),
  person('m4', 'Dan', 'dan@spine.example'),
  person('m5', 'Eve', 'eve.nomailbox@spine.example'),
];
const guest = { ...person('g1', 'Gina', 'gina@partner.example') };
const chat = chatsOf('acc-spine', at(0));
const chats = [
  chat('c-direct', 'Direct', undefined, ['m1', 'm2']),
  chat('c-group', 'Group', 'Launch group', ['m1', 'm3', 'm5']),
  chat('c-team', 'Team', 'Deals desk', ['m1', 'm2', 'm3', 'm4', 'm5'], ['g1']),
];
const creatorsByChat: Record<string, string[]> = {
  'c-direct': ['m1', 'm2'],
  'c-group': ['m1', 'm3', 'm5'],
  'c-team': ['m2', 'm4', 'g1', 'm1'],
};
const posts: ExportPost[] = Array.from({ length: 54 }, (_, i) => {
  const c = chats[i % 3];
  const creators = creatorsByChat[c.id];
  const t = at(60 + i * 30);
  return {
    id: `p${i + 1}`,
    chatId: c.id,
    creator: { id: creators[i % creators.length] },
    creationTime: t,
    lastModifiedTime: t,
    text: `Spine post ${i + 1} <with markup>`,
  };
});
const malformed = {
  id: 'p-bad',
  chatId: 'c-team',
  creationTime: at(100),
  lastModifiedTime: at(100),
  text: 'no creator',
} as unknown as ExportPost;
const org: ExportOrganisation = {
  accountId: 'acc-spine',
  chats,
  members,
  guests: [guest],
  posts: [...posts, malformed],
  events: [],
  tasks: [],
  notes: [],
  files: [],
};

const mailboxOf: Record<string, string> = {
  m1: 'alice@spine.example',
  m2: 'bob@spine.example',
  m3: 'carol@spine.example',
  m4: 'dan@spine.example',
};

function expectedItemKeys(memberId: string): Set<string> {
  const keys = new Set<string>();
  for (const p of posts) {
    const c = chats.find((x) => x.id === p.chatId)!;
    if (c.memberIds!.includes(memberId) || p.creator.id === memberId)
      keys.add(`post:${p.id}:${new Date(p.lastModifiedTime).toISOString()}`);
  }
  return keys;
}

let env: LocalEnvironment;
let host: LocalFunctionsHost;
let archiver: Archiver;
const logLines: string[] = [];

function itemKeysIn(mailbox: string): string[] {
  return env.graph
    .messagesIn(mailbox, 'Inbox/RingCentral')
    .map((m) => m.singleValueExtendedProperties?.find((p) => p.id === ITEM_KEY_PROPERTY)?.value ?? '');
}

async function cycle(): Promise<void> {
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: 120_000 });
}

before(async () => {
  env = await startLocalEnvironment({
    org,
    withoutMailbox: ['eve.nomailbox@spine.example'],
    azurite: { inMemory: true },
    ringCentral: { recordsPerFile: 30 },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '48',
      LOCAL_FUNCTION_KEY: 'spine-function-key',
      LOCAL_ADMIN_KEY: 'spine-admin-key',
    },
  });
  host = new LocalFunctionsHost({
    repoRoot,
    settings: env.settings,
    httpPort: 0,
    timers: false,
    log: (line) => logLines.push(line),
  });
  await host.start();
  archiver = createArchiver(loadConfig(env.settings));
  // Bob's first two creates succeed in the mailbox but the answers are lost on the way back.
  env.graph.faults.inject({
    kind: 'lostResponse',
    match: { method: 'POST', pathIncludes: '/messages', mailbox: 'bob@spine.example' },
    count: 2,
  });
  await cycle();
});

after(async () => {
  await host?.stop();
  await env?.stop();
});

test('every mapped participant holds exactly the posts of their chats in Inbox/RingCentral, even after lost create responses', () => {
  for (const [memberId, mailbox] of Object.entries(mailboxOf)) {
    const keys = itemKeysIn(mailbox);
    assert.equal(keys.length, new Set(keys).size, `duplicates in ${mailbox}`);
    assert.deepEqual(new Set(keys), expectedItemKeys(memberId), mailbox);
  }
  assert.ok(env.graph.stats.faultsFired >= 2, 'the lost-response faults fired');
});

test('messages are not drafts, keep the original times, and carry From and To', () => {
  for (const mailbox of Object.values(mailboxOf)) {
    for (const m of env.graph.messagesIn(mailbox, 'Inbox/RingCentral')) {
      const key = m.singleValueExtendedProperties!.find((p) => p.id === ITEM_KEY_PROPERTY)!.value!;
      const post = posts.find((p) => key === `post:${p.id}:${new Date(p.lastModifiedTime).toISOString()}`)!;
      assert.equal(m.isDraft, false);
      // Exchange keeps message times to the second.
      const seconds = Math.floor(Date.parse(post.creationTime) / 1000) * 1000;
      assert.equal(Date.parse(m.receivedDateTime!), seconds);
      assert.equal(Date.parse(m.sentDateTime!), seconds);
      const creator = [...members, guest].find((p) => p.id === post.creator.id)!;
      assert.equal(m.from?.emailAddress?.address, creator.email);
      const chatMembers = chats
        .find((c) => c.id === post.chatId)!
        .memberIds!.map((id) => members.find((p) => p.id === id)!.email);
      assert.deepEqual(new Set(m.toRecipients!.map((r) => r.emailAddress!.address)), new Set(chatMembers));
      assert.match(m.subject!, /^\[RingCentral\] .+ — Post$/);
    }
  }
});

test('guests and people without a mailbox are recorded as not delivered, with the reason', async () => {
  const reasons = new Map<string, string>();
  for await (const row of archiver.storage
    .table(TABLES.deliveries)
    .listEntities<{ mailbox: string; status: string; reason?: string }>({ queryOptions: { filter: LEDGER_ROWS } })) {
    if (row.status === 'notDelivered') reasons.set(row.mailbox, row.reason ?? '');
  }
  assert.match(reasons.get('gina@partner.example') ?? '', /guest/);
  assert.match(reasons.get('eve.nomailbox@spine.example') ?? '', /no Microsoft 365 mailbox/);
  assert.equal(env.graph.messagesIn('alice@spine.example', 'Inbox/RingCentral').length > 0, true);
});

test('/api/status reports the window, the counts and the malformed record; it needs the function key', async () => {
  const denied = await fetch(`${host.url}/api/status`);
  assert.equal(denied.status, 401);
  const res = await fetch(`${host.url}/api/status`, { headers: { 'x-functions-key': 'spine-function-key' } });
  assert.equal(res.status, 200);
  const status = (await res.json()) as {
    totals: Record<string, number>;
    capture: { capturedThrough?: string; lastWindow?: unknown };
    recentErrors: Array<{ reason: string }>;
  };
  const expectedDeliveries = Object.keys(mailboxOf).reduce((n, id) => n + expectedItemKeys(id).size, 0);
  assert.equal(status.totals.captured, posts.length);
  assert.equal(status.totals.converted, posts.length);
  assert.equal(status.totals.delivered, expectedDeliveries);
  assert.equal(status.totals.failed, 0);
  assert.equal(status.totals.invalid, 1);
  assert.ok(status.totals.notDelivered > 0);
  assert.ok(status.capture.capturedThrough, 'the checkpoint advanced');
  assert.ok(status.recentErrors.some((e) => /malformed posts record/.test(e.reason) && /creator/.test(e.reason)));
});

test('a second run over the same window delivers nothing new', async () => {
  const before = Object.fromEntries(Object.values(mailboxOf).map((m) => [m, itemKeysIn(m).length]));
  const creates = env.graph.stats.requests['messages.create'] ?? 0;
  // Forget the checkpoint and windows, so the same window is exported and processed again.
  for (const table of [TABLES.checkpoints, TABLES.exportTasks]) {
    for await (const row of archiver.storage.table(table).listEntities())
      await archiver.storage.table(table).deleteEntity(row.partitionKey!, row.rowKey!);
  }
  await cycle();
  const tasks = env.ringCentral.stats.tasksCreated;
  assert.ok(tasks >= 2, 'the window was exported a second time');
  assert.equal(env.graph.stats.requests['messages.create'] ?? 0, creates);
  for (const [mailbox, count] of Object.entries(before)) assert.equal(itemKeysIn(mailbox).length, count, mailbox);
});

test('a delivery whose ledger write was lost after the create leaves exactly one copy', async () => {
  const mailbox = 'carol@spine.example';
  const [itemKey] = [...expectedItemKeys('m3')];
  const table = archiver.storage.table(TABLES.deliveries);
  const row = await table.getEntity<{ graphMessageId: string }>(tableKey(mailbox), tableKey(itemKey));
  // Lose the ledger entirely for this pair, then deliver again.
  await table.deleteEntity(tableKey(mailbox), tableKey(itemKey));
  const user = env.graph.mailbox(mailbox).user;
  await archiver.queues.send(QUEUES.deliver, {
    itemKey,
    mailbox,
    userId: user.id,
    messageBlob: messageBlobName(itemKey),
  });
  await host.waitForIdle({ timeoutMs: 60_000 });
  assert.equal(itemKeysIn(mailbox).filter((k) => k === itemKey).length, 1);
  const healed = await table.getEntity<{ status: string; graphMessageId: string }>(
    tableKey(mailbox),
    tableKey(itemKey),
  );
  assert.equal(healed.status, 'delivered');
  assert.equal(healed.graphMessageId, row.graphMessageId);
});

test('logs carry ids, never tokens, secrets or post text', () => {
  const all = logLines.join('\n');
  assert.ok(all.length > 0);
  for (const secret of [
    env.settings.RINGCENTRAL_CLIENT_SECRET,
    env.settings.RINGCENTRAL_JWT,
    env.settings.GRAPH_CLIENT_SECRET,
  ])
    assert.ok(!all.includes(secret));
  assert.ok(!/Bearer\s+[A-Za-z0-9._-]{10,}/.test(all));
  assert.ok(!all.includes('Spine post'), 'post text must not be logged');
});
