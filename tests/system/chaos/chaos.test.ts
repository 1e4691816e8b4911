import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { generateOrganisation } from '../../../dev/demo-org';
import { seededRandom } from '../../../dev/seeded-random';
import type { InjectedFault } from '../../../dev/doubles/graph/server';
import { loadConfig } from '../../../shared/config';
import { StorageAccount } from '../../../shared/store/storage-account';
import { CaptureWindows } from '../../../shared/store/capture-windows';
import { QUEUES, TABLES, poisonQueueOf } from '../../../shared/store/names';
import { ITEM_KEY_PROPERTY } from '../../../shared/mailbox/mapi-properties';
import type { Reconciliation } from '../../../shared/reconcile/reconciler';
import { HostProcess } from './host-process';
import { createArchiver } from '../../../shared/composition';
import { fullScanTotals } from '../../operations/fixtures/full-scan-status';
import { LEDGER_ROWS } from '../../support/ledger-rows';

// Chaos end to end: >= 2,000 item versions over >= 50 mailboxes, Graph and RingCentral faults,
// the host SIGKILLed at random points and restarted, Azurite restarted once in persistent mode.
// Then the queues drain and reconciliation must find nothing missing and nothing duplicated.
// The seed picks the organisation, the fault draws and the kill points: CHAOS_SEED=<n> replays
// the schedule (request interleaving still varies with timing).
const seed = Number(process.env.CHAOS_SEED ?? 7);
const random = seededRandom(seed);
const ADMIN_KEY = 'chaos-admin-key';
const FUNCTION_KEY = 'chaos-function-key';
const GRAPH_TIMEOUT_MS = 1500;
// The scale by default; CHAOS_POSTS shrinks it for a quick look at the mechanics.
const POSTS = Number(process.env.CHAOS_POSTS ?? 2_000);
const DRAIN_TIMEOUT_MS = Number(process.env.CHAOS_TIMEOUT_MIN ?? 25) * 60_000;

const now = Date.now();
const from = new Date(now - 2 * 86_400_000);
const org = generateOrganisation({
  // Some posts carry files, two of them large enough for upload sessions, so every Graph write kind is exercised.
  seed,
  members: 64,
  guests: 3,
  posts: POSTS,
  tasks: 0,
  notes: 0,
  events: 0,
  filesRatio: 0.02,
  largeFiles: [{ sizeBytes: 3_500_000 }, { sizeBytes: 3_400_000 }, { sizeBytes: 3_450_000 }],
  edits: 25,
  deletions: 10,
  chats: { direct: 40, group: 14, team: 6, personal: 4, everyone: false },
  from,
  to: new Date(now - 3_600_000),
  domain: 'chaos.example',
});
const itemVersions = org.posts.length;
const withoutMailbox = [org.members[org.members.length - 1]!.email!];

let env: LocalEnvironment;
let host: HostProcess;
let storage: StorageAccount;
let dataDir: string;
const hostLog: string[] = [];
const graphFaults: Record<string, InjectedFault> = {};
const events: string[] = [];
let wallMs = 0;
let reconciliation: Reconciliation;
let azuriteRestarts = 0;

function note(line: string): void {
  events.push(`${((Date.now() - now) / 1000).toFixed(1)}s ${line}`);
}

async function queueDepths(): Promise<Record<string, number>> {
  const names = Object.values(QUEUES).flatMap((q) => [q, poisonQueueOf(q)]);
  const depths = await Promise.all(
    names.map(async (n) => [n, (await storage.queue(n).getProperties()).approximateMessagesCount ?? 0] as const),
  );
  return Object.fromEntries(depths);
}

function creates(): number {
  return env.graph.stats.requests['messages.create'] ?? 0;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(condition)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    if (!host.running) {
      // The supervisor's job: a host that died on its own (e.g. storage vanished) is started again.
      note('host exited on its own; restarting');
      await host.start();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function killAndRestart(reason: string): Promise<void> {
  // A random extra moment, so the kill lands inside some invocation rather than between polls.
  await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)));
  note(`SIGKILL host (${reason}); creates so far ${creates()}`);
  await host.kill();
  await host.start();
}

