import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from '../../../dev/azurite';
import { INDEX_PATCH_WRITTEN_FOR, indexPatchMismatch, installedAzuriteVersions } from '../../../dev/azurite-versions';
import { compiled, repoRoot } from '../../support/repo-root';

/**
 * The same storage script against Azurite as published and Azurite with the index preload: every
 * observable answer must be the same. The preload may change what an operation costs, not what it does.
 */
async function storageScript(connectionString: string): Promise<unknown[]> {
  const seen: unknown[] = [];

  // Queues: expiry, visibility, dequeue counts, pop receipts, deletes and updates, two queues.
  const queues = ['work', 'other'].map((name) => new QueueClient(connectionString, name));
  for (const q of queues) await q.create();
  for (let i = 0; i < 40; i++) {
    await queues[i % 2]!.sendMessage(`m${i}`, { messageTimeToLive: i % 5 === 0 ? 1 : 3600 });
  }
  await sleep(1500);
  const [work] = queues as [QueueClient, QueueClient];
  const first = (await work.receiveMessages({ numberOfMessages: 8, visibilityTimeout: 30 })).receivedMessageItems;
  seen.push(first.map((m) => [m.messageText, m.dequeueCount]));
  for (const m of first.slice(0, 3)) await work.deleteMessage(m.messageId, m.popReceipt);
  const stale = await work.deleteMessage(first[0]!.messageId, first[0]!.popReceipt).then(
    () => 'deleted',
    (e: { statusCode?: number }) => e.statusCode,
  );
  seen.push(['delete twice', stale]);
  for (const m of first.slice(3, 5)) await work.updateMessage(m.messageId, m.popReceipt, `${m.messageText}-updated`, 0);
  const second = (await work.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 })).receivedMessageItems;
  seen.push(second.map((m) => [m.messageText, m.dequeueCount]));
  seen.push((await queues[1].peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText));
  for (const q of queues) seen.push((await q.getProperties()).approximateMessagesCount);

  // Blobs: the same names in two containers, prefixes, overwrite, delete, leases.
  const service = BlobServiceClient.fromConnectionString(connectionString);
  const containers = ['raw', 'messages'].map((name) => service.getContainerClient(name));
  for (const c of containers) await c.create();
  for (let i = 0; i < 30; i++) {
    const c = containers[i % 2]!;
    await c.getBlockBlobClient(`chats/${i % 3}/v${i}.json`).upload(`{"i":${i}}`, 8);
  }
  await containers[0]!.getBlockBlobClient('chats/0/v0.json').upload('{"i":"again"}', 13);
  await containers[0]!.getBlockBlobClient('chats/1/v4.json').delete();
  const lease = containers[1]!.getBlockBlobClient('chats/1/v1.json').getBlobLeaseClient();
  await lease.acquireLease(15);
  const leasedWrite = await containers[1]!
    .getBlockBlobClient('chats/1/v1.json')
    .upload('x', 1)
    .then(
      () => 'written',
      (e: { statusCode?: number }) => e.statusCode,
    );
  seen.push(['write under lease', leasedWrite]);
  for (const c of containers) {
    for (const prefix of ['chats/0/', 'chats/1/', 'chats/']) {
      const names: string[] = [];
      for await (const b of c.listBlobsFlat({ prefix }))
        names.push(`${b.name}:${b.properties.contentLength}:${b.properties.leaseState}`);
      seen.push([c.containerName, prefix, names]);
    }
  }
  seen.push((await containers[0]!.getBlockBlobClient('chats/0/v0.json').downloadToBuffer()).toString());
  const missing = await containers[0]!
    .getBlockBlobClient('chats/1/v4.json')
    .downloadToBuffer()
    .then(
      () => 'found',
      (e: { statusCode?: number }) => e.statusCode,
    );
  seen.push(['deleted blob', missing]);

  // Tables: point reads, partition queries, merges and deletes.
  const table = TableClient.fromConnectionString(connectionString, 'ledger', { allowInsecureConnection: true });
  await table.createTable();
  for (let i = 0; i < 30; i++)
    await table.upsertEntity({ partitionKey: `p${i % 3}`, rowKey: `r${String(i).padStart(2, '0')}`, n: i });
  await table.updateEntity({ partitionKey: 'p1', rowKey: 'r04', n: 400 }, 'Merge');
  await table.deleteEntity('p2', 'r05');
  seen.push((await table.getEntity<{ n: number }>('p1', 'r04')).n);
  const rows: string[] = [];
  for await (const e of table.listEntities<{ n: number }>({
    queryOptions: { filter: `PartitionKey eq 'p2' and n ge 5` },
  }))
    rows.push(`${e.rowKey}:${e.n}`);
  seen.push(rows);
  return seen;
}

