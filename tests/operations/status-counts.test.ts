import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { createArchiver, type Archiver } from '../../shared/composition';
import { loadConfig } from '../../shared/config';
import { DeliveryLedger } from '../../shared/store/delivery-ledger';
import { ItemLedger, type ItemRow } from '../../shared/store/item-ledger';
import { fullScanTotals } from './fixtures/full-scan-status';

// The counts status reads are kept by the ledgers as rows change, in the same transaction as each
// row. Whatever is repeated - a window unpacked twice, a convert run again, a pending row written
// again, a claim taken over, a failed delivery replayed - they agree with a scan of every row.

let azurite: RunningAzurite;
let archiver: Archiver;

const day = (d: number, h = 10) => new Date(Date.UTC(2026, 10, d, h)).toISOString();
const items: ItemRow[] = Array.from({ length: 250 }, (_, i) => ({
  itemKey: `post:p${i}:${day(1 + (i % 5))}`,
  kind: i % 10 === 0 ? 'task' : 'post',
  state: 'captured',
  itemTime: day(1 + (i % 5)),
}));

before(async () => {
  azurite = await startAzurite({ inMemory: true, silent: true });
  archiver = createArchiver(
    loadConfig({
      AzureWebJobsStorage: azurite.connectionString,
      RINGCENTRAL_SERVER_URL: 'https://rc.invalid',
      RINGCENTRAL_CLIENT_ID: 'x',
      RINGCENTRAL_CLIENT_SECRET: 'x',
      RINGCENTRAL_JWT: 'x',
      GRAPH_TENANT_ID: 't',
      GRAPH_CLIENT_ID: 'c',
      GRAPH_CLIENT_SECRET: 's',
    }),
  );
  await archiver.storage.ensureCreated();
});
after(() => azurite?.stop());

async function agree(what: string): Promise<Awaited<ReturnType<typeof fullScanTotals>>> {
  const kept = await archiver.status.totals();
  const scanned = await fullScanTotals(archiver.storage);
  assert.deepEqual(kept.totals, scanned.totals, what);
  assert.deepEqual(kept.byMailbox, scanned.byMailbox, what);
  assert.deepEqual(kept.byDay, scanned.byDay, what);
  return scanned;
}

test('items: a window unpacked twice and converted in between counts each item once', async () => {
  const ledger = new ItemLedger(archiver.storage);
  await ledger.recordMany(items);
  await Promise.all(items.slice(0, 100).map((row) => ledger.record({ ...row, state: 'converted' })));
  // The same window again (a re-run), then the converts again, and one malformed record twice.
  await ledger.recordMany(items);
  await Promise.all(items.slice(0, 150).map((row) => ledger.record({ ...row, state: 'converted' })));
  await ledger.record({ itemKey: 'post:bad:invalid', kind: 'post', state: 'invalid', reason: 'no creator' });
  await ledger.record({ itemKey: 'post:bad:invalid', kind: 'post', state: 'invalid', reason: 'no creator' });
  const scanned = await agree('items');
  assert.equal(scanned.totals.captured, 250);
  assert.equal(scanned.totals.converted, 150);
  assert.equal(scanned.totals.invalid, 1);
});

test('deliveries: repeated pending rows, concurrent workers, lost claims and a replayed failure count once', async () => {
  const ledgers = [new DeliveryLedger(archiver.storage), new DeliveryLedger(archiver.storage)];
  const mailboxes = ['a@count.example', 'b@count.example'];
  const rows = items
    .slice(0, 60)
    .flatMap((item) =>
      mailboxes.map((mailbox) => ({ itemKey: item.itemKey, mailbox, kind: item.kind, itemTime: item.itemTime })),
    );
  // Convert writes every pending row twice, from two workers at once (one mailbox partition each time).
  await Promise.all(rows.flatMap((row) => ledgers.map((l) => l.recordPending(row))));
  await agree('pending rows');
  // Two workers race for every pair: one claim wins, it is delivered (a few fail); the loser gets nothing.
  await Promise.all(
    rows.map(async (row, i) => {
      const claims = await Promise.all(ledgers.map((l) => l.claim(row.mailbox, row.itemKey, { itemKey: row.itemKey })));
      const won = claims.findIndex((c) => c.outcome === 'claimed');
      const claim = claims[won];
      if (!claim || claim.outcome !== 'claimed') return;
      if (i % 10 === 0) await ledgers[won]!.markFailed(row.mailbox, row.itemKey, 'quota', claim);
      else await ledgers[won]!.markDelivered(row.mailbox, row.itemKey, `m-${i}`, claim);
      // A stale repeat of the same ending is refused and counts nothing.
      await assert.rejects(ledgers[won]!.markDelivered(row.mailbox, row.itemKey, `m-${i}`, claim));
    }),
  );
  let scanned = await agree('after delivery');
  assert.equal(scanned.totals.failed, 12);
  assert.equal(scanned.totals.delivered, 108);
  // Replay: the failed ones are claimed again and delivered; a guest is recorded not delivered twice.
  for (const [i, row] of rows.entries()) {
    if (i % 10 !== 0) continue;
    const claim = await ledgers[0]!.claim(row.mailbox, row.itemKey, { itemKey: row.itemKey });
    assert.equal(claim.outcome, 'claimed');
    if (claim.outcome === 'claimed') await ledgers[0]!.markDelivered(row.mailbox, row.itemKey, `r-${i}`, claim);
  }
  await ledgers[0]!.recordNotDelivered({
    itemKey: items[0]!.itemKey,
    mailbox: 'guest:g1',
    kind: 'post',
    itemTime: items[0]!.itemTime,
    reason: 'guest',
  });
  await ledgers[1]!.recordNotDelivered({
    itemKey: items[0]!.itemKey,
    mailbox: 'guest:g1',
    kind: 'post',
    itemTime: items[0]!.itemTime,
    reason: 'guest',
  });
  scanned = await agree('after replay');
  assert.equal(scanned.totals.failed, 0);
  assert.equal(scanned.totals.delivered, 120);
  assert.equal(scanned.totals.notDelivered, 1);
  assert.equal(scanned.totals.mailboxes, 2);
});