/** Drained: capture reached the end of the organisation's time and every queue stays empty. */
async function drained(): Promise<void> {
  const windows = new CaptureWindows(storage);
  let quiet = 0;
  await until(
    'queues drained',
    async () => {
      const checkpoint = await windows.checkpoint();
      const captured = Date.parse(checkpoint?.capturedThrough ?? '') >= now - 3_600_000;
      const depths = await queueDepths();
      const empty = Object.values(QUEUES).every((q) => depths[q] === 0);
      quiet = captured && empty ? quiet + 1 : 0;
      return quiet >= 4;
    },
    DRAIN_TIMEOUT_MS,
  );
}

before(async () => {
  const started = Date.now();
  console.log(`CHAOS_SEED=${seed}`);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'chaos-azurite-'));
  env = await startLocalEnvironment({
    org,
    withoutMailbox,
    azurite: { location: dataDir },
    ringCentral: {
      faultSeed: seed,
      pollsUntilComplete: 2,
      recordsPerFile: 400,
      maxRecordsPerDataset: 700,
      // Tight Medium (task status) limits: polling two tasks at once goes over and starts a penalty.
      rateLimits: { Medium: 2 },
      windowMs: 5_000,
      penaltyMs: 2_000,
    },
    graph: { seed },
    settings: {
      CAPTURE_START: from.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '12',
      EXPORT_POLL_SECONDS: '1',
      INGEST_SCHEDULE: '*/3 * * * * *',
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
    },
  });
  storage = new StorageAccount(loadConfig(env.settings).storage);

  // RingCentral: one export reports AttemptFailed before it completes; one dataset download is cut short.
  env.ringCentral.faults.failNextExport(1, 'AttemptFailed');
  env.ringCentral.faults.truncateNextDownload(20_000, '/datasets/');
  // And one 429 with Retry-After on the export API, which the archiver must honour as a shared penalty.
  env.ringCentral.faults.inject({ kind: '429', match: '/data-export', retryAfterSeconds: 2, count: 1 });
  // Graph: every fault kind, on creates (the exactly-once path) and on the folder and look-up reads.
  const create = { method: 'POST', pathIncludes: '/messages' };
  graphFaults.lostResponse = env.graph.faults.inject({
    kind: 'lostResponse',
    match: create,
    probability: 0.01,
    count: 40,
  });
  graphFaults.slowCreate = env.graph.faults.inject({
    kind: 'slow',
    match: create,
    probability: 0.02,
    count: 8,
    delayMs: GRAPH_TIMEOUT_MS + 1000,
  });
  graphFaults.reset = env.graph.faults.inject({ kind: 'reset', match: create, probability: 0.008, count: 30 });
  graphFaults.throttled = env.graph.faults.inject({
    kind: '429',
    match: create,
    probability: 0.01,
    count: 40,
    retryAfterSeconds: 3,
  });
  graphFaults.throttledShort = env.graph.faults.inject({
    kind: '429',
    match: create,
    probability: 0.01,
    count: 30,
    retryAfterSeconds: 1,
  });
  graphFaults.unavailable = env.graph.faults.inject({ kind: '503', match: create, probability: 0.008, count: 30 });
  // Faults after the work: Graph stored the write, then its answer is a 504, a 503 without
  // Retry-After, a reset or too late. One group per write kind.
  const attachmentPost = { method: 'POST', pathIncludes: '/attachments' };
  const chunk = { method: 'PUT', pathIncludes: '/upload/sessions/' };
  graphFaults.createStored504 = env.graph.faults.inject({
    kind: '504',
    phase: 'after',
    match: create,
    probability: 0.01,
    count: 25,
  });
  graphFaults.createStored503 = env.graph.faults.inject({
    kind: '503',
    phase: 'after',
    match: create,
    probability: 0.008,
    count: 20,
  });
  graphFaults.createStoredSlowAnswer = env.graph.faults.inject({
    kind: 'slow',
    phase: 'after',
    match: create,
    probability: 0.005,
    count: 6,
    delayMs: GRAPH_TIMEOUT_MS + 1000,
  });
  graphFaults.folderStored504 = env.graph.faults.inject({
    kind: '504',
    phase: 'after',
    match: { method: 'POST', pathIncludes: '/childFolders' },
    probability: 0.2,
    count: 3,
  });
  graphFaults.uploadSessionStored504 = env.graph.faults.inject({
    kind: '504',
    phase: 'after',
    match: { method: 'POST', pathIncludes: '/createUploadSession' },
    probability: 0.5,
    count: 2,
  });
  graphFaults.attachmentStored504 = env.graph.faults.inject({
    kind: '504',
    phase: 'after',
    match: attachmentPost,
    probability: 0.15,
    count: 4,
  });
  graphFaults.attachmentStoredReset = env.graph.faults.inject({
    kind: 'reset',
    phase: 'after',
    match: attachmentPost,
    probability: 0.15,
    count: 3,
  });
  graphFaults.chunkStored504 = env.graph.faults.inject({
    kind: '504',
    phase: 'after',
    match: chunk,
    probability: 0.3,
    count: 2,
  });
  graphFaults.chunkStoredSlowAnswer = env.graph.faults.inject({
    kind: 'slow',
    phase: 'after',
    match: chunk,
    probability: 0.3,
    count: 1,
    delayMs: GRAPH_TIMEOUT_MS + 1000,
  });
  graphFaults.slowRead = env.graph.faults.inject({
    kind: 'slow',
    match: { method: 'GET', pathIncludes: '/mailFolders' },
    probability: 0.05,
    count: 5,
    delayMs: GRAPH_TIMEOUT_MS + 500,
  });
  graphFaults.resetRead = env.graph.faults.inject({
    kind: 'reset',
    match: { method: 'GET', pathIncludes: '/mailFolders' },
    probability: 0.05,
    count: 5,
  });

  host = new HostProcess(
    {
      ...env.settings,
      LOCAL_HOST_MESSAGE_LEASE_S: '4',
      LOCAL_HOST_POLL_MS: '100',
      ARCHIVER_TEST_GRAPH_TIMEOUT_MS: String(GRAPH_TIMEOUT_MS),
    },
    (line) => hostLog.push(line),
  );
  await host.start();
  note('host started');

  // Kill 1 while capture runs (right after the first dataset download starts).
  await until('first dataset download', () => env.ringCentral.stats.byKind.dataset >= 1, 120_000);
  await killAndRestart('during capture');

  // Kills 2-4 at seeded points of delivery progress; Azurite restarts between them.
  const fanout = estimateDeliveries();
  const points = [0.1 + random() * 0.15, 0.35 + random() * 0.15, 0.6 + random() * 0.15].map((p) =>
    Math.floor(p * fanout),
  );
  const azuriteAt = Math.floor((0.28 + random() * 0.04) * fanout);
  for (const [i, point] of points.entries()) {
    if (i === 1) {
      await until(`${azuriteAt} creates`, () => creates() >= azuriteAt, DRAIN_TIMEOUT_MS);
      note(`restarting Azurite (persistent, ${dataDir}) under a running host`);
      await env.azurite.restart();
      azuriteRestarts++;
    }
    await until(`${point} creates`, () => creates() >= point, DRAIN_TIMEOUT_MS);
    await killAndRestart(`at ~${Math.round((point / fanout) * 100)}% of deliveries`);
  }
  await drained();
  note('drained');

  // Reconciliation is a job: POST starts it, its GET answers progress until it holds the result.
  const posted = await fetch(`${host.url}/api/reconcile`, {
    method: 'POST',
    headers: { 'x-functions-key': ADMIN_KEY },
  });
  assert.equal(posted.status, 202, await posted.clone().text());
  const location = posted.headers.get('location')!;
  let job: (Reconciliation & { state?: string }) | undefined;
  await until(
    'reconciliation finished',
    async () => {
      const res = await fetch(`${host.url}${location}`, { headers: { 'x-functions-key': ADMIN_KEY } });
      assert.equal(res.status, 200, await res.clone().text());
      job = (await res.json()) as Reconciliation & { state?: string };
      return job.state === 'finished';
    },
    DRAIN_TIMEOUT_MS,
  );
  reconciliation = job!;
  note('reconciled');
  wallMs = Date.now() - started;

  const fired = Object.fromEntries(Object.entries(graphFaults).map(([k, f]) => [k, f.fired]));
  console.log(
    JSON.stringify({
      chaos: {
        seed,
        itemVersions,
        mailboxes: reconciliation.mailboxes,
        wallSeconds: Math.round(wallMs / 1000),
        hostKills: host.kills,
        hostStarts: host.starts,
        azuriteRestarts,
      },
      graphFaults: fired,
      ringCentral: {
        penaltiesStarted: env.ringCentral.stats.penaltiesStarted,
        responses429: env.ringCentral.stats.responses429,
        tasksCreated: env.ringCentral.stats.tasksCreated,
      },
      graphThrottled: env.graph.stats.throttled,
      graphFaultsAfterWork: env.graph.stats.faultsAfterWork,
      reconciliation: {
        expected: reconciliation.expected,
        found: reconciliation.found,
        missing: reconciliation.missing,
        duplicates: reconciliation.duplicates,
        unexpected: reconciliation.unexpected,
        notConverted: reconciliation.notConverted,
        attachmentsMissing: reconciliation.attachmentsMissing,
        attachmentsDuplicated: reconciliation.attachmentsDuplicated,
      },
    }),
  );
  console.log(events.join('\n'));
});

