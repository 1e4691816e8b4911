import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExportChat, ExportOrganisation, ExportPost } from '../../shared/ringcentral/export-records';
import { EXPORT_LIMITS } from '../../shared/capture/export-task-poller';
import { peopleOf } from '../support/export-builders';
import {
  FUNCTION_KEY,
  itemKeyOfMessage,
  startPipeline,
  watchCheckpoint,
  windowsOf,
  type CapturePipeline,
} from './helpers';

// Windows start wide; an export whose dataset is too large to unpack in one invocation is split
// by the size it showed and each part exported anew. The limit is lowered for the test (the host
// runs in this process, so it shares the module): 60 posts of about 1 KB make a ~65 KB dataset.
const HOUR = 3_600_000;
const LIMIT = 25_000;
const start = new Date(Math.floor((Date.now() - 11 * HOUR) / HOUR) * HOUR);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
const person = peopleOf('Large', at(-60));
const members = [person('l1', 'Lea'), person('l2', 'Leo')];
const chat: ExportChat = {
  id: 'c-large',
  Type: 'Group',
  name: 'Large',
  memberIds: ['l1', 'l2'],
  guestIds: [],
  creationTime: at(-60),
  lastModifiedTime: at(-60),
  accountId: 'acc-large',
};
const posts: ExportPost[] = Array.from({ length: 60 }, (_, i) => ({
  id: `l${i}`,
  chatId: chat.id,
  creator: { id: 'l1' },
  text: `Large ${i} ${'lorem ipsum '.repeat(85)}`,
  creationTime: at(5 + i * 10),
  lastModifiedTime: at(5 + i * 10),
}));
const org: ExportOrganisation = {
  accountId: 'acc-large',
  chats: [chat],
  members,
  guests: [],
  posts,
  events: [],
  tasks: [],
  notes: [],
  files: [],
};

let p: CapturePipeline;
let watch: ReturnType<typeof watchCheckpoint>;
const saved = EXPORT_LIMITS.maxDatasetBytes;

before(async () => {
  EXPORT_LIMITS.maxDatasetBytes = LIMIT;
  p = await startPipeline({
    org,
    settings: { CAPTURE_START: start.toISOString(), RINGCENTRAL_RATE_LIMITS: 'Light=100,Medium=100,Heavy=100,Auth=5' },
    ringCentral: { rateLimits: { Light: 100, Medium: 100, Heavy: 100 } },
  });
  watch = watchCheckpoint(p.archiver);
  await p.cycle();
});

after(async () => {
  EXPORT_LIMITS.maxDatasetBytes = saved;
  await watch?.stop();
  await p?.stop();
});

test('the first window starts wide; its too-large export is split by size and every part is exported and stored', async () => {
  const windows = await windowsOf(p.archiver);
  assert.ok(windows.length >= 3, `split in parts (${windows.length} windows)`);
  console.log(`# ${windows.length} windows, ${p.env.ringCentral.stats.tasksCreated} export tasks`);
  assert.equal(windows[0]!.from, start.toISOString());
  for (let i = 1; i < windows.length; i++) assert.equal(windows[i]!.from, windows[i - 1]!.to, 'contiguous');
  for (const w of windows) assert.equal(w.status, 'stored', w.windowId);
  // One wide task, then one per part; a part that is too large in turn is split again.
  assert.ok(
    p.env.ringCentral.stats.tasksCreated > windows.length && p.env.ringCentral.stats.tasksCreated < 2 * windows.length,
    `${p.env.ringCentral.stats.tasksCreated} tasks for ${windows.length} windows`,
  );
  assert.equal(p.env.ringCentral.stats.byKind.dataset, windows.length, 'the too-large dataset was never downloaded');
  assert.deepEqual(watch.violations, []);
});

test('the split is reported, and every post arrives exactly once', async () => {
  const res = await fetch(`${p.host.url}/api/status`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  const status = (await res.json()) as { recentErrors: Array<{ reason: string }> };
  assert.ok(
    status.recentErrors.some((e) => /-byte dataset, over 25000: splitting the window in \d+/.test(e.reason)),
    JSON.stringify(status.recentErrors),
  );
  for (const mailbox of ['lea@large.example', 'leo@large.example']) {
    const keys = p.env.graph.messagesIn(mailbox, 'Inbox/RingCentral').map(itemKeyOfMessage);
    assert.deepEqual(
      keys.sort(),
      posts.map((x) => `post:${x.id}:${new Date(x.lastModifiedTime).toISOString()}`).sort(),
      mailbox,
    );
  }
});
