import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExportChat, ExportOrganisation, ExportPerson, ExportPost } from '../../shared/ringcentral/export-records';
import {
  ADMIN_KEY,
  FUNCTION_KEY,
  forgetCheckpoint,
  itemKeyOfMessage,
  startPipeline,
  watchCheckpoint,
  windowsOf,
  type CapturePipeline,
} from './helpers';

// Capture windows: contiguous 3-hour windows with export failures and a cut dataset download,
// an admin backfill of a range before CAPTURE_START, a backfill window split after failing
// twice, and overlapping re-runs that must deliver nothing new.
const HOUR = 3_600_000;
const start = new Date(Math.floor((Date.now() - 26 * HOUR) / HOUR) * HOUR);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
const v = (iso: string) => new Date(iso).toISOString();

const person = (id: string, first: string): ExportPerson => ({
  id,
  firstName: first,
  lastName: 'Windows',
  email: `${first.toLowerCase()}@windows.example`,
  creationTime: at(-2000),
  lastModifiedTime: at(-2000),
});
const members = [person('m1', 'Alice'), person('m2', 'Bob'), person('m3', 'Carol')];
const chat = (id: string, Type: ExportChat['Type'], memberIds: string[]): ExportChat => ({
  id,
  Type,
  name: id,
  memberIds,
  guestIds: [],
  creationTime: at(-2000),
  lastModifiedTime: at(-2000),
  accountId: 'acc-win',
});
const chats = [chat('c-ab', 'Group', ['m1', 'm2']), chat('c-all', 'Team', ['m1', 'm2', 'm3'])];
const post = (id: string, minute: number): ExportPost => {
  const c = chats[Math.abs(minute / 30) % 2];
  return {
    id,
    chatId: c.id,
    creator: { id: c.memberIds![0] },
    creationTime: at(minute),
    lastModifiedTime: at(minute),
    text: `Window post ${id}`,
  };
};
// One post every 30 minutes for 24 hours: every 3-hour window boundary has a post exactly on it.
const regular = Array.from({ length: 48 }, (_, i) => post(`p${i}`, i * 30));
// Before CAPTURE_START: only an admin backfill reaches these.
const early = Array.from({ length: 8 }, (_, i) => post(`early${i}`, -600 + i * 60));
const org: ExportOrganisation = {
  accountId: 'acc-win',
  chats,
  members,
  guests: [],
  posts: [...regular, ...early],
  events: [],
  tasks: [],
  notes: [],
  files: [],
};

const mailboxes = { m1: 'alice@windows.example', m2: 'bob@windows.example', m3: 'carol@windows.example' };
function expected(memberId: string, ofPosts: ExportPost[]): Set<string> {
  return new Set(
    ofPosts
      .filter((p) => chats.find((c) => c.id === p.chatId)!.memberIds!.includes(memberId))
      .map((p) => `post:${p.id}:${v(p.lastModifiedTime)}`),
  );
}
function assertMailboxes(ofPosts: ExportPost[]): void {
  for (const [memberId, mailbox] of Object.entries(mailboxes)) {
    const keys = p.env.graph.messagesIn(mailbox, 'Inbox/RingCentral').map(itemKeyOfMessage);
    assert.equal(keys.length, new Set(keys).size, `duplicates in ${mailbox}`);
    assert.deepEqual(new Set(keys), expected(memberId, ofPosts), mailbox);
  }
}
const creates = () => p.env.graph.stats.requests['messages.create'] ?? 0;
async function status(): Promise<{
  capture: { capturedThrough?: string };
  recentErrors: Array<{ reason: string; windowId?: string }>;
  totals: { failed: number };
}> {
  const res = await fetch(`${p.host.url}/api/status`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  return (await res.json()) as never;
}
async function backfill(from: string, to: string, key?: string): Promise<Response> {
  return fetch(`${p.host.url}/api/backfill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
    body: JSON.stringify({ from, to }),
  });
}

let p: CapturePipeline;
let watch: ReturnType<typeof watchCheckpoint>;

before(async () => {
  // Rate limits are another test's subject: a Heavy budget of 10 tasks a minute would only make this one slow.
  p = await startPipeline({
    org,
    settings: {
      CAPTURE_START: start.toISOString(),
      MAX_WINDOW_HOURS: '3',
      RINGCENTRAL_RATE_LIMITS: 'Light=100,Medium=100,Heavy=100,Auth=5',
    },
    ringCentral: { rateLimits: { Light: 100, Medium: 100, Heavy: 100 } },
  });
  // The first export task reports AttemptFailed once, the second ends Failed; the first dataset download is cut.
  p.env.ringCentral.faults.failNextExport(1, 'AttemptFailed');
  p.env.ringCentral.faults.failNextExport(1, 'Failed');
  p.env.ringCentral.faults.truncateNextDownload(300, '/datasets/');
  watch = watchCheckpoint(p.archiver);
  await p.cycle();
});

after(async () => {
  await watch?.stop();
  console.log(
    `# checkpoint samples ${watch?.samples()}, samples where it waited for an earlier window ${watch?.heldBack()}`,
  );
  await p?.stop();
});