after(async () => {
  await host?.stop();
  await env?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Deliveries the organisation implies: members with a mailbox in each post's chat, plus the creator. */
function estimateDeliveries(): number {
  const chats = new Map(org.chats.map((c) => [c.id, c]));
  const noMailbox = new Set(org.members.filter((m) => withoutMailbox.includes(m.email!)).map((m) => m.id));
  const memberIds = new Set(org.members.map((m) => m.id));
  let n = 0;
  for (const p of org.posts) {
    const chat = chats.get(p.chatId)!;
    const ids = new Set(
      [String(p.creator.id), ...(chat.memberIds ?? [])].filter((id) => memberIds.has(id) && !noMailbox.has(id)),
    );
    n += ids.size;
  }
  return n;
}

test('reconciliation after the chaos run: nothing missing, nothing duplicated, nothing unexpected', () => {
  assert.equal(
    reconciliation.missing,
    0,
    JSON.stringify(reconciliation.perMailbox.filter((m) => m.missing).slice(0, 3)),
  );
  assert.equal(
    reconciliation.duplicates,
    0,
    JSON.stringify(reconciliation.perMailbox.filter((m) => m.duplicates).slice(0, 3)),
  );
  assert.equal(reconciliation.attachmentsMissing, 0, JSON.stringify(reconciliation.attachmentsMissingKeys));
  assert.equal(reconciliation.attachmentsDuplicated, 0, JSON.stringify(reconciliation.attachmentsDuplicatedKeys));
  assert.equal(reconciliation.unexpected, 0);
  assert.equal(reconciliation.notConverted, 0);
  assert.equal(reconciliation.complete, true);
  assert.ok(reconciliation.expected >= itemVersions, 'every item reaches at least one mailbox');
  assert.equal(reconciliation.found, reconciliation.expected);
  assert.equal(reconciliation.ledgerDelivered, reconciliation.expected, 'the ledger agrees with the mailboxes');
});

test('the scale and the faults the issue asks for really happened', () => {
  assert.ok(itemVersions >= Math.min(POSTS, 2_000), `${itemVersions} item versions`);
  assert.ok(reconciliation.mailboxes >= (POSTS >= 2_000 ? 50 : 10), `${reconciliation.mailboxes} mailboxes`);
  assert.ok(host.kills >= 3, `${host.kills} kills`);
  assert.equal(azuriteRestarts, 1);
  for (const [name, fault] of Object.entries(graphFaults))
    assert.ok(fault.fired >= 1, `Graph fault ${name} never fired`);
  assert.ok(env.ringCentral.stats.responses429 >= 1, 'RingCentral answered 429 with a penalty');
  const rcFaults = env.ringCentral.faults as unknown as { exportFailures: unknown[]; truncations: unknown[] };
  assert.equal(rcFaults.exportFailures.length, 0, 'the AttemptFailed export was used');
  assert.equal(rcFaults.truncations.length, 0, 'the truncated download was used');
});

test('the reconciliation agrees with what the Graph double really stores, and no message is parked in a poison queue', async () => {
  let stored = 0;
  const keys = new Set<string>();
  let copies = 0;
  for (const m of reconciliation.perMailbox) {
    const held = env.graph.messagesIn(m.mailbox, 'Inbox/RingCentral');
    stored += held.length;
    for (const msg of held) {
      copies++;
      keys.add(`${m.mailbox}|${msg.singleValueExtendedProperties?.find((p) => p.id === ITEM_KEY_PROPERTY)?.value}`);
    }
  }
  assert.equal(stored, reconciliation.found);
  assert.equal(keys.size, copies, 'no (mailbox, item) pair is stored twice');
  // Files, from the double's own store: every message carries as many files as its ledger row
  // says, each under its own identity, and the run did carry files through every write kind.
  const filesByPair = new Map<string, number>();
  for await (const row of storage
    .table(TABLES.deliveries)
    .listEntities<{ mailbox: string; itemKey: string; files?: number }>({
      queryOptions: { filter: LEDGER_ROWS, select: ['mailbox', 'itemKey', 'files'] },
    })) {
    filesByPair.set(`${row.mailbox}|${row.itemKey}`, row.files ?? 0);
  }
  let attachmentsStored = 0;
  let viaUploadSession = 0;
  for (const m of reconciliation.perMailbox) {
    for (const msg of env.graph.messagesIn(m.mailbox, 'Inbox/RingCentral')) {
      const key = `${m.mailbox}|${msg.singleValueExtendedProperties?.find((p) => p.id === ITEM_KEY_PROPERTY)?.value}`;
      const ids = msg.attachments.map((a) => a.contentId);
      assert.equal(new Set(ids).size, ids.length, `${key}: no file twice`);
      assert.equal(ids.length, filesByPair.get(key) ?? 0, `${key}: every file`);
      attachmentsStored += ids.length;
      viaUploadSession += msg.attachments.filter((a) => a.via === 'uploadSession').length;
    }
  }
  assert.ok(attachmentsStored >= 20, `${attachmentsStored} attachments stored`);
  assert.ok(viaUploadSession >= 2, `${viaUploadSession} attachments through upload sessions`);
  const depths = await queueDepths();
  for (const q of Object.values(QUEUES)) assert.equal(depths[poisonQueueOf(q)], 0, `${poisonQueueOf(q)} is empty`);
  // The source side: every exported item version was fanned out (its ledger rows exist).
  const fannedOut = new Set<string>();
  for await (const row of storage
    .table(TABLES.deliveries)
    .listEntities<{ itemKey: string }>({ queryOptions: { filter: LEDGER_ROWS, select: ['itemKey'] } }))
    fannedOut.add(row.itemKey);
  // (RingCentral exports only the latest version of an item per window, so captured <= generated.)
  let captured = 0;
  for await (const row of storage
    .table(TABLES.items)
    .listEntities<{ state: string }>({ queryOptions: { filter: LEDGER_ROWS } }))
    if (row.state !== 'invalid') captured++;
  assert.ok(captured >= itemVersions * 0.9, `${captured} of ${itemVersions} generated versions captured`);
  assert.equal(fannedOut.size, captured, 'every captured item version has its deliveries');
  let failed = 0;
  for await (const row of storage
    .table(TABLES.deliveries)
    .listEntities<{ status: string }>({ queryOptions: { filter: LEDGER_ROWS } }))
    if (row.status === 'failed') failed++;
  assert.equal(failed, 0, 'no delivery ended as failed');
});

test('the status counts kept as the pipeline ran agree with a full scan of the ledgers, field by field', async () => {
  const archiver = createArchiver(loadConfig(env.settings));
  const kept = await archiver.status.totals();
  const scanned = await fullScanTotals(storage);
  assert.deepEqual(kept.totals, scanned.totals);
  assert.deepEqual(kept.byMailbox, scanned.byMailbox);
  assert.deepEqual(kept.byDay, scanned.byDay);
  assert.ok(kept.totals.delivered >= reconciliation.expected, 'the counts are not trivially empty');
});

test('wall time stays bounded', () => {
  assert.ok(wallMs < DRAIN_TIMEOUT_MS + 2 * 60_000, `${Math.round(wallMs / 1000)} s`);
});
