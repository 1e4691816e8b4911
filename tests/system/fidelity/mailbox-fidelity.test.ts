import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import type { StoredMessage } from '../../../dev/doubles/graph/server';
import type { ExportFile, ExportPost } from '../../../shared/ringcentral/export-records';
import { createArchiver, type Archiver } from '../../../shared/composition';
import { loadConfig } from '../../../shared/config';
import { CONTAINERS, TABLES } from '../../../shared/store/names';
import { messageBlobName } from '../../../shared/store/blob-names';
import { MAX_REQUEST_BYTES, postBodyBytes } from '../../../shared/mailbox/graph-attachments';
import {
  header,
  itemKeyIn,
  itemKeyOfPost,
  MB,
  named,
  orgBuilder,
  property,
  readBlob,
  repoRoot,
  sha256,
  sourceSha256,
} from './fixture';
import { LEDGER_ROWS } from '../../support/ledger-rows';

// Issue 4 end to end: RingCentral double → Azurite → local host → Graph double, then the
// mailbox items, the .eml archive copies and the files container are read back and compared.
const start = new Date(Date.now() - 2 * 86_400_000);
const o = orgBuilder('acc-fid', start);
o.person('m1', 'Alice', 'alice@fid.example');
o.person('m2', 'Bob', 'bob@fid.example');
o.person('m3', 'Carol', 'carol@fid.example');
o.person('m4', 'Nora', 'nomail@fid.example');
o.person('m5', 'Ivan', 'not-an-email');
o.person('m6', 'Erin', '');
o.person('m7', 'Dan', 'dan@fid.example');
o.person('m8', 'Archive', 'archive@fid.example');
// A guest whose address is a real mailbox: still never delivered to.
o.person('g1', 'Gina', 'dan@fid.example', true);

const CRLF_NAME = 'Evil\r\nBcc: victim@evil.example\r\nX-Injected: yes';
const EMOJI_NAME = 'Launch 🚀 team 👩‍👩‍👧';
const RTL_NAME = 'فريق المبيعات \u202Egnp.exe';
const LONG_NAME = `Ω${'x'.repeat(999)}`;
o.chat('c-direct', 'Direct', undefined, ['m1', 'm2']);
o.chat('c-team', 'Team', 'Deals desk', ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], ['g1']);
o.chat('c-crlf', 'Group', CRLF_NAME, ['m1', 'm3']);
o.chat('c-emoji', 'Team', EMOJI_NAME, ['m1', 'm2']);
o.chat('c-rtl', 'Team', RTL_NAME, ['m1', 'm3']);
o.chat('c-long', 'Team', LONG_NAME, ['m1', 'm2']);

const SIZES = { zero: 0, small: 2.9, session: 3.1, large: 30 };
const EDGE_SIZE = 3 * MB - 40;
const BAD_NAME = 'a/b\\c:d*e?f"g<h>i|j.txt';
const posts = {
  hello: o.post('p-hello', 'c-direct', 'm1', 'Hello Bob'),
  reply: o.post('p-reply', 'c-direct', 'm2', 'Hi Alice, **see** https://example.com/x'),
  zero: o.post('p-zero', 'c-direct', 'm1', 'empty file with a dots-only name', [{ name: '...', size: 0 }]),
  badName: o.post('p-badname', 'c-direct', 'm1', 'a file name with every reserved character', [
    { name: BAD_NAME, size: 10 },
  ]),
  small: o.post('p-small', 'c-direct', 'm2', '2.9 MB', [{ name: 'small.bin', size: Math.round(SIZES.small * MB) }]),
  edge: o.post('p-edge', 'c-direct', 'm2', 'just under 3 MB', [{ name: 'edge.bin', size: EDGE_SIZE }]),
  session: o.post('p-session', 'c-direct', 'm1', '3.1 MB', [
    { name: 'session.bin', size: Math.round(SIZES.session * MB) },
  ]),
  large: o.post('p-large', 'c-direct', 'm1', '30 MB', [{ name: 'large.bin', size: SIZES.large * MB }]),
  tooBig: o.post('p-toobig', 'c-direct', 'm2', 'over the maximum', [{ name: 'huge.bin', size: 34 * MB }]),
  html: o.post(
    'p-html',
    'c-team',
    'm1',
    '<b>bold</b> <img src=x onerror=alert(1)> & <iframe src="https://evil.example">',
  ),
  script: o.post('p-script', 'c-team', 'm2', '<script>alert("xss")</script> after'),
  broken: o.post(
    'p-broken',
    'c-team',
    'm3',
    '<div><p>broken <a href="javascript:alert(1)">link [click](javascript:alert(2)) <!-- **x',
  ),
  crlf: o.post('p-crlf', 'c-crlf', 'm1', 'in a chat with CR/LF in its name'),
  emoji: o.post('p-emoji', 'c-emoji', 'm2', 'party 🎉'),
  rtl: o.post('p-rtl', 'c-rtl', 'm3', 'مرحبا'),
  long: o.post('p-long', 'c-long', 'm1', 'long chat name'),
};
posts.reply.chainId = posts.hello.id;
const org = o.organisation();

