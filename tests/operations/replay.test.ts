import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline, until, FUNCTION_KEY, ADMIN_KEY, type Pipeline } from './fixture';
import { CONTAINERS, QUEUES, TABLES } from '../../shared/store/names';
import { tableKey } from '../../shared/store/keys';
import { messageBlobName } from '../../shared/store/blob-names';
import { runSummary } from '../../shared/operations/run-summary';
import { ITEM_KEY_PROPERTY } from '../../shared/mailbox/mapi-properties';
import { LEDGER_ROWS } from '../support/ledger-rows';

// Two ways deliveries fail, through the real host with maxDequeueCount 2:
// carol's mailbox is disabled (ledger rows "failed", retried an hour later), and three deliveries to frank
// find their archive message blob missing (a plain error: retried, then parked in deliver-poison).
let p: Pipeline;
const carol = 'carol@ops.example';
const frank = 'frank@ops.example';
let frankItems: string[] = [];

const call = (path: string, key: string, init: RequestInit = {}) =>
  fetch(`${p.host.url}${path}`, { ...init, headers: { 'x-functions-key': key, 'content-type': 'application/json' } });
const status = async () => (await (await call('/api/status', FUNCTION_KEY)).json()) as any;
const itemKeysIn = (mailbox: string) =>
  p.env.graph
    .messagesIn(mailbox, 'Inbox/RingCentral')
    .map((m) => m.singleValueExtendedProperties?.find((x) => x.id === ITEM_KEY_PROPERTY)?.value ?? '');
async function ledgerOf(mailbox: string) {
  const rows: Array<{ itemKey: string; status: string; itemTime?: string }> = [];
  for await (const r of p.archiver.storage
    .table(TABLES.deliveries)
    .listEntities<{ itemKey: string; status: string; itemTime?: string }>({
      queryOptions: { filter: `PartitionKey eq '${tableKey(mailbox)}' and ${LEDGER_ROWS}` },
    }))
    rows.push(r);
  return rows;
}

before(async () => {
  p = await runPipeline({
    hostJson: { extensions: { queues: { maxDequeueCount: 2, visibilityTimeout: '00:00:01' } } },
    // carol's deliveries wait an hour in the deliver queue, so only the other queues drain.
    idleQueues: [QUEUES.pollExport, QUEUES.unpack, QUEUES.convert],
    beforeCycle: (env) => {
      env.graph.mailbox(carol).user.hasMailbox = false;
      env.graph.addUser({
        id: 'u-frank',
        mail: frank,
        userPrincipalName: frank,
        displayName: 'Frank Ops',
        accountEnabled: true,
      });
    },
  });
  // Three items for frank whose archive messages are missing when the deliveries run.
  await until(
    'the first cycle',
    async () =>
      (await ledgerOf('alice@ops.example')).filter((r) => r.status === 'delivered').length === 13 &&
      (await ledgerOf(carol)).filter((r) => r.status === 'failed').length === 6,
    60_000,
  );
  frankItems = (await ledgerOf('alice@ops.example')).map((r) => r.itemKey).slice(0, 3);
  const blobs = p.archiver.storage.container(CONTAINERS.messages);
  const saved = new Map<string, Buffer>();
  for (const key of frankItems) {
    const blob = blobs.getBlockBlobClient(messageBlobName(key));
    saved.set(key, await blob.downloadToBuffer());
    await blob.delete();
  }
  for (const itemKey of frankItems)
    await p.archiver.queues.send(QUEUES.deliver, {
      itemKey,
      mailbox: frank,
      userId: 'u-frank',
      messageBlob: messageBlobName(itemKey),
    });
  await until(
    'three poison messages',
    async () => (await p.archiver.queues.approximateDepth('deliver-poison')) === 3,
    60_000,
  );
  for (const [key, body] of saved) await blobs.getBlockBlobClient(messageBlobName(key)).uploadData(body);
});

