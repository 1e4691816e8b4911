import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GraphMailboxInventory } from '../../shared/reconcile/mailbox-inventory';
import { GraphAttachments } from '../../shared/mailbox/graph-attachments';
import { reconciliationSummary, type Reconciliation } from '../../shared/reconcile/reconciler';
import { reconcileByJob } from './fixtures/job-rig';
import { deliverUntilSettled, DeliveryRig, MAILBOX } from '../delivery/fixtures/delivery-rig';

// Reconciliation looks inside each delivered message: a file that never arrived, or arrived twice,
// is reported with the item it belongs to, although the message itself is there exactly once.

const RANGE = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
const FILES = [
  { name: 'image.png', size: 2048 },
  { name: 'image.png', size: 2048 },
  { name: 'notes.txt', size: 300 },
];
const keys = {
  intact: 'post:intact:2026-11-20T10:00:00.000Z',
  lacking: 'post:lacking:2026-11-20T10:00:00.000Z',
  doubled: 'post:doubled:2026-11-20T10:00:00.000Z',
  plain: 'post:plain:2026-11-20T10:00:00.000Z',
};

let rig: DeliveryRig;
let result: Reconciliation;

before(async () => {
  rig = await DeliveryRig.start();
  const { deliverer } = rig.deliverer();
  for (const [name, itemKey] of Object.entries(keys)) {
    const { message } = await rig.item(itemKey, name === 'plain' ? [] : FILES);
    await deliverUntilSettled(deliverer, message);
  }
  // Break two messages the way a faulty importer would, through Graph itself.
  const graph = rig.doubles.graphClient();
  const lacking = rig.copiesOf(keys.lacking)[0]!;
  const second = lacking.attachments.find((a) => a.contentId?.startsWith('rcfile.1.'))!;
  await graph.api(`/users/${MAILBOX.id}/messages/${lacking.id}/attachments/${second.id}`).delete();
  const doubled = rig.copiesOf(keys.doubled)[0]!;
  const first = doubled.attachments[0]!;
  await graph.api(`/users/${MAILBOX.id}/messages/${doubled.id}/attachments`).post({
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: first.name,
    contentType: first.contentType,
    contentId: first.contentId,
    contentBytes: first.bytes.toString('base64'),
  });
  result = await reconcileByJob(
    rig.storage,
    new GraphMailboxInventory(
      rig.doubles.graphClient(),
      'RingCentral',
      new GraphAttachments(rig.doubles.graphClient()),
    ),
    RANGE,
  );
});

after(() => rig?.stop());

test('every message is there once, but one lacks a file and one holds a file twice', () => {
  assert.equal(result.expected, 4);
  assert.equal(result.found, 4);
  assert.equal(result.missing, 0);
  assert.equal(result.duplicates, 0);
  assert.equal(result.attachmentsMissing, 1);
  assert.equal(result.attachmentsDuplicated, 1);
  assert.deepEqual(result.attachmentsMissingKeys, [`${MAILBOX.mail} ${keys.lacking}`]);
  assert.deepEqual(result.attachmentsDuplicatedKeys, [`${MAILBOX.mail} ${keys.doubled}`]);
  assert.equal(result.complete, false, 'a file problem makes the range incomplete');
});

test('the short form printed by --reconcile carries the file counts and keys', () => {
  const summary = reconciliationSummary(result);
  assert.equal(summary.attachmentsMissing, 1);
  assert.equal(summary.attachmentsDuplicated, 1);
  assert.deepEqual(summary.attachmentsMissingKeys, result.attachmentsMissingKeys);
  assert.equal(summary.complete, false);
});

test('only messages that should carry files cost an attachment listing', () => {
  // Three items with files, one without: three listings, not four.
  assert.equal(rig.graph.stats.requests['attachments.get'], 3);
});
