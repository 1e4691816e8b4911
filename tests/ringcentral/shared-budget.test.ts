import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalEnvironment, type LocalEnvironment } from '../../dev/local-environment';
import { peakInWindow, type RingCentralStats } from '../../dev/doubles/ringcentral/stats';
import type { RateGroup } from '../../dev/doubles/ringcentral/rate-limits';
import { loadConfig } from '../../shared/config';
import { StorageAccount } from '../../shared/store/storage-account';
import { QUEUES, TABLES, poisonQueueOf } from '../../shared/store/names';
import { HostProcess, withTimeout } from '../system/chaos/host-process';
import { itemKeyIn, itemKeyOfPost, orgBuilder } from '../system/fidelity/fixture';

// Three hosts, as separate processes, work one backlog with a file on every post against a
// RingCentral double whose limits are small enough that the hosts would overrun any group if each
// spent the whole budget itself. The budget is shared through Table storage, so together they
// stay under every group's limit in every 60 s, and RingCentral never starts a penalty.
const LIMITS: Record<RateGroup, number> = { Light: 20, Medium: 10, Heavy: 4, Auth: 5 };
const MAILBOXES = ['ann@budget.example', 'ben@budget.example'];
const start = new Date(Math.floor((Date.now() - 4 * 3_600_000) / 60_000) * 60_000);
const o = orgBuilder('acc-budget', start);
o.person('b1', 'Ann', MAILBOXES[0]);
o.person('b2', 'Ben', MAILBOXES[1]);
o.chat('c-budget', 'Group', 'Budget', ['b1', 'b2']);
const posts = Array.from({ length: 30 }, (_, i) =>
  o.post(`bp${i}`, 'c-budget', i % 2 ? 'b2' : 'b1', `budget post ${i}`, [{ name: `f${i}.txt`, size: 2048 }]),
);
const org = o.organisation();
// A file is an item of its own too: each mailbox gets the post (with the file attached) and the file.
const expectedKeys = [
  ...posts.map(itemKeyOfPost),
  ...org.files.map((f) => `file:${f.id}:${new Date(f.lastModifiedTime!).toISOString()}`),
].sort();

let env: LocalEnvironment;
let storage: StorageAccount;
let stats: RingCentralStats;
let seconds = 0;
const hosts: HostProcess[] = [];
const hostLog: string[] = [];

async function queueDepth(): Promise<number> {
  const names = Object.values(QUEUES).flatMap((q) => [q, poisonQueueOf(q)]);
  const depths = await Promise.all(
    names.map(async (n) => (await storage.queue(n).getProperties()).approximateMessagesCount ?? 0),
  );
  return depths.reduce((a, b) => a + b, 0);
}

before(async () => {
  env = await startLocalEnvironment({
    org,
    azurite: { inMemory: true },
    ringCentral: { rateLimits: LIMITS },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '1',
      EXPORT_POLL_SECONDS: '1',
      RINGCENTRAL_RATE_LIMITS: Object.entries(LIMITS)
        .map(([g, n]) => `${g}=${n}`)
        .join(','),
      LOCAL_ADMIN_KEY: 'budget-admin-key',
      LOCAL_FUNCTION_KEY: 'budget-function-key',
    },
  });
  storage = new StorageAccount(loadConfig(env.settings).storage);
  await storage.ensureCreated();
  for (const id of ['a', 'b', 'c']) {
    hosts.push(
      new HostProcess(
        {
          ...env.settings,
          WORKER_ID: id,
          LOCAL_HOST_TIMERS: 'false',
          LOCAL_HOST_POLL_MS: '100',
          LOCAL_HOST_MESSAGE_LEASE_S: '30',
        },
        (line) => hostLog.push(`[${id}] ${line}`),
      ),
    );
  }
  await Promise.all(hosts.map((h) => h.start()));
  const began = Date.now();
  const res = await fetch(`${hosts[0]!.url}/admin/functions/ingest`, {
    method: 'POST',
    headers: { 'x-functions-key': 'budget-admin-key', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 202);
  const delivered = () => MAILBOXES.reduce((n, m) => n + env.graph.messagesIn(m, 'Inbox/RingCentral').length, 0);
  await withTimeout(
    (async () => {
      while (delivered() < expectedKeys.length * MAILBOXES.length || (await queueDepth()) > 0)
        await new Promise((r) => setTimeout(r, 500));
    })(),
    360_000,
    'every post delivered',
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${hostLog.slice(-30).join('\n')}`);
  });
  seconds = (Date.now() - began) / 1000;
  stats = structuredClone(env.ringCentral.stats);
});

after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  const peaks = stats && Object.fromEntries(Object.entries(stats.timesByGroup).map(([g, t]) => [g, peakInWindow(t)]));
  console.log(
    `# 3 hosts, ${posts.length} posts with files: ${seconds.toFixed(0)} s; requests by group ${JSON.stringify(stats?.byGroup)}; peak per 60 s ${JSON.stringify(peaks)}; limits ${JSON.stringify(LIMITS)}; 429s ${stats?.responses429}`,
  );
  await env?.stop();
});

test('every post and its file reached both mailboxes once', () => {
  for (const mailbox of MAILBOXES) {
    const keys = env.graph.messagesIn(mailbox, 'Inbox/RingCentral').map(itemKeyIn);
    assert.deepEqual(keys.sort(), expectedKeys, mailbox);
  }
  // A post and its file item can convert at the same time on two hosts and both fetch the file;
  // that costs budget but stays inside it (next test).
  assert.ok(
    stats.byKind.file >= org.files.length && stats.byKind.file <= 2 * org.files.length,
    `${stats.byKind.file} file downloads`,
  );
});

test('RingCentral started no penalty and answered no 429', () => {
  assert.equal(stats.penaltiesStarted, 0);
  assert.equal(stats.responses429, 0);
  assert.equal(stats.requestsDuringPenalty, 0);
});

test("every group's combined rate stayed under its limit in every 60 s, and the Light group was the bottleneck", () => {
  for (const group of Object.keys(LIMITS) as RateGroup[]) {
    const peak = peakInWindow(stats.timesByGroup[group]);
    assert.ok(peak <= LIMITS[group], `${group}: ${peak} requests in one 60 s span, limit ${LIMITS[group]}`);
  }
  // The backlog needed more Light requests than one minute allows: the limit was really in play.
  assert.ok(stats.byGroup.Light > LIMITS.Light, `${stats.byGroup.Light} Light requests`);
  assert.ok(seconds > 60, `the run spanned more than one window (${seconds.toFixed(0)} s)`);
});

test('all three hosts called RingCentral, and each group budget lives in one shared Table row', async () => {
  for (const id of ['a', 'b', 'c']) {
    assert.ok(
      hostLog.some((l) => l.startsWith(`[${id}]`) && /"event":"(convert|poll-export)\.done"/.test(l)),
      `host ${id} did capture work`,
    );
  }
  const rows: string[] = [];
  for await (const row of storage.table(TABLES.rateLimit).listEntities()) rows.push(row.partitionKey!);
  for (const group of ['Light', 'Medium', 'Heavy', 'Auth'])
    assert.ok(rows.includes(`ringcentral-${group.toLowerCase()}`), `budget row for ${group}: ${rows.join(', ')}`);
});
