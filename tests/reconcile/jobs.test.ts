import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { startLocalEnvironment, type LocalEnvironment } from '../../dev/local-environment';
import { LocalFunctionsHost } from '../../dev/host/local-functions-host';
import { demoOrganisation } from '../../dev/demo-org';
import { loadConfig } from '../../shared/config';
import { createGraphClient } from '../../shared/mailbox/graph-client';
import { GraphMailboxInventory } from '../../shared/reconcile/mailbox-inventory';
import { GraphAttachments } from '../../shared/mailbox/graph-attachments';
import { parseDateRange } from '../../shared/operations/http-input';
import { reconcileRangeRules, type Reconciliation } from '../../shared/reconcile/reconciler';
import {
  resultBlobName,
  type ReconcileProgress,
  type ReconcileStepMessage,
} from '../../shared/reconcile/reconcile-jobs';
import { reconcileToEnd } from '../../shared/reconcile/reconcile-driver';
import { ArchiveBlobs } from '../../shared/store/archive-blobs';
import { ItemLedger } from '../../shared/store/item-ledger';
import { MailboxRegistry } from '../../shared/store/mailbox-registry';
import { CONTAINERS, QUEUES, TABLES } from '../../shared/store/names';
import { StorageAccount } from '../../shared/store/storage-account';
import { HostProcess } from '../system/chaos/host-process';
import { FullScanReconciler } from './fixtures/full-scan-reconciler';
import { jobParts } from './fixtures/job-rig';
import { repoRoot } from '../support/repo-root';

// Reconciliation as a job, against the real parts: Azurite, the Graph double and the local host as
// a child process that can be SIGKILLed. The answer must be the one the in-request reconciler gave
// (kept as an oracle in fixtures/full-scan-reconciler.ts) on the same data, however the job got there.

const ADMIN_KEY = 'jobs-admin-key-0123456789';
const FUNCTION_KEY = 'jobs-function-key-0123456789';
const PROGRESS_FIELDS = [
  'id',
  'state',
  'mailboxesDone',
  'mailboxesTotal',
  'mailboxesPlanned',
  'startedAt',
  'updatedAt',
];
const now = new Date();
const org = demoOrganisation(now);

let env: LocalEnvironment;
let storage: StorageAccount;
let inventory: GraphMailboxInventory;
let range: { from: Date; to: Date };
let oracle: Reconciliation;
let host: HostProcess | undefined;
const hostLog: string[] = [];

before(async () => {
  env = await startLocalEnvironment({
    org,
    withoutMailbox: org.members.filter((m) => /no-mailbox/i.test(`${m.lastName}`)).map((m) => m.email!),
    azurite: { inMemory: true },
    settings: {
      CAPTURE_START: new Date(now.getTime() - 3 * 86_400_000).toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
    },
  });
  const inProcess = new LocalFunctionsHost({
    repoRoot: repoRoot,
    settings: env.settings,
    httpPort: 0,
    timers: false,
    log: () => undefined,
  });
  await inProcess.start();
  await inProcess.runTimer('ingest');
  await inProcess.waitForIdle({ timeoutMs: 240_000 });
  await inProcess.stop();

  const config = loadConfig(env.settings);
  storage = new StorageAccount(config.storage);
  const graph = createGraphClient(config.graph);
  inventory = new GraphMailboxInventory(graph, config.archiveFolder, new GraphAttachments(graph));
  range = parseDateRange(undefined, undefined, reconcileRangeRules(config.capture.retentionDays));

  // Something to find: a message gone from one mailbox, one item captured but never converted.
  const first = (await new MailboxRegistry(storage).list().next()).value as string;
  const held = await inventory.heldIn({ mailbox: first, userId: first }, range);
  await graph.api(`/users/${encodeURIComponent(first)}/messages/${encodeURIComponent(held[0]!.id)}`).delete();
  await new ItemLedger(storage).record({
    itemKey: `post:never-converted:${now.toISOString()}`,
    kind: 'post',
    state: 'captured',
    itemTime: new Date(now.getTime() - 3_600_000).toISOString(),
  });

  oracle = await new FullScanReconciler(storage, new ArchiveBlobs(storage), inventory).reconcile(range);
  assert.ok(oracle.mailboxes >= 3, `${oracle.mailboxes} mailboxes`);
  assert.equal(oracle.missing, 1);
  assert.equal(oracle.notConverted, 1);
});

after(async () => {
  await host?.stop();
  await env?.stop();
});

const admin = { 'x-functions-key': ADMIN_KEY };
const rangeQuery = () => `from=${range.from.toISOString()}&to=${range.to.toISOString()}`;

function withoutProgress(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !PROGRESS_FIELDS.includes(k)));
}

async function poll<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function getJob(location: string): Promise<ReconcileProgress & Partial<Reconciliation>> {
  const res = await fetch(`${host!.url}${location}`, { headers: admin });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as ReconcileProgress & Partial<Reconciliation>;
}