let env: LocalEnvironment;
let host: LocalFunctionsHost;
let archiver: Archiver;

const fileOf = (p: ExportPost): ExportFile => org.files.find((f) => f.id === p.attachments![0]!.id)!;
function messageOf(mailbox: string, p: ExportPost): StoredMessage {
  const found = env.graph.messagesIn(mailbox, 'Inbox/RingCentral').filter((m) => itemKeyIn(m) === itemKeyOfPost(p));
  assert.equal(found.length, 1, `${p.id} in ${mailbox}: ${found.length} copies`);
  return found[0]!;
}
async function emlOf(p: ExportPost): Promise<ParsedMail> {
  return simpleParser(
    await readBlob(env.settings.AzureWebJobsStorage, CONTAINERS.messages, messageBlobName(itemKeyOfPost(p), 'eml')),
  );
}
const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));

before(async () => {
  env = await startLocalEnvironment({
    org,
    withoutMailbox: ['nomail@fid.example'],
    azurite: { inMemory: true },
    graph: { limits: { maxMessageBytes: 45 * MB } },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '48',
      MAX_MESSAGE_SIZE_MB: '45',
      FALLBACK_MAILBOX: 'archive@fid.example',
      LOCAL_FUNCTION_KEY: 'fid-function-key',
      LOCAL_ADMIN_KEY: 'fid-admin-key',
    },
  });
  host = new LocalFunctionsHost({ repoRoot, settings: env.settings, httpPort: 0, timers: false, log: () => undefined });
  await host.start();
  archiver = createArchiver(loadConfig(env.settings));
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: 150_000 });
});

after(async () => {
  await host?.stop();
  await env?.stop();
});

test('every post lands once in Inbox/RingCentral of each mapped member, non-draft, with its original times and From/To/Cc', () => {
  const expected: Record<string, ExportPost[]> = {
    'alice@fid.example': Object.values(posts),
    'bob@fid.example': [...Object.values(posts)].filter((p) =>
      ['c-direct', 'c-team', 'c-emoji', 'c-long'].includes(p.chatId),
    ),
    'carol@fid.example': [...Object.values(posts)].filter((p) => ['c-team', 'c-crlf', 'c-rtl'].includes(p.chatId)),
  };
  for (const [mailbox, list] of Object.entries(expected)) {
    const keys = env.graph.messagesIn(mailbox, 'Inbox/RingCentral').map(itemKeyIn);
    assert.deepEqual(keys.filter((k) => k.startsWith('post:')).sort(), list.map(itemKeyOfPost).sort(), mailbox);
    // Each file record is archived as an item of its own too, to the members of its chat.
    const fileKeys = org.files
      .filter((f) => list.some((p) => p.chatId === f.chatIds[0]))
      .map((f) => `file:${f.id}:${new Date(f.lastModifiedTime).toISOString()}`);
    assert.deepEqual(keys.filter((k) => !k.startsWith('post:')).sort(), fileKeys.sort(), mailbox);
    for (const p of list) {
      const m = messageOf(mailbox, p);
      assert.equal(m.isDraft, false);
      const seconds = Math.floor(Date.parse(p.creationTime) / 1000) * 1000;
      assert.equal(Date.parse(m.receivedDateTime), seconds);
      assert.equal(Date.parse(m.sentDateTime), seconds);
      const creator = org.members.find((x) => x.id === p.creator.id)!;
      assert.equal(m.from?.emailAddress?.address, creator.email);
    }
  }
  const team = messageOf('alice@fid.example', posts.script);
  assert.deepEqual(
    team.toRecipients!.map((r) => r.emailAddress!.address),
    [
      'bob@fid.example',
      'alice@fid.example',
      'carol@fid.example',
      'nomail@fid.example',
      'rc-m5@unknown.invalid',
      'rc-m6@unknown.invalid',
    ],
  );
  assert.deepEqual(
    team.ccRecipients!.map((r) => r.emailAddress!.address),
    ['dan@fid.example'],
  );
  assert.equal(team.from?.emailAddress?.name, 'Bob Fid');
});

