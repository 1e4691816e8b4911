import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExportChat, ExportOrganisation, ExportPost } from '../../shared/ringcentral/export-records';
import { TABLES } from '../../shared/store/names';
import type { Checkpoint } from '../../shared/store/capture-windows';
import { FUNCTION_KEY, startPipeline, windowsOf, type CapturePipeline } from './helpers';
import { peopleOf } from '../support/export-builders';

// The cadence: a tick sets the target (now − lag); a backlog chains window after window at export
// speed up to that target and then stops; the next tick captures exactly one more window.
// MAX_WINDOW_HOURS=3 over 12 hours forces a chain of several windows behind one tick.
const HOUR = 3_600_000;
const start = new Date(Math.floor((Date.now() - 12 * HOUR) / HOUR) * HOUR);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
const person = peopleOf('Cadence', at(-600));
const members = [person('k1', 'Kim'), person('k2', 'Kai')];
const chat: ExportChat = {
  id: 'c-cadence',
  Type: 'Group',
  name: 'Cadence',
  memberIds: ['k1', 'k2'],
  guestIds: [],
  creationTime: at(-600),
  lastModifiedTime: at(-600),
  accountId: 'acc-cad',
};
const posts: ExportPost[] = Array.from({ length: 12 }, (_, i) => ({
  id: `k${i}`,
  chatId: chat.id,
  creator: { id: 'k1' },
  text: `Cadence ${i}`,
  creationTime: at(i * 60 + 10),
  lastModifiedTime: at(i * 60 + 10),
}));
const org: ExportOrganisation = {
  accountId: 'acc-cad',
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
const checkpoint = async () =>
  p.archiver.storage.table(TABLES.checkpoints).getEntity<Checkpoint>('teammessaging', 'checkpoint');

before(async () => {
  p = await startPipeline({
    org,
    settings: {
      CAPTURE_START: start.toISOString(),
      MAX_WINDOW_HOURS: '3',
      RINGCENTRAL_RATE_LIMITS: 'Light=100,Medium=100,Heavy=100,Auth=5',
    },
    ringCentral: { rateLimits: { Light: 100, Medium: 100, Heavy: 100 } },
  });
});

after(async () => {
  await p?.stop();
});

test('one tick: the backlog chains up to the tick target, then stops', async () => {
  const tickAt = Date.now();
  await p.cycle();
  const target = (await checkpoint()).targetThrough!;
  assert.ok(Math.abs(Date.parse(target) - tickAt) < 10_000, 'target = tick time − lag (lag 0 here)');
  const windows = await windowsOf(p.archiver);
  assert.ok(windows.length >= 4, `12 hours in windows of at most 3 h (${windows.length})`);
  assert.equal(windows[windows.length - 1]!.to, target, 'the chain reached the target');
  for (const w of windows) assert.equal(w.status, 'stored');
  // No timer runs here: if anything still chained toward "now", windows would keep appearing.
  await new Promise((r) => setTimeout(r, 3000));
  await p.host.waitForIdle({ timeoutMs: 10_000 });
  assert.equal((await windowsOf(p.archiver)).length, windows.length, 'nothing planned after catching up');
  assert.equal(p.env.ringCentral.stats.tasksCreated, windows.length);
});

test('steady state: the next tick captures exactly one window, from the last target to the new one', async () => {
  const before = await windowsOf(p.archiver);
  const oldTarget = (await checkpoint()).targetThrough!;
  await new Promise((r) => setTimeout(r, 61_000 - (Date.now() - Date.parse(oldTarget))));
  await p.cycle();
  const after = await windowsOf(p.archiver);
  assert.equal(after.length, before.length + 1);
  const last = after[after.length - 1]!;
  assert.equal(last.from, oldTarget);
  assert.equal(last.to, (await checkpoint()).targetThrough);
  assert.equal(last.status, 'stored');
});

test('/api/status reports the measured capture latency (median and 95th percentile over the last day)', async () => {
  const res = await fetch(`${p.host.url}/api/status`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  const status = (await res.json()) as {
    capture: { captureLatency: { windows: number; medianMinutes: number; p95Minutes: number } };
  };
  const latency = status.capture.captureLatency;
  const windows = await windowsOf(p.archiver);
  assert.equal(latency.windows, windows.length);
  // The oldest window began 12 h before it was stored; the last one about a minute before.
  assert.ok(latency.p95Minutes >= 11 * 60 && latency.p95Minutes <= 13 * 60, `p95 ${latency.p95Minutes}`);
  assert.ok(
    latency.medianMinutes > 0 && latency.medianMinutes <= latency.p95Minutes,
    `median ${latency.medianMinutes}`,
  );
});
