import './fixtures/short-graph-timeout';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FaultKind, FaultSpec } from '../../dev/doubles/graph/server';
import { attachmentIdentity } from '../../shared/mailbox/attachment-identity';
import { GRAPH_TIMEOUT_MS } from './fixtures/short-graph-timeout';
import { attachmentLines, deliverUntilSettled, DeliveryRig, MB } from './fixtures/delivery-rig';

// Graph fails after doing the work: the write is stored, then the answer is a 504 or 503 with no
// Retry-After, a reset, or arrives after the client gave up. Whatever write that happens to, the
// delivery ends with one message holding each file exactly once, byte for byte.

// Two screenshots of one name and an upload-session file of two chunks (3.2 MB + the rest).
const FILES = [
  { name: 'image.png', size: 2560 },
  { name: 'image.png', size: 1536 },
  { name: 'recording.bin', size: Math.round(3.3 * MB) },
];

const WRITES: Array<{ write: string; match: FaultSpec['match']; skip?: number }> = [
  // The create is the first POST whose path holds '/messages' (the folder's is '/childFolders').
  { write: 'message create', match: { method: 'POST', pathIncludes: '/messages' } },
  { write: 'folder create', match: { method: 'POST', pathIncludes: '/childFolders' } },
  // The second image.png: the failure falls between two files of one name.
  { write: 'attachment POST', match: { method: 'POST', pathIncludes: '/attachments' }, skip: 1 },
  { write: 'upload-session create', match: { method: 'POST', pathIncludes: '/createUploadSession' } },
  { write: 'upload chunk (not the last)', match: { method: 'PUT', pathIncludes: '/upload/sessions/' } },
  { write: 'upload chunk (the last)', match: { method: 'PUT', pathIncludes: '/upload/sessions/' }, skip: 1 },
];
const AFTER_FAULTS: Array<{ kind: FaultKind; retryAfterSeconds?: number; label: string }> = [
  { kind: '504', label: '504' },
  { kind: '503', label: '503' },
  // The SDK's own retry would send this one again at once.
  { kind: '503', retryAfterSeconds: 1, label: '503 with Retry-After: 1' },
  { kind: 'reset', label: 'reset' },
  { kind: 'slow', label: 'an answer later than the client time-out' },
];

let rig: DeliveryRig;
let caseNo = 0;

before(async () => {
  rig = await DeliveryRig.start();
});
after(() => rig?.stop());
beforeEach(() => {
  rig.graph.reset();
  rig.freshMailbox();
});

function expectedLines(message: { itemKey: string }, sources: Map<string, string>): string[] {
  return [...sources.entries()].map(([fileId, sha], i) => `${attachmentIdentity({ fileId }, i)} ${sha}`).sort();
}

async function deliverThrough(fault: FaultSpec, files = FILES) {
  const itemKey = `post:case${++caseNo}:2026-11-20T10:00:00.000Z`;
  const { message, sources } = await rig.item(itemKey, files);
  const injected = rig.graph.faults.inject({ count: 1, ...fault });
  const { deliverer, ledger } = rig.deliverer();
  const settled = await deliverUntilSettled(deliverer, message);
  return { itemKey, message, sources, injected, settled, row: await ledger.get(message.mailbox, itemKey) };
}

describe('a write whose answer is lost after Graph stored it', { timeout: 240_000 }, () => {
  for (const { write, match, skip } of WRITES) {
    for (const { kind, retryAfterSeconds, label } of AFTER_FAULTS) {
      it(`${write}, ${label} after the work: one message, each file once`, async () => {
        const { itemKey, message, sources, injected, settled, row } = await deliverThrough({
          kind,
          phase: 'after',
          match,
          skip,
          retryAfterSeconds,
          delayMs: GRAPH_TIMEOUT_MS + 1000,
        });
        assert.equal(injected.fired, 1, 'the fault struck');
        assert.equal(rig.graph.stats.faultsAfterWork, 1, 'after the write was carried out');
        const copies = rig.copiesOf(itemKey);
        assert.equal(copies.length, 1, 'one message');
        assert.deepEqual(attachmentLines(copies[0]!), expectedLines(message, sources), 'each file once, byte for byte');
        assert.equal(rig.graph.stats.requests['messages.create'], 1, 'the message was never created a second time');
        const folders = rig.graph.mailbox(message.mailbox).folders.filter((f) => f.displayName === 'RingCentral');
        assert.equal(folders.length, 1, 'one archive folder');
        // A second folder create would be refused (ErrorFolderExists) and hide a blind re-send.
        assert.equal(
          rig.graph.stats.requests['folders.create'],
          1,
          'the folder was created once: the retry looked it up',
        );
        assert.equal(row?.status, 'delivered');
        assert.equal(row?.graphMessageId, copies[0]!.id);
        if (write.startsWith('upload chunk')) {
          // A chunk's outcome is settled within the attempt: the session says where to resume.
          assert.ok(
            (rig.graph.stats.requests['upload.get'] ?? 0) >= 1,
            'the session was asked where to resume before anything was sent again',
          );
        } else {
          assert.ok(settled.attempts >= 2, `the lost answer made the delivery retry (${settled.reasons.join(' | ')})`);
          if (write !== 'folder create')
            assert.equal(rig.graph.stats.requests['messages.get'], 1, 'the retry looked the item up before writing');
        }
      });
    }
  }
});