test('over HTTP: progress shows before the end; a host SIGKILLed mid-job finishes it after restart, with the in-request answer', async () => {
  // Every mailbox but the first answers its folder look-up slowly, so the job is caught half-way.
  const slow = env.graph.faults.inject({
    kind: 'slow',
    match: { method: 'GET', pathIncludes: '/childFolders' },
    skip: 1,
    delayMs: 4_000,
  });
  host = new HostProcess({ ...env.settings, LOCAL_HOST_TIMERS: 'false', LOCAL_HOST_MESSAGE_LEASE_S: '3' }, (line) =>
    hostLog.push(line),
  );
  await host.start();
  const posted = await fetch(`${host.url}/api/reconcile?${rangeQuery()}`, { method: 'POST', headers: admin });
  assert.equal(posted.status, 202, await posted.clone().text());
  const location = posted.headers.get('location')!;
  const { id } = (await posted.json()) as { id: string };
  assert.equal(location, `/api/reconcile/${id}`);

  const midway = await poll(
    'one mailbox done',
    () => getJob(location),
    (p) => p.mailboxesDone >= 1 || p.state === 'finished',
    60_000,
  );
  assert.equal(midway.state, 'running', 'the job is still running when the first mailbox is done');
  assert.ok(midway.mailboxesTotal === null || midway.mailboxesTotal >= oracle.mailboxes, JSON.stringify(midway));
  assert.ok(midway.mailboxesDone < (midway.mailboxesTotal ?? Infinity));
  assert.ok(Date.parse(midway.startedAt) <= Date.parse(midway.updatedAt));
  assert.equal(midway.expected, undefined, 'no result before the end');

  await host.kill();
  const parts = jobParts(storage, inventory);
  assert.equal((await parts.reconcileJobs.progress(id))!.state, 'running', 'the kill landed before the end');
  await host.start();
  const finished = await poll(
    'finished after restart',
    () => getJob(location),
    (p) => p.state === 'finished',
    120_000,
  );
  slow.remove();

  assert.equal(host.kills, 1);
  assert.equal(finished.mailboxesDone, finished.mailboxesTotal);
  assert.deepEqual(
    withoutProgress(finished as unknown as Record<string, unknown>),
    oracle as unknown as Record<string, unknown>,
  );
});

test('GET on an unknown or malformed id is 404; POST on an id is 405; the old GET is 410', async () => {
  for (const id of ['20260101T000000000Z-000000000000', 'not-a-job', '..%2F..%2Fstatus']) {
    const res = await fetch(`${host!.url}/api/reconcile/${id}`, { headers: admin });
    assert.equal(res.status, 404, id);
  }
  assert.equal(
    (await fetch(`${host!.url}/api/reconcile/20260101T000000000Z-000000000000`, { method: 'POST', headers: admin }))
      .status,
    405,
  );
  assert.equal((await fetch(`${host!.url}/api/reconcile?${rangeQuery()}`, { headers: admin })).status, 410);
});

test('a duplicated step message changes nothing: same rows, same progress, same answer (registry read 2 mailboxes a page)', async () => {
  await host!.stop();
  host = undefined;
  const parts = jobParts(storage, inventory, { planPage: 2 });
  const queue = storage.queue(QUEUES.reconcileStep);
  const take = async (): Promise<{ text: string; message: ReconcileStepMessage; outcome: string }> => {
    const [item] = (await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 120 })).receivedMessageItems;
    assert.ok(item, 'a step is queued');
    const message = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as ReconcileStepMessage;
    const outcome = await parts.reconcileJobs.handle(message);
    await queue.deleteMessage(item.messageId, item.popReceipt);
    return { text: item.messageText, message, outcome };
  };
  const depth = async () => (await queue.getProperties()).approximateMessagesCount ?? 0;
  // Late duplicates of the finished earlier jobs' steps (a killed host's messages come back) are
  // not this test's to count.
  await queue.clearMessages();
  const id = await parts.reconcileJobs.start(range);

  const plan = await take();
  assert.equal(plan.message.step, 'plan');
  const planned = (await parts.reconcileJobs.progress(id))!;
  assert.equal(planned.mailboxesPlanned, 2);
  assert.equal(planned.mailboxesTotal, null, 'more registry pages to plan');
  const queued = await depth();
  assert.equal(queued, 2 + 1 + 1, 'a step per mailbox of the page, one for the unconverted items, the next page');
  // A duplicated message is the same message delivered again: handled as the queue would hand it over.
  assert.equal(await parts.reconcileJobs.handle(plan.message), 'alreadyDone');
  assert.equal(await depth(), queued, 'a repeated plan step queues nothing again');

  let mailboxStep;
  do mailboxStep = await take();
  while (mailboxStep.message.step !== 'mailbox');
  assert.ok(['compared', 'nothingExpected'].includes(mailboxStep.outcome), mailboxStep.outcome);
  const once = (await parts.reconcileJobs.progress(id))!;
  assert.equal(once.state, 'running');
  assert.equal(await parts.reconcileJobs.handle(mailboxStep.message), 'alreadyDone');
  assert.equal(await parts.reconcileJobs.handle(mailboxStep.message), 'alreadyDone');
  assert.equal(
    (await parts.reconcileJobs.progress(id))!.mailboxesDone,
    once.mailboxesDone,
    'a repeated step is not counted again',
  );

  const result = await reconcileToEnd(parts, id, { process: true, pollMs: 50 });
  assert.deepEqual(result, oracle);
  const done = (await parts.reconcileJobs.progress(id))!;
  assert.equal(done.mailboxesDone, done.mailboxesTotal, 'each mailbox counted once');

  // After the end, a late duplicate of every kind of step leaves rows and answer as they were.
  const rows = async () => {
    const out: string[] = [];
    for await (const r of storage
      .table(TABLES.reconciliations)
      .listEntities({ queryOptions: { filter: `PartitionKey eq '${id}'` } }))
      out.push(`${r.rowKey} ${r.etag}`);
    return out;
  };
  const blob = storage.container(CONTAINERS.reconciliations).getBlockBlobClient(resultBlobName(id));
  const [rowsBefore, etagBefore] = [await rows(), (await blob.getProperties()).etag];
  for (const message of [plan.message, mailboxStep.message])
    assert.equal(await parts.reconcileJobs.handle(message), 'finished');
  assert.deepEqual(await rows(), rowsBefore);
  assert.equal((await blob.getProperties()).etag, etagBefore);
});