test('subjects read [RingCentral] <chat name or participants> — Post, and the message class is IPM.Note.RingCentral.Post', () => {
  const alice = 'alice@fid.example';
  assert.equal(messageOf(alice, posts.hello).subject, '[RingCentral] Alice Fid, Bob Fid — Post');
  // The direct chat is named the same whoever posts, so both senders thread together.
  assert.equal(messageOf(alice, posts.reply).subject, '[RingCentral] Alice Fid, Bob Fid — Post');
  assert.equal(messageOf(alice, posts.script).subject, '[RingCentral] Deals desk — Post');
  for (const p of Object.values(posts))
    assert.equal(property(messageOf(alice, p), 'String 0x001A'), 'IPM.Note.RingCentral.Post');
});

test('every message of one chat shares the conversation GUID and topic; other chats differ', () => {
  const guidOf = (m: StoredMessage) =>
    Buffer.from(property(m, 'Binary 0x0071')!, 'base64').subarray(6, 22).toString('hex');
  const byChat = new Map<string, Set<string>>();
  const topics = new Map<string, Set<string>>();
  for (const mailbox of ['alice@fid.example', 'bob@fid.example', 'carol@fid.example']) {
    for (const m of env.graph.messagesIn(mailbox, 'Inbox/RingCentral')) {
      const chatId = property(m, named('RingCentralChatId'))!;
      const index = Buffer.from(property(m, 'Binary 0x0071')!, 'base64');
      assert.equal(index.length, 22);
      byChat.set(chatId, (byChat.get(chatId) ?? new Set()).add(guidOf(m)));
      topics.set(chatId, (topics.get(chatId) ?? new Set()).add(property(m, 'String 0x0070')!));
    }
  }
  assert.equal(byChat.size, 6);
  for (const [chatId, guids] of byChat) {
    assert.equal(guids.size, 1, `one conversation GUID for ${chatId}`);
    assert.equal(topics.get(chatId)!.size, 1, `one topic for ${chatId}`);
  }
  assert.equal(new Set([...byChat.values()].map((s) => [...s][0])).size, 6, 'chats do not share a conversation');
  assert.equal([...topics.get('c-direct')!][0], '[RingCentral] Alice Fid, Bob Fid');
});

test('account, chat, item and version ids are named properties and X-RingCentral headers', () => {
  const p = posts.script;
  const m = messageOf('carol@fid.example', p);
  const version = new Date(p.lastModifiedTime).toISOString();
  assert.equal(property(m, named('RingCentralItemId')), itemKeyOfPost(p));
  assert.equal(property(m, named('RingCentralChatId')), 'c-team');
  assert.equal(property(m, named('RingCentralRecordId')), 'p-script');
  assert.equal(property(m, named('RingCentralVersion')), version);
  assert.equal(property(m, named('RingCentralAccountId')), 'acc-fid');
  assert.equal(header(m, 'X-RingCentral-Account-Id'), 'acc-fid');
  assert.equal(header(m, 'X-RingCentral-Chat-Id'), 'c-team');
  assert.equal(header(m, 'X-RingCentral-Item-Id'), 'p-script');
  assert.equal(header(m, 'X-RingCentral-Version'), version);
  assert.equal(header(m, 'X-RingCentral-Item-Key'), itemKeyOfPost(p));
});

