import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZipFile } from 'yazl';
import type {
  ExportChat,
  ExportEvent,
  ExportFile,
  ExportNote,
  ExportOrganisation,
  ExportPerson,
  ExportPost,
  ExportTask,
} from '../../shared/ringcentral/export-records';
import { MEDIA_PLACEHOLDER, fileContentPath } from '../../dev/demo-org';
import { rawBlobName } from '../../shared/store/blob-names';
import { runSummary } from '../../shared/operations/run-summary';
import { CONTAINERS, QUEUES } from '../../shared/store/names';
import { ArchiveBlobs } from '../../shared/store/archive-blobs';
import type { StoredMessage } from '../../dev/doubles/graph/mailbox-state';
import { chatsOf, peopleOf } from '../support/export-builders';
import {
  bodyOf,
  header,
  itemKeyOfMessage,
  startPipeline,
  windowsOf,
  FUNCTION_KEY,
  type CapturePipeline,
} from './helpers';

// Every record type of the compliance export, every chat type, thread replies, mentions,
// attachments, an edit and a deletion, through the whole pipeline into the Graph double.
const start = new Date(Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();

const person = peopleOf('Kinds', at(0));
const members = [
  person('m1', 'Alice', 'alice@kinds.example'),
  person('m2', 'Bob', 'bob@kinds.example'),
  person('m3', 'Carol', 'carol@kinds.example'),
  person('m4', 'Dan', 'dan@kinds.example'),
];
const guest = person('g1', 'Gina', 'gina@partner.example');
const chat = chatsOf('acc-kinds', at(0));
const chats = [
  chat('c-personal', 'Personal', undefined, ['m1']),
  chat('c-direct', 'Direct', undefined, ['m1', 'm2']),
  chat('c-group', 'Group', undefined, ['m1', 'm2', 'm3']),
  chat('c-team', 'Team', 'Deals desk', ['m1', 'm2', 'm3', 'm4'], ['g1']),
  chat('c-everyone', 'Everyone', 'All Employees', ['m1', 'm2', 'm3', 'm4']),
];
const post = (
  id: string,
  chatId: string,
  creator: string,
  minute: number,
  text: string,
  extra: Partial<ExportPost> = {},
): ExportPost => ({
  id,
  chatId,
  creator: { id: creator },
  creationTime: at(minute),
  lastModifiedTime: at(minute),
  text,
  ...extra,
});

// Fields RingCentral may add one day: they must survive in the raw blob.
const futureFields = { reactions: [{ emoji: ':+1:', count: 2 }], futureField: { nested: true, list: [1, 2, 3] } };
const file: ExportFile = {
  id: 'f-small',
  type: 'File',
  creationTime: at(100),
  lastModifiedTime: at(100),
  creator: { id: 'm1' },
  chatIds: ['c-team'],
  name: 'budget.xlsx',
  size: 3000,
  contentUri: MEDIA_PLACEHOLDER + fileContentPath('f-small'),
};
const task: ExportTask = {
  id: 't1',
  type: 'Task',
  creationTime: at(100),
  lastModifiedTime: at(100),
  creator: { id: 'm1' },
  chatIds: ['c-team'],
  status: 'Pending',
  subject: 'Prepare the Q3 deck',
  assignees: [
    { id: 'm2', status: 'Pending' },
    { id: 'm3', status: 'Completed' },
  ],
  dueDate: at(3000),
  description: 'Slides for the board',
  ...{ futureTaskField: 'kept' },
};
const note: ExportNote = {
  id: 'n1',
  type: 'Note',
  creationTime: at(120),
  lastModifiedTime: at(120),
  creator: { id: 'm2' },
  chatIds: ['c-group'],
  status: 'Active',
  title: 'Meeting notes',
  body: '<p>Agreed on plan B</p><ul><li>Ship Friday</li></ul>',
};
const event: ExportEvent = {
  id: 'e1',
  type: 'Event',
  creationTime: at(130),
  lastModifiedTime: at(130),
  creator: { id: 'm3' },
  chatIds: ['c-team'],
  subject: 'Weekly sync',
  startTime: at(1440),
  endTime: at(1470),
  location: 'Room 4.01',
  recurrence: { schedule: 'Weekly', endingCondition: 'Count', endingAfter: 4 },
};
const posts: ExportPost[] = [
  post('p-personal', 'c-personal', 'm1', 30, 'Note to self'),
  post('p-direct', 'c-direct', 'm1', 40, 'Direct hello'),
  post('p-group', 'c-group', 'm2', 50, 'Group hello'),
  post('p-root', 'c-team', 'm1', 60, 'Root of the thread', futureFields as Partial<ExportPost>),
  post('p-reply', 'c-team', 'm3', 70, 'Reply in the thread', { chainId: 'p-root' }),
  post('p-mention', 'c-team', 'm4', 80, '![:Person](m2) please review', { mentions: [{ id: 'm2', type: 'Person' }] }),
  post('p-everyone', 'c-everyone', 'm2', 90, 'Company news'),
  post('p-attach', 'c-team', 'm1', 110, 'See attached', {
    attachments: [
      { id: 'f-small', type: 'File' },
      { id: 't1', type: 'Task' },
    ],
  }),
  post('p-edit', 'c-direct', 'm2', 150, 'Original wording'),
  post('p-del', 'c-group', 'm3', 160, 'To be deleted'),
];
// Later versions, in a later capture window (an export holds only the latest version per window).
const edited: ExportPost = { ...posts[8], lastModifiedTime: at(12 * 60 + 30), text: 'Corrected wording' };
const { text: _t, ...deletedBase } = posts[9];
const deleted: ExportPost = { ...deletedBase, lastModifiedTime: at(12 * 60 + 40), deleted: true };
const org: ExportOrganisation = {
  accountId: 'acc-kinds',
  chats,
  members,
  guests: [guest],
  posts: [...posts, edited, deleted],
  events: [event],
  tasks: [task],
  notes: [note],
  files: [file],
};

const mailboxOf: Record<string, string> = {
  m1: 'alice@kinds.example',
  m2: 'bob@kinds.example',
  m3: 'carol@kinds.example',
  m4: 'dan@kinds.example',
};
const v = (iso: string) => new Date(iso).toISOString();

/** Who must hold which item versions: creator, chat members and (tasks) assignees. */
function expectedKeys(memberId: string): Set<string> {
  const keys = new Set<string>();
  const inChat = (chatId: string) => chats.find((c) => c.id === chatId)!.memberIds!.includes(memberId);
  for (const p of [...posts, edited, deleted])
    if (inChat(p.chatId) || p.creator.id === memberId) keys.add(`post:${p.id}:${v(p.lastModifiedTime)}`);
  for (const [kind, r] of [
    ['task', task],
    ['note', note],
    ['event', event],
    ['file', file],
  ] as const) {
    const assigned = kind === 'task' && task.assignees!.some((a) => a.id === memberId);
    if (r.chatIds.some(inChat) || r.creator.id === memberId || assigned)
      keys.add(`${kind}:${r.id}:${v(r.lastModifiedTime)}`);
  }
  keys.add(`record:poll-1:${v(at(200))}`);
  return keys;
}

let p: CapturePipeline;
const blobs = () => new ArchiveBlobs(p.archiver.storage);
const alice = () => p.env.graph.messagesIn('alice@kinds.example', 'Inbox/RingCentral');
const messageFor = (mailbox: StoredMessage[], itemKey: string) => {
  const m = mailbox.find((x) => itemKeyOfMessage(x) === itemKey);
  assert.ok(m, `message ${itemKey} is in the mailbox`);
  return m;
};

/**
 * The RingCentral double only writes the eight documented folders, so a dataset with an
 * unknown folder (`polls`) is built here and handed to the real unpack stage.
 */
async function unpackUnknownFolder(): Promise<void> {
  const zip = new ZipFile();
  const add = (path: string, records: unknown[]) => zip.addBuffer(Buffer.from(JSON.stringify({ records })), path);
  add(
    'chats/chats_1.json',
    chats.filter((c) => c.id === 'c-team'),
  );
  add('members/members_1.json', members);
  add('guests/guests_1.json', [guest]);
  add('polls/polls_1.json', [
    {
      id: 'poll-1',
      creationTime: at(200),
      lastModifiedTime: at(200),
      creator: { id: 'm1' },
      chatIds: ['c-team'],
      question: 'Pizza or sushi?',
      options: ['Pizza', 'Sushi'],
    },
  ]);
  zip.end();
  const name = 'hand-made/unknown-folder.zip';
  await blobs().putStream(
    CONTAINERS.exports,
    name,
    zip.outputStream as import('node:stream').Readable,
    'application/zip',
  );
  const stored = (await windowsOf(p.archiver)).find((w) => w.status === 'stored')!;
  await p.archiver.queues.send(QUEUES.unpack, { windowId: stored.windowId, datasetBlob: name });
  await p.host.waitForIdle({ timeoutMs: 60_000 });
}

before(async () => {
  p = await startPipeline({
    org,
    settings: { CAPTURE_START: start.toISOString(), MAX_WINDOW_HOURS: '6' },
    ringCentral: { recordsPerFile: 4 },
  });
  await p.cycle();
  await unpackUnknownFolder();
});

after(async () => {
  await p?.stop();
});

test('every participant with a mailbox holds exactly the item versions of their chats, once each', () => {
  for (const [memberId, mailbox] of Object.entries(mailboxOf)) {
    const keys = p.env.graph.messagesIn(mailbox, 'Inbox/RingCentral').map(itemKeyOfMessage);
    assert.equal(keys.length, new Set(keys).size, `duplicates in ${mailbox}`);
    assert.deepEqual(new Set(keys), expectedKeys(memberId), mailbox);
  }
});

test('posts, tasks, notes, events and files are each archived as their own kind of message', () => {
  const kinds = new Set(alice().map((m) => header(m, 'X-RingCentral-Kind')));
  for (const kind of ['post', 'task', 'note', 'event', 'file', 'record'])
    assert.ok(kinds.has(kind), `a ${kind} message exists`);
  for (const m of alice()) {
    const [kind, id] = itemKeyOfMessage(m).split(':');
    assert.equal(header(m, 'X-RingCentral-Kind'), kind);
    assert.equal(header(m, 'X-RingCentral-Item-Id'), id);
    assert.equal(m.isDraft, false);
  }
});

test('chats of every type are archived, and Personal chats reach only their owner', () => {
  const chatIds = new Set(alice().map((m) => header(m, 'X-RingCentral-Chat-Id')));
  for (const c of chats) assert.ok(chatIds.has(c.id), `${c.Type} chat ${c.id} archived`);
  for (const mailbox of ['bob@kinds.example', 'carol@kinds.example', 'dan@kinds.example']) {
    assert.ok(
      !p.env.graph
        .messagesIn(mailbox, 'Inbox/RingCentral')
        .some((m) => header(m, 'X-RingCentral-Chat-Id') === 'c-personal'),
      mailbox,
    );
  }
  const team = messageFor(alice(), `post:p-root:${v(at(60))}`);
  assert.match(team.subject!, /Deals desk/);
  const direct = messageFor(alice(), `post:p-direct:${v(at(40))}`);
  assert.match(direct.subject!, /Bob Kinds/);
});

test("a thread reply quotes its parent; a mention shows the person's name", () => {
  const reply = bodyOf(messageFor(alice(), `post:p-reply:${v(at(70))}`));
  assert.match(reply, /In reply to <strong>Alice Kinds<\/strong>/);
  assert.match(reply, /Root of the thread/);
  const mention = bodyOf(messageFor(alice(), `post:p-mention:${v(at(80))}`));
  assert.match(mention, /@Bob Kinds/);
  assert.doesNotMatch(mention, /!\[:Person\]/);
});

test("a post's attachments resolve to the file name and the task subject; the file travels with it", () => {
  const m = messageFor(alice(), `post:p-attach:${v(at(110))}`);
  const body = bodyOf(m);
  assert.match(body, /budget\.xlsx/);
  assert.match(body, /Prepare the Q3 deck/);
  assert.deepEqual(
    m.attachments.map((a) => a.name),
    ['budget.xlsx'],
  );
  assert.equal(m.attachments[0].size, 3000);
});

test('tasks, notes and events are rendered with their own fields', () => {
  const t = bodyOf(messageFor(alice(), `task:t1:${v(at(100))}`));
  for (const expected of [
    /Prepare the Q3 deck/,
    /Pending/,
    /Bob Kinds \(Pending\)/,
    /Carol Kinds \(Completed\)/,
    new RegExp(at(3000).slice(0, 16)),
    /Slides for the board/,
  ])
    assert.match(t, expected);
  const n = bodyOf(messageFor(alice(), `note:n1:${v(at(120))}`));
  assert.match(n, /Meeting notes/);
  assert.match(n, /Agreed on plan B/);
  assert.match(n, /Ship Friday/);
  assert.doesNotMatch(n, /<li>/);
  const e = bodyOf(messageFor(alice(), `event:e1:${v(at(130))}`));
  for (const expected of [
    /Weekly sync/,
    new RegExp(at(1440).slice(0, 16)),
    new RegExp(at(1470).slice(0, 16)),
    /Room 4\.01/,
    /Weekly, ending Count, after 4 occurrences/,
  ])
    assert.match(e, expected);
  const f = messageFor(alice(), `file:f-small:${v(at(100))}`);
  assert.match(bodyOf(f), /budget\.xlsx/);
  assert.match(bodyOf(f), /3000 bytes/);
});

test('an edited post is a second message marked edited, pointing at the earlier version', () => {
  const first = messageFor(alice(), `post:p-edit:${v(at(150))}`);
  const second = messageFor(alice(), `post:p-edit:${v(edited.lastModifiedTime)}`);
  assert.match(bodyOf(first), /Original wording/);
  assert.equal(header(first, 'X-RingCentral-Previous-Version'), undefined);
  assert.match(second.subject!, /\(edited\)$/);
  assert.equal(header(second, 'X-RingCentral-Previous-Version'), v(at(150)));
  assert.match(bodyOf(second), /was edited in RingCentral/);
  assert.match(bodyOf(second), /Corrected wording/);
});

test('a deleted post produces a deletion notice and keeps the original message', () => {
  const original = messageFor(alice(), `post:p-del:${v(at(160))}`);
  const notice = messageFor(alice(), `post:p-del:${v(deleted.lastModifiedTime)}`);
  assert.match(bodyOf(original), /To be deleted/);
  assert.match(notice.subject!, /\(deleted\)$/);
  assert.match(bodyOf(notice), /was deleted in RingCentral/);
});

test('raw blobs keep every version, unchanged, with fields the archiver does not know', async () => {
  const raw = (folder: string, id: string, version: string) =>
    blobs().getJson<Record<string, unknown>>(CONTAINERS.raw, rawBlobName(folder, id, v(version)));
  assert.equal((await raw('posts', 'p-edit', at(150))).text, 'Original wording');
  assert.equal((await raw('posts', 'p-edit', edited.lastModifiedTime)).text, 'Corrected wording');
  assert.equal((await raw('posts', 'p-del', at(160))).text, 'To be deleted');
  assert.equal((await raw('posts', 'p-del', deleted.lastModifiedTime)).deleted, true);
  const root = await raw('posts', 'p-root', at(60));
  assert.deepEqual(root.reactions, futureFields.reactions);
  assert.deepEqual(root.futureField, futureFields.futureField);
  assert.equal((await raw('tasks', 't1', at(100))).futureTaskField, 'kept');
  assert.equal((await raw('polls', 'poll-1', at(200))).question, 'Pizza or sushi?');
});

test('a record of an unknown type is archived generically, every field shown', () => {
  const m = messageFor(alice(), `record:poll-1:${v(at(200))}`);
  assert.equal(header(m, 'X-RingCentral-Kind'), 'record');
  assert.match(bodyOf(m), /Pizza or sushi\?/);
  assert.match(bodyOf(m), /Sushi/);
});

test('status counts captured items per kind', async () => {
  const res = await fetch(`${p.host.url}/api/status`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  const status = (await res.json()) as {
    totals: { captured: number; failed: number; byKind: Record<string, { captured: number; delivered: number }> };
  };
  const expected = { post: 12, task: 1, note: 1, event: 1, file: 1, record: 1 };
  assert.equal(status.totals.captured, 17);
  assert.equal(status.totals.failed, 0);
  for (const [kind, n] of Object.entries(expected)) assert.equal(status.totals.byKind[kind]?.captured, n, kind);
});

test('the --once summary gains byKind: post, task, note, event, file', async () => {
  const summary = (await runSummary(p.archiver.status)) as unknown as { byKind?: Record<string, number> };
  assert.ok(summary.byKind, 'runSummary returns byKind');
  assert.deepEqual(
    {
      post: summary.byKind.post,
      task: summary.byKind.task,
      note: summary.byKind.note,
      event: summary.byKind.event,
      file: summary.byKind.file,
    },
    { post: 12, task: 1, note: 1, event: 1, file: 1 },
  );
});