describe('files that share a name, or a name and a size', { timeout: 120_000 }, () => {
  const cases: Array<{ label: string; files: Array<{ name: string; size: number }>; skip: number }> = [
    {
      label: 'three files of one name, a failure after the second',
      files: [
        { name: 'image.png', size: 2560 },
        { name: 'image.png', size: 1536 },
        { name: 'image.png', size: 4096 },
      ],
      skip: 1,
    },
    {
      label: 'three files of one name, a failure after the third',
      files: [
        { name: 'image.png', size: 2560 },
        { name: 'image.png', size: 1536 },
        { name: 'image.png', size: 4096 },
      ],
      skip: 2,
    },
    {
      label: 'two files of one name and one size, a failure after the first',
      files: [
        { name: 'image.png', size: 2048 },
        { name: 'image.png', size: 2048 },
      ],
      skip: 0,
    },
    // Graph lists attachments in no promised order (the double: largest first), so a match on
    // name and size would take the larger file for the smaller one and add the larger twice.
    {
      label: 'two files of one name, the smaller first, a failure after the second of three',
      files: [
        { name: 'image.png', size: 1536 },
        { name: 'image.png', size: 2560 },
        { name: 'notes.txt', size: 100 },
      ],
      skip: 1,
    },
  ];
  for (const { label, files, skip } of cases) {
    it(label, async () => {
      const { itemKey, message, sources, injected } = await deliverThrough(
        { kind: '504', phase: 'after', match: { method: 'POST', pathIncludes: '/attachments' }, skip },
        files,
      );
      assert.equal(injected.fired, 1);
      const copies = rig.copiesOf(itemKey);
      assert.equal(copies.length, 1);
      assert.deepEqual(attachmentLines(copies[0]!), expectedLines(message, sources));
      const names = copies[0]!.attachments.map((a) => a.name);
      assert.ok(names.filter((n) => n === 'image.png').length >= 2, 'files really share a name');
      assert.equal(
        rig.graph.stats.requests['attachments.create'],
        files.length,
        'each file was posted once: the retry added none twice',
      );
    });
  }
});

describe('which failures are re-sent without a look-up', { timeout: 60_000 }, () => {
  it('a 429 on a create is re-sent at once: Graph refused it before doing anything', async () => {
    const { itemKey, settled } = await deliverThrough(
      { kind: '429', retryAfterSeconds: 1, match: { method: 'POST', pathIncludes: '/messages' } },
      [],
    );
    assert.equal(settled.attempts, 1, 'the client retried in process');
    assert.equal(rig.graph.stats.requests['messages.create'], 2);
    assert.equal(rig.graph.stats.requests['messages.get'] ?? 0, 0, 'no look-up was needed');
    assert.equal(rig.copiesOf(itemKey).length, 1);
  });

  it('a 503 before any work is not re-sent blindly: the next attempt looks first', async () => {
    const { itemKey, settled } = await deliverThrough(
      { kind: '503', match: { method: 'POST', pathIncludes: '/messages' } },
      [],
    );
    assert.ok(settled.attempts >= 2);
    assert.match(settled.reasons[0]!, /Graph answered 503 to create message/);
    assert.equal(rig.graph.stats.requests['messages.create'], 2, 'one create per attempt');
    assert.equal(
      rig.graph.stats.requests['messages.get'],
      1,
      'the second attempt looked the item up before creating it',
    );
    assert.equal(rig.copiesOf(itemKey).length, 1);
  });
});