describe('Azurite index preload', { timeout: 120_000 }, () => {
  const running: RunningAzurite[] = [];
  let published: unknown[];
  let patched: unknown[];

  before(async () => {
    const plain = await startAzurite({ inMemory: true, indexPatch: false });
    running.push(plain);
    const fast = await startAzurite({ inMemory: true, indexPatch: true });
    running.push(fast);
    [published, patched] = await Promise.all([
      storageScript(plain.connectionString),
      storageScript(fast.connectionString),
    ]);
  });
  after(async () => {
    await Promise.all(running.map((a) => a.stop()));
  });

  it('answers every queue, blob and table call as Azurite as published does', () => {
    assert.deepEqual(patched, published);
    // The script saw real behaviour, not an empty run: expired messages gone, and the rest there.
    assert.deepEqual(published[1], ['delete twice', 404]);
    assert.deepEqual(published.at(-1), ['r08:8', 'r11:11', 'r14:14', 'r17:17', 'r20:20', 'r23:23', 'r26:26', 'r29:29']);
    const firstBatch = published[0] as Array<[string, number]>;
    assert.equal(firstBatch.length, 8);
    assert.ok(
      firstBatch.every(([text]) => !['m0', 'm10', 'm20', 'm30'].includes(text)),
      'messages past their time-to-live are not delivered',
    );
  });
});

describe('Azurite index preload: the versions it was written for', () => {
  it('loads on the Azurite and LokiJS it was written for', () => {
    assert.equal(
      indexPatchMismatch({ azurite: '3.35.0', lokijs: '1.5.12' }, { azurite: '3.35.0', lokijs: '1.5.12' }),
      undefined,
    );
  });

  it('on any other Azurite or LokiJS it loads nothing, and the warning names the version found and the one expected', () => {
    const writtenFor = { azurite: '3.35.0', lokijs: '1.5.12' };
    const azurite = indexPatchMismatch({ azurite: '3.36.0', lokijs: '1.5.12' }, writtenFor);
    assert.ok(azurite, 'a newer Azurite is refused');
    assert.match(azurite, /azurite 3\.36\.0 \(written for 3\.35\.0\)/);
    assert.doesNotMatch(azurite, /lokijs/, 'only what differs is named');
    const loki = indexPatchMismatch({ azurite: '3.35.0', lokijs: '1.5.11' }, writtenFor);
    assert.match(loki ?? '', /lokijs 1\.5\.11 \(written for 1\.5\.12\)/);
    const both = indexPatchMismatch({ azurite: '3.34.0', lokijs: '1.6.0' }, writtenFor);
    assert.match(both ?? '', /azurite 3\.34\.0 \(written for 3\.35\.0\).*lokijs 1\.6\.0 \(written for 1\.5\.12\)/);
    assert.ok(!(both ?? '').includes('\n'), 'one line');
  });

  it('the installed Azurite and LokiJS are the ones it was written for, and package.json pins that Azurite exactly', () => {
    // Otherwise every test here would run Azurite unpatched (and the comparison above would prove nothing).
    assert.deepEqual(installedAzuriteVersions(), INDEX_PATCH_WRITTEN_FOR);
    const pkg = JSON.parse(readFileSync(path.resolve(repoRoot, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    assert.equal(pkg.devDependencies.azurite, INDEX_PATCH_WRITTEN_FOR.azurite);
  });

  it('preloaded on those versions, it patches LokiJS and prints nothing', () => {
    const azuriteDir = path.dirname(require.resolve('azurite/package.json'));
    const probe = `const Loki = require(${JSON.stringify(require.resolve('lokijs', { paths: [azuriteDir] }))});
      const fresh = Object.getOwnPropertyDescriptor(Loki.Collection.prototype, 'removeBatch').value.toString();
      process.stdout.write(String(fresh.includes('docs.length === 1')));`;
    const run = spawnSync(process.execPath, ['-r', compiled('dev/azurite-index-patch.js'), '-e', probe], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'true', "removeBatch is the preload's");
    assert.equal(run.stderr, '');
  });
});