test('consecutive windows cover [CAPTURE_START, now) without a gap, and every post arrives exactly once', async () => {
  const windows = (await windowsOf(p.archiver)).filter((w) => !w.backfill);
  assert.ok(windows.length >= 8, `several windows ran (${windows.length})`);
  assert.equal(windows[0].from, start.toISOString());
  for (let i = 1; i < windows.length; i++) assert.equal(windows[i].from, windows[i - 1].to, 'contiguous');
  for (const w of windows) {
    assert.equal(w.status, 'stored', w.windowId);
    assert.ok(Date.parse(w.to) - Date.parse(w.from) <= 3 * HOUR);
  }
  assert.equal((await status()).capture.capturedThrough, windows[windows.length - 1].to);
  assertMailboxes(regular);
});

test('AttemptFailed and Failed export tasks are retried and reported', async () => {
  const reasons = (await status()).recentErrors.map((e) => e.reason);
  assert.ok(
    reasons.some((r) => /an attempt failed; RingCentral retries it/.test(r)),
    'AttemptFailed reported',
  );
  assert.ok(
    reasons.some((r) => /ended Failed; retrying in \d+s/.test(r)),
    'Failed reported',
  );
  const windows = await windowsOf(p.archiver);
  assert.ok(p.env.ringCentral.stats.tasksCreated >= windows.length + 1, 'the Failed window got a new task');
});

test('a cut dataset download is retried and reported, and the checkpoint never passed a window that was not stored', async () => {
  const windows = await windowsOf(p.archiver);
  assert.equal(p.env.ringCentral.stats.byKind.dataset, windows.length + 1, 'one dataset downloaded twice');
  assert.ok(
    p.logLines.some((l) => /poll-export\.failed/.test(l)),
    'the cut download failed the stage, so the host retried it',
  );
  assert.ok(
    (await status()).recentErrors.some((e) => /dataset .* (truncated|cut off|download failed)/.test(e.reason)),
    'the cut download is reported in status',
  );
  assert.ok(watch.samples() > 0);
  assert.deepEqual(watch.violations, []);
});

test('POST /api/backfill (admin key) queues a range before CAPTURE_START and it is captured', async () => {
  assert.equal((await backfill(at(-720), at(0))).status, 401);
  assert.equal((await backfill(at(-720), at(0), FUNCTION_KEY)).status, 401, 'the function key is not enough');
  const checkpointBefore = (await status()).capture.capturedThrough;
  const res = await backfill(at(-720), at(0), ADMIN_KEY);
  assert.equal(res.status, 202);
  const body = (await res.json()) as { queued: Array<{ from: string; to: string }> };
  assert.equal(body.queued.length, 4, '12 hours in 3-hour windows');
  await p.host.waitForIdle({ timeoutMs: 180_000 });
  const backfills = (await windowsOf(p.archiver)).filter((w) => w.backfill);
  assert.equal(backfills.length, 4);
  for (const w of backfills) assert.equal(w.status, 'stored');
  assertMailboxes([...regular, ...early]);
  assert.ok(
    ((await status()).capture.capturedThrough ?? '') >= (checkpointBefore ?? ''),
    'a backfill never moves the checkpoint back',
  );
  assert.deepEqual(watch.violations, []);
});

test('a backfill window that fails twice is split; overlapping windows deliver nothing new', async () => {
  // Catch the regular chain up first, so the two failures land on the backfill window.
  await p.cycle();
  const before = creates();
  p.env.ringCentral.faults.failNextExport(2, 'Failed');
  const res = await backfill(at(60), at(240), ADMIN_KEY);
  assert.equal(res.status, 202);
  await p.host.waitForIdle({ timeoutMs: 180_000 });
  const middle = new Date(start.getTime() + 150 * 60_000).toISOString();
  const windows = await windowsOf(p.archiver);
  const first = windows.find((w) => w.windowId === `backfill-${at(60)}`);
  const second = windows.find((w) => w.windowId === middle);
  assert.ok(first && second, 'the window was split in two');
  assert.deepEqual([first.from, first.to, first.status], [at(60), middle, 'stored']);
  assert.deepEqual([second.from, second.to, second.status, second.backfill], [middle, at(240), 'stored', true]);
  assert.ok((await status()).recentErrors.some((e) => /splitting the window/.test(e.reason)));
  assert.equal(creates(), before, 'the overlap delivered nothing new');
  assertMailboxes([...regular, ...early]);
});

test('re-running every window from scratch delivers nothing new', async () => {
  const before = creates();
  const polls = p.env.ringCentral.stats.byKind.getTask;
  await forgetCheckpoint(p.archiver);
  await p.cycle();
  const windows = await windowsOf(p.archiver);
  assert.ok(windows.length >= 8);
  for (const w of windows) assert.equal(w.status, 'stored', w.windowId);
  // A window may adopt an earlier task for exactly its range; either way its export was read again.
  assert.ok(p.env.ringCentral.stats.byKind.getTask - polls >= windows.length, 'every window was exported again');
  assert.equal(creates(), before);
  assertMailboxes([...regular, ...early]);
  assert.equal((await status()).totals.failed, 0);
  assert.deepEqual(watch.violations, []);
});