test('the .eml archive copy parses back with mailparser to the same message', async () => {
  for (const p of [posts.hello, posts.reply, posts.script, posts.emoji, posts.rtl, posts.long, posts.crlf]) {
    const m = messageOf('alice@fid.example', p);
    const eml = await emlOf(p);
    assert.equal(eml.subject, m.subject, p.id);
    assert.equal(eml.from!.value[0]!.address, m.from!.emailAddress!.address);
    assert.deepEqual(
      addresses(eml.to),
      m.toRecipients!.map((r) => r.emailAddress!.address),
    );
    assert.deepEqual(
      addresses(eml.cc),
      m.ccRecipients!.map((r) => r.emailAddress!.address),
    );
    assert.equal(eml.date!.getTime(), Math.floor(Date.parse(p.creationTime) / 1000) * 1000);
    assert.equal((eml.html as string).trim(), m.body!.content!.trim());
    assert.ok(eml.text!.includes(p.text!.split(' ')[0]!), `${p.id} text body`);
    assert.equal(eml.headers.get('x-ringcentral-message-class'), 'IPM.Note.RingCentral.Post');
    assert.equal(eml.headers.get('x-ringcentral-item-key'), itemKeyOfPost(p));
    assert.equal(eml.headers.get('x-ringcentral-account-id'), 'acc-fid');
  }
  const reply = await emlOf(posts.reply);
  assert.match(reply.text!, /In reply to Alice Fid:\n> Hello Bob/);
  assert.match(reply.html as string, /<a href="https:\/\/example.com\/x">/);
});

test('attachments keep their bytes (SHA-256) at 0 B, 2.9 MB, 3 MB - 40 B, 3.1 MB and 30 MB, by POST or upload session', async () => {
  const cases: Array<[ExportPost, 'post' | 'uploadSession']> = [
    [posts.zero, 'post'],
    [posts.badName, 'post'],
    [posts.small, 'post'],
    [posts.edge, 'uploadSession'],
    [posts.session, 'uploadSession'],
    [posts.large, 'uploadSession'],
  ];
  // The edge file is under 3 MB, but its base64 POST would be over Graph's 4 MB request cap.
  assert.ok(postBodyBytes('edge.bin', 'application/octet-stream', EDGE_SIZE) > MAX_REQUEST_BYTES);
  for (const [p, via] of cases) {
    const file = fileOf(p);
    const expected = await sourceSha256(file);
    for (const mailbox of ['alice@fid.example', 'bob@fid.example']) {
      const m = messageOf(mailbox, p);
      assert.equal(m.attachments.length, 1, `${p.id} in ${mailbox}`);
      const [a] = m.attachments;
      assert.equal(a!.via, via, p.id);
      assert.equal(a!.size, file.size);
      assert.equal(sha256(a!.bytes), expected, `${p.id} bytes in ${mailbox}`);
      assert.equal(m.hasAttachments, true);
    }
  }
  // Names: reserved characters are kept (Outlook shows them), a dots-only name becomes 'attachment'.
  assert.equal(messageOf('alice@fid.example', posts.badName).attachments[0]!.name, BAD_NAME);
  assert.equal(messageOf('alice@fid.example', posts.zero).attachments[0]!.name, 'attachment');
  // The archive copy carries the same bytes.
  for (const p of [posts.zero, posts.badName, posts.session]) {
    const eml = await emlOf(p);
    assert.equal(eml.attachments.length, 1);
    assert.equal(sha256(eml.attachments[0]!.content), await sourceSha256(fileOf(p)), p.id);
  }
  assert.equal((await emlOf(posts.badName)).attachments[0]!.filename, BAD_NAME);
});

test('a file over MAX_MESSAGE_SIZE_MB stays in Blob storage behind a notice with name, size, SHA-256 and location', async () => {
  const file = fileOf(posts.tooBig);
  const expected = await sourceSha256(file);
  const m = messageOf('bob@fid.example', posts.tooBig);
  assert.equal(m.attachments.length, 0);
  const body = m.body!.content!;
  assert.ok(body.includes('huge.bin'));
  assert.ok(body.includes(`(${file.size} bytes)`));
  assert.ok(body.includes(`SHA-256: ${expected}`));
  const location = /Archived copy: files\/([^\s<]+?)\.?(?:\s|<)/.exec(body)?.[1];
  assert.ok(location, 'the notice names the blob');
  const stored = await readBlob(env.settings.AzureWebJobsStorage, CONTAINERS.files, location);
  assert.equal(stored.length, file.size);
  assert.equal(sha256(stored), expected);
  const eml = await emlOf(posts.tooBig);
  assert.equal(eml.attachments.length, 0);
  assert.ok(eml.text!.includes(`SHA-256: ${expected}`));
});

