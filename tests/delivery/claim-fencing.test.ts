import { until } from '../support/until';
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { azuriteConnectionString } from '../../dev/azurite';
import { ClaimLostError, RetryLaterError } from '../../shared/errors';
import { StorageAccount } from '../../shared/store/storage-account';
import { attachmentLines, deliverUntilSettled, DeliveryRig } from './fixtures/delivery-rig';
import { CuttableLink } from './fixtures/cuttable-link';

// One (mailbox, item) pair, two workers. A claim is renewed while its worker runs; a worker that
// cannot renew stops writing before its claim can lapse; a second worker then takes the pair over,
// and whatever the first one does late changes nothing, in the mailbox or in the ledger.

const FILES = [
  { name: 'image.png', size: 2560 },
  { name: 'image.png', size: 1536 },
];
const CLAIM_SECONDS = 3;

let rig: DeliveryRig;
let links: CuttableLink[] = [];
let viaLinks: StorageAccount;
let caseNo = 0;

before(async () => {
  rig = await DeliveryRig.start();
  // Worker A reaches storage through links the test can cut; worker B directly.
  links = await Promise.all(
    [rig.azurite.blobPort, rig.azurite.queuePort, rig.azurite.tablePort].map((port) => CuttableLink.to(port)),
  );
  viaLinks = new StorageAccount({
    connectionString: azuriteConnectionString({
      blobPort: links[0]!.port,
      queuePort: links[1]!.port,
      tablePort: links[2]!.port,
    }),
  });
});
after(async () => {
  await Promise.all(links.map((l) => l.close()));
  await rig?.stop();
});
beforeEach(() => {
  rig.graph.reset();
  for (const link of links) link.restore();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it(
  'a claim is renewed while its attempt outlasts it, and a second worker meanwhile is turned away',
  { timeout: 60_000 },
  async () => {
    const itemKey = `post:renew${++caseNo}:2026-11-20T10:00:00.000Z`;
    const { message } = await rig.item(itemKey, FILES);
    // Graph takes twice the claim's length to create the message.
    rig.graph.faults.inject({
      kind: 'slow',
      delayMs: 2 * CLAIM_SECONDS * 1000,
      count: 1,
      match: { method: 'POST', pathIncludes: '/messages' },
    });
    const a = rig.deliverer({ claimSeconds: CLAIM_SECONDS });
    const b = rig.deliverer({ claimSeconds: CLAIM_SECONDS });
    const first = a.deliverer.handle(message);
    await sleep((CLAIM_SECONDS + 1) * 1000);
    const row = await a.ledger.get(message.mailbox, itemKey);
    assert.equal(row?.status, 'inProgress');
    assert.ok(Date.parse(row!.claimedUntil!) > Date.now(), 'the claim was renewed past its first end');
    await assert.rejects(
      b.deliverer.handle(message),
      (err: Error) => err instanceof RetryLaterError && /another worker holds/.test(err.message),
    );
    assert.equal(await first, 'delivered');
    assert.equal(await b.deliverer.handle(message), 'alreadyDelivered');
    assert.equal(rig.copiesOf(itemKey).length, 1);
    const done = await a.ledger.get(message.mailbox, itemKey);
    assert.equal(done?.status, 'delivered');
    assert.equal(done?.attempts, 1, 'the second worker never took the claim');
  },
);

it(
  'a worker stalled past its claim stops writing; the next owner finishes; its late writes change nothing',
  { timeout: 90_000 },
  async () => {
    const itemKey = `post:stale${++caseNo}:2026-11-20T10:00:00.000Z`;
    const { message, sources } = await rig.item(itemKey, FILES);
    // A's create is stored at once, but its answer is held far past A's claim.
    const slowAnswer = rig.graph.faults.inject({
      kind: 'slow',
      phase: 'after',
      delayMs: 8000,
      count: 1,
      match: { method: 'POST', pathIncludes: '/messages' },
    });
    const a = rig.deliverer({ storage: viaLinks, claimSeconds: CLAIM_SECONDS });
    const b = rig.deliverer({ claimSeconds: CLAIM_SECONDS });

    const stale = a.deliverer.handle(message).then(
      () => undefined,
      (err: unknown) => err,
    );
    await until('A created the message', () => slowAnswer.fired === 1 && rig.copiesOf(itemKey).length === 1);
    const createdAt = Date.now();
    // A loses its path to Table storage: it can no longer renew its claim (its file blobs it still reads).
    links[2]!.sever();
    const staleClaim = {
      etag: (await b.ledger.get(message.mailbox, itemKey))!.etag,
      claimedUntil: new Date(),
      groups: ['all'],
    };
    await until(
      "A's claim lapsed",
      async () => Date.parse((await b.ledger.get(message.mailbox, itemKey))!.claimedUntil ?? '') < Date.now(),
    );
    const writesBefore = { ...rig.graph.stats.requests };

    // B takes the pair over and finishes it: the look-up finds A's message and adds its files.
    const settled = await deliverUntilSettled(b.deliverer, message);
    assert.equal(settled.outcome, 'foundInMailbox');
    const owned = (await b.ledger.get(message.mailbox, itemKey))!;
    assert.equal(owned.status, 'delivered');
    assert.equal(owned.attempts, 2);

    // A hears its create answered only now, and gets storage back after that: it must give up
    // without a trace, having stopped on its own before its claim could lapse.
    await until("A's create answer was sent", () => Date.now() > createdAt + 8000 + 500);
    for (const link of links) link.restore();
    const outcome = await stale;
    assert.ok(outcome instanceof ClaimLostError, `A gave up because it lost its claim (got ${String(outcome)})`);
    await assert.rejects(
      a.ledger.markDelivered(message.mailbox, itemKey, 'stale-message-id', staleClaim),
      ClaimLostError,
    );
    await assert.rejects(a.ledger.markFailed(message.mailbox, itemKey, 'stale failure', staleClaim), ClaimLostError);
    await assert.rejects(a.ledger.release(message.mailbox, itemKey, staleClaim, { attempts: 0 }), ClaimLostError);
    const after = (await b.ledger.get(message.mailbox, itemKey))!;
    assert.equal(after.etag, owned.etag, 'the row is as the new owner left it');
    assert.equal(after.graphMessageId, owned.graphMessageId);

    // The mailbox: one message, each file once; A sent nothing after B began.
    const copies = rig.copiesOf(itemKey);
    assert.equal(copies.length, 1);
    assert.equal(owned.graphMessageId, copies[0]!.id);
    assert.equal(attachmentLines(copies[0]!).length, sources.size);
    assert.equal(rig.graph.stats.requests['messages.create'], 1);
    assert.equal(rig.graph.stats.requests['attachments.create'], FILES.length, 'only the new owner attached the files');
    assert.equal(
      (rig.graph.stats.requests['attachments.create'] ?? 0) - (writesBefore['attachments.create'] ?? 0),
      FILES.length,
    );
  },
);
