import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { ItemDeliverer, type MailboxLimiter } from '../../shared/delivery/item-deliverer';
import { RetryLaterError } from '../../shared/errors';
import { StorageAccount } from '../../shared/store/storage-account';
import { ArchiveBlobs } from '../../shared/store/archive-blobs';
import { DeliveryLedger } from '../../shared/store/delivery-ledger';
import { ErrorLog } from '../../shared/store/error-log';
import { CONTAINERS } from '../../shared/store/names';
import type { MailboxTarget } from '../../shared/mailbox/mailbox-target';
import type { MailboxAttachments } from '../../shared/mailbox/attachment-source';
import { GRAPH_SETTLE_SECONDS } from '../../shared/mailbox/graph-client';

// The deliverer over real ledger and blobs (Azurite), with the mailbox and the limiter as stub
// ports: what a rescheduled attempt costs in mailbox requests.

let azurite: RunningAzurite;
let account: StorageAccount;

before(async () => {
  azurite = await startAzurite({ inMemory: true, silent: true });
  account = new StorageAccount({ connectionString: azurite.connectionString });
  await account.ensureCreated();
});

after(async () => {
  await azurite?.stop();
});

function recordingMailbox(opts: { createFails?: () => Error | undefined } = {}) {
  const calls: string[] = [];
  const target: MailboxTarget = {
    archiveFolder: async () => {
      calls.push('folder');
      return 'folder-1';
    },
    findByItemKey: async () => {
      calls.push('find');
      return undefined;
    },
    create: async () => {
      calls.push('create');
      const err = opts.createFails?.();
      if (err) throw err;
      return `msg-${calls.length}`;
    },
  };
  const attachments: MailboxAttachments = { list: async () => [], add: async () => undefined, requestsToAdd: () => 1 };
  return { calls, target, attachments };
}

/** Turns the first `n` runs away, as a spent pacing budget or a full set of slots does. */
function limiterRefusing(n: number): MailboxLimiter {
  let refused = 0;
  return {
    async run(_mailbox, fn) {
      if (refused < n) {
        refused++;
        throw new RetryLaterError(1, 'mailbox request budget spent');
      }
      return fn();
    },
  };
}

async function setUp(itemKey: string, mailbox: string) {
  const blobs = new ArchiveBlobs(account);
  const ledger = new DeliveryLedger(account);
  const messageBlob = `post/${itemKey.replace(/:/g, '_')}.json`;
  await blobs.putJsonOnce(CONTAINERS.messages, messageBlob, {
    itemKey,
    subject: 's',
    html: '<p>x</p>',
    text: 'x',
    attachments: [],
  });
  await ledger.recordPending({ itemKey, mailbox, kind: 'post' });
  return { blobs, ledger, message: { itemKey, mailbox, userId: 'u-1', messageBlob } };
}

test('an attempt turned away before any Graph request leaves the next one on the happy path', async () => {
  const { blobs, ledger, message } = await setUp('post:1:v1', 'a@x.example');
  const mailbox = recordingMailbox();
  const deliverer = new ItemDeliverer(
    blobs,
    ledger,
    mailbox.target,
    mailbox.attachments,
    limiterRefusing(2),
    new ErrorLog(account),
    GRAPH_SETTLE_SECONDS,
  );
  await assert.rejects(deliverer.handle(message), RetryLaterError);
  await assert.rejects(deliverer.handle(message), RetryLaterError);
  assert.equal(await deliverer.handle(message), 'delivered');
  // No look-up: the refused attempts never reached the mailbox.
  assert.deepEqual(mailbox.calls, ['folder', 'create']);
  const row = await ledger.get(message.mailbox, message.itemKey);
  assert.equal(row?.status, 'delivered');
  assert.equal(row?.attempts, 1);
});

test('an attempt that reached Graph makes the next one look the item up first', async () => {
  const { blobs, ledger, message } = await setUp('post:2:v1', 'b@x.example');
  let first = true;
  // The create's response is lost: Graph may have created the message.
  const mailbox = recordingMailbox({
    createFails: () =>
      first
        ? ((first = false), new RetryLaterError(5, 'Graph create message did not complete: socket hang up'))
        : undefined,
  });
  const deliverer = new ItemDeliverer(
    blobs,
    ledger,
    mailbox.target,
    mailbox.attachments,
    limiterRefusing(0),
    new ErrorLog(account),
    GRAPH_SETTLE_SECONDS,
  );
  await assert.rejects(deliverer.handle(message), RetryLaterError);
  assert.equal(await deliverer.handle(message), 'delivered');
  assert.deepEqual(mailbox.calls, ['folder', 'create', 'folder', 'find', 'create']);
});

test('a lost ledger row stays uncertain even when the attempt is turned away', async () => {
  const { blobs, ledger } = await setUp('post:3:v1', 'c@x.example');
  const message = { itemKey: 'post:3:v1', mailbox: 'd@x.example', userId: 'u-2', messageBlob: 'post/post_3_v1.json' };
  const mailbox = recordingMailbox();
  const deliverer = new ItemDeliverer(
    blobs,
    ledger,
    mailbox.target,
    mailbox.attachments,
    limiterRefusing(1),
    new ErrorLog(account),
    GRAPH_SETTLE_SECONDS,
  );
  await assert.rejects(deliverer.handle(message), RetryLaterError);
  assert.equal(await deliverer.handle(message), 'delivered');
  assert.deepEqual(mailbox.calls, ['folder', 'find', 'create']);
});