test('mapping: unmapped members go to FALLBACK_MAILBOX, the guest is never delivered, Dan gets nothing', async () => {
  const fallback = env.graph.messagesIn('archive@fid.example', 'Inbox/RingCentral').map(itemKeyIn).sort();
  assert.deepEqual(fallback, [posts.html, posts.script, posts.broken].map(itemKeyOfPost).sort());
  assert.equal(env.graph.messagesIn('dan@fid.example', 'Inbox/RingCentral').length, 0);
  const rows = new Map<string, string>();
  for await (const row of archiver.storage
    .table(TABLES.deliveries)
    .listEntities<{ mailbox: string; itemKey: string; status: string; reason?: string }>({
      queryOptions: { filter: LEDGER_ROWS },
    })) {
    if (row.itemKey === itemKeyOfPost(posts.script)) rows.set(row.mailbox, `${row.status} ${row.reason ?? ''}`);
  }
  assert.match(rows.get('dan@fid.example') ?? '', /^notDelivered .*guest/);
  assert.match(rows.get('archive@fid.example') ?? '', /^delivered/);
  for (const mailbox of ['alice@fid.example', 'bob@fid.example', 'carol@fid.example'])
    assert.match(rows.get(mailbox) ?? '', /^delivered/);
});

test('bad post text never puts markup or script into a body; it is shown escaped', () => {
  for (const mailbox of ['alice@fid.example', 'archive@fid.example']) {
    for (const p of [posts.html, posts.script, posts.broken]) {
      const html = messageOf(mailbox, p).body!.content!;
      assert.ok(!/<script/i.test(html), `${p.id}: no script tag`);
      assert.ok(!/<(img|iframe|div><p>broken)/i.test(html), `${p.id}: no input tags`);
      assert.ok(
        !/href="javascript:/i.test(html) && !/\sonerror=/i.test(html.replace(/&lt;img[^&]*/g, '')),
        `${p.id}: no script URL or handler`,
      );
      assert.ok(!html.includes('<!--'), `${p.id}: no comment opened by input`);
    }
  }
  const html = messageOf('alice@fid.example', posts.script).body!.content!;
  assert.ok(html.includes('&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt; after'));
  assert.ok(
    messageOf('alice@fid.example', posts.html).body!.content!.includes(
      '&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;',
    ),
  );
});

test('chat names with CR/LF, emoji, RTL text or 1,000 characters stay one safe line; nothing is injected', async () => {
  const alice = 'alice@fid.example';
  const crlf = messageOf(alice, posts.crlf);
  assert.equal(crlf.subject, '[RingCentral] Evil Bcc: victim@evil.example X-Injected: yes — Post');
  const everything = [
    crlf.subject!,
    ...crlf.internetMessageHeaders.map((h) => `${h.name}: ${h.value}`),
    ...crlf.singleValueExtendedProperties.map((p) => p.value ?? ''),
  ];
  for (const line of everything) assert.ok(!/[\r\n]/.test(line), JSON.stringify(line));
  assert.ok(!JSON.stringify([crlf.toRecipients, crlf.ccRecipients, crlf.bccRecipients]).includes('victim'));
  const eml = await emlOf(posts.crlf);
  assert.equal(eml.bcc, undefined);
  assert.equal(eml.headers.get('x-injected'), undefined);
  assert.deepEqual(addresses(eml.to), ['alice@fid.example', 'carol@fid.example']);

  assert.equal(messageOf(alice, posts.emoji).subject, `[RingCentral] ${EMOJI_NAME} — Post`);
  assert.equal((await emlOf(posts.emoji)).subject, `[RingCentral] ${EMOJI_NAME} — Post`);
  assert.equal(messageOf(alice, posts.rtl).subject, `[RingCentral] ${RTL_NAME} — Post`);
  const long = messageOf(alice, posts.long).subject!;
  assert.ok(long.length < 200, `a 1,000-character name is shortened (${long.length})`);
  assert.ok(long.startsWith('[RingCentral] Ωxxx') && long.endsWith('… — Post'));
  assert.equal(property(messageOf(alice, posts.long), 'String 0x0070')!.length <= 250, true);
  // The HTML heading shows the whole (escaped) name; a script in it could not run anyway.
  assert.ok(messageOf(alice, posts.rtl).body!.content!.includes(RTL_NAME));
});

test('invalid or empty emails never become an address or a mailbox; they are placeholders', () => {
  const m = messageOf('carol@fid.example', posts.broken);
  const to = m.toRecipients!.map((r) => `${r.emailAddress!.name} <${r.emailAddress!.address}>`);
  assert.ok(to.includes('Ivan Fid <rc-m5@unknown.invalid>'));
  assert.ok(to.includes('Erin Fid <rc-m6@unknown.invalid>'));
  assert.ok(!to.some((t) => t.includes('not-an-email')));
});