after(async () => {
  await p?.stop();
});

test('failures show in status: failed deliveries, poison messages, degraded health; --once agrees', async () => {
  const s = await status();
  assert.equal(s.health.state, 'degraded');
  assert.equal(s.queues.deliver.poison, 3);
  assert.deepEqual(s.byMailbox[carol], { delivered: 0, failed: 6, pending: 0 });
  assert.equal(s.byMailbox[frank].failed, 3);
  assert.equal(s.totals.failed, 9);
  assert.ok(s.health.reasons.some((r: string) => /3 message\(s\) in poison/.test(r)));
  assert.ok(s.recentErrors.some((e: any) => e.mailbox === carol && /MailboxNotEnabledForRESTAPI/.test(e.reason)));
  const summary = await runSummary(p.archiver.status);
  assert.equal(summary.failed, s.totals.failed + 3, 'poison counts as failed in the summary');
  assert.equal(summary.delivered, s.totals.delivered);
  assert.equal(itemKeysIn(frank).length, 0);
});

test('POST /api/replay {"poison": true} moves every poison message back and the items then deliver', async () => {
  const res = await call('/api/replay', ADMIN_KEY, { method: 'POST', body: JSON.stringify({ poison: true }) });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), {
    poison: { moved: { 'poll-export': 0, unpack: 0, convert: 0, deliver: 3, 'reconcile-step': 0 }, total: 3 },
  });
  await until('frank delivered', async () => (await ledgerOf(frank)).every((r) => r.status === 'delivered'), 60_000);
  assert.deepEqual(new Set(itemKeysIn(frank)), new Set(frankItems));
  assert.equal(itemKeysIn(frank).length, 3, 'exactly one copy each');
  assert.deepEqual(
    (await ledgerOf(frank)).map((r) => r.status),
    ['delivered', 'delivered', 'delivered'],
  );
  const s = await status();
  assert.equal(s.queues.deliver.poison, 0);
  assert.equal(s.byMailbox[frank].delivered, 3);
});

test('POST /api/replay {"mailbox", "from", "to"} re-queues exactly the failed deliveries asked for', async () => {
  p.env.graph.mailbox(carol).user.hasMailbox = true;
  const failed = (await ledgerOf(carol))
    .filter((r) => r.status === 'failed')
    .sort((a, b) => a.itemTime!.localeCompare(b.itemTime!));
  assert.equal(failed.length, 6);
  const from = failed[1]!.itemTime!;
  const to = failed[4]!.itemTime!;
  const first = await call('/api/replay', ADMIN_KEY, {
    method: 'POST',
    body: JSON.stringify({ mailbox: carol, from, to }),
  });
  assert.equal(first.status, 202);
  assert.deepEqual(await first.json(), { failed: { requeued: 3, mailboxes: [carol] } });
  await until(
    'three for carol',
    async () => (await ledgerOf(carol)).filter((r) => r.status === 'delivered').length === 3,
    60_000,
  );
  assert.deepEqual(new Set(itemKeysIn(carol)), new Set(failed.slice(1, 4).map((r) => r.itemKey)));

  const rest = await call('/api/replay', ADMIN_KEY, { method: 'POST', body: JSON.stringify({ mailbox: carol }) });
  assert.deepEqual(await rest.json(), { failed: { requeued: 3, mailboxes: [carol] } });
  await until('all of carol', async () => (await ledgerOf(carol)).every((r) => r.status === 'delivered'), 60_000);
  assert.equal(itemKeysIn(carol).length, 6);
  const s = await status();
  assert.equal(s.health.state, 'ok', JSON.stringify(s.health));
  assert.equal(s.totals.failed, 0);
  assert.deepEqual(s.byMailbox[carol], { delivered: 6, failed: 0, pending: 0 });
  const summary = await runSummary(p.archiver.status);
  assert.equal(summary.failed, 0);
  assert.equal(summary.delivered, s.totals.delivered);
});
