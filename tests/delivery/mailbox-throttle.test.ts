import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { CountingStorageProxy } from '../../dev/storage-proxy';
import { MailboxThrottle } from '../../shared/delivery/mailbox-throttle';
import { MailboxSlots, type MailboxSlotsOptions } from '../../shared/delivery/mailbox-slots';
import { MailboxPacer, graphMailboxPacing, type PacingLimits } from '../../shared/delivery/mailbox-pacer';
import { RetryLaterError } from '../../shared/errors';
import { StorageAccount } from '../../shared/store/storage-account';
import { CONTAINERS, TABLES } from '../../shared/store/names';

const MB = 1024 * 1024;
// Production's default budget (GRAPH_MAILBOX_PACING 9700/600).
const GRAPH_PACING = graphMailboxPacing({ requestsPerWindow: 9_700, requestWindowMs: 600_000 });

/** Runs `fn` through the throttle, rescheduling on RetryLaterError as the queue would (sooner, for test time). */
async function untilDone<T>(
  throttle: MailboxThrottle,
  mailbox: string,
  fn: () => Promise<T>,
  stats: { reschedules: number },
): Promise<T> {
  for (;;) {
    try {
      return await throttle.run(mailbox, fn);
    } catch (err) {
      if (!(err instanceof RetryLaterError)) throw err;
      stats.reschedules += 1;
      await sleep(100 + Math.random() * 200);
    }
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; done: boolean } {
  let settle!: () => void;
  const promise = new Promise<void>((r) => (settle = r));
  const d = {
    promise,
    done: false,
    resolve: () => {
      d.done = true;
      settle();
    },
  };
  return d;
}

describe('MailboxThrottle on Azurite', { timeout: 120_000 }, () => {
  let azurite: RunningAzurite;
  let account: StorageAccount;
  // The workers reach Azurite through a counting proxy, so their storage cost is measured at the wire.
  const proxy = new CountingStorageProxy();
  let proxied: string;
  /** One worker process's throttle, wired as shared/composition.ts wires it. */
  const worker = (opts: { slots?: MailboxSlotsOptions; pacing?: PacingLimits } = {}): MailboxThrottle => {
    const storage = new StorageAccount({ connectionString: proxied });
    return new MailboxThrottle(
      new MailboxSlots(storage, opts.slots),
      new MailboxPacer(storage.table(TABLES.rateLimit), opts.pacing ?? GRAPH_PACING),
    );
  };

  before(async () => {
    azurite = await startAzurite();
    account = new StorageAccount({ connectionString: azurite.connectionString });
    await account.ensureCreated();
    proxied = await proxy.start(azurite.connectionString);
  });
  after(async () => {
    await proxy.stop();
    await azurite.stop();
  });

  it('never lets two workers run more than 4 requests at once for one mailbox', async () => {
    const [a, b] = [worker(), worker()];
    proxy.reset();
    const running = [0, 0];
    let maxRunning = 0;
    let bothAtOnce = false;
    const stats = { reschedules: 0 };
    // Each worker's first request holds its slot until the other worker has one running too, so
    // the two share the 4 slots at some moment by construction, however the machine schedules
    // them. No deadlock: a held first request takes one slot, and the other worker gets one of
    // the rest once this worker's other requests are done with them.
    const started = [deferred(), deferred()];
    const task = (w: number) => async (): Promise<void> => {
      running[w]! += 1;
      maxRunning = Math.max(maxRunning, running[0]! + running[1]!);
      bothAtOnce ||= running[0]! > 0 && running[1]! > 0;
      const first = !started[w]!.done;
      started[w]!.resolve();
      if (first) await started[1 - w]!.promise;
      await sleep(20 + Math.random() * 60);
      running[w]! -= 1;
    };
    const items = 80;
    await Promise.all(
      Array.from({ length: items }, (_, i) =>
        untilDone(i % 2 ? a : b, 'Busy.User@contoso.example', task(i % 2), stats),
      ),
    );
    const ops = proxy.counts.total;
    console.log(
      `max concurrent ${maxRunning}; ${stats.reschedules} reschedules; ${ops} storage ops for ${items} items (${(ops / items).toFixed(2)}/item)`,
    );
    assert.equal(maxRunning, 4, 'the limit is reached and never passed');
    assert.ok(bothAtOnce, 'both workers ran at the same time, so the 4 were shared between processes');
    assert.ok(ops / items < 3, `${ops} storage operations for ${items} items`);

    // The slots are blobs named after the mailbox (lower-cased, encoded).
    const blobs = [];
    for await (const blob of account
      .container(CONTAINERS.mailboxSlots)
      .listBlobsFlat({ prefix: 'busy%2Euser%40contoso%2Eexample/' }))
      blobs.push(blob.name);
    assert.deepEqual(
      blobs.sort(),
      [0, 1, 2, 3].map((i) => `busy%2Euser%40contoso%2Eexample/slot-${i}`),
    );
  });

  it('reschedules when every slot is taken, in another worker or in this one, and frees them afterwards', async () => {
    const [a, b] = [worker({ slots: { lingerMs: 300 } }), worker({ slots: { waitMs: 1000 } })];
    const gate = deferred();
    const started: Array<Promise<void>> = [];
    let running = 0;
    for (let i = 0; i < 4; i++) {
      started.push(
        a.run('full@contoso.example', async () => {
          running += 1;
          await gate.promise;
        }),
      );
    }
    while (running < 4) await sleep(20);

    const t0 = Date.now();
    const fromOther = await b.run('full@contoso.example', async () => 'ran').catch((e: unknown) => e);
    assert.ok(fromOther instanceof RetryLaterError, String(fromOther));
    assert.ok(fromOther.delaySeconds >= 1 && fromOther.delaySeconds <= 10);
    assert.ok(Date.now() - t0 < 5000, 'gave up after a short wait, not a long sleep');
    const fromSame = await a.run('full@contoso.example', async () => 'ran').catch((e: unknown) => e);
    assert.ok(fromSame instanceof RetryLaterError, String(fromSame));

    gate.resolve();
    await Promise.all(started);
    assert.equal(await b.run('full@contoso.example', async () => 'ran'), 'ran');
  });

  it('gets the slots of a crashed worker back when its leases expire', async () => {
    const mailbox = 'crash@contoso.example';
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'fixtures', 'hold-slots.js'), azurite.connectionString, mailbox, '4'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    child.kill('SIGKILL');
    const killedAt = Date.now();

    const survivor = worker({ slots: { waitMs: 500 } });
    const right = await survivor.run(mailbox, async () => 'ran').catch((e: unknown) => e);
    assert.ok(right instanceof RetryLaterError, 'the dead worker still holds every slot');
    let ranAt: number | undefined;
    while (!ranAt && Date.now() - killedAt < 25_000) {
      ranAt = await survivor.run(mailbox, async () => Date.now()).catch(() => undefined);
      if (!ranAt) await sleep(500);
    }
    assert.ok(ranAt, 'a slot came back');
    console.log(`slot free again ${((ranAt - killedAt) / 1000).toFixed(1)} s after the kill (lease 15 s)`);
  });

  it('paces requests per mailbox across workers through the shared ratelimit row', async () => {
    const pacing = {
      requestsPerWindow: 100,
      requestWindowMs: 6_000_000,
      uploadBytesPerWindow: 10 * MB,
      uploadWindowMs: 300_000,
      requestBlock: 10,
    };
    const [a, b] = [worker({ pacing }), worker({ pacing })];
    let ran = 0;
    let over: unknown;
    for (let i = 0; i < 200 && !over; i++) {
      over = await [a, b]
        [i % 2]!.run('paced@contoso.example', async () => {
          ran += 1;
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    }
    assert.ok(over instanceof RetryLaterError, String(over));
    // The only shortfall is what the other worker reserved and has not spent yet (under a block).
    assert.ok(ran <= 100 && ran > 90, `${ran} runs`);
    assert.match(over.reason, /request budget/);
    assert.ok(over.delaySeconds > 0 && over.delaySeconds <= 6_100);
    const row = await account.table(TABLES.rateLimit).getEntity<{ requests: string }>('paced@contoso.example', 'graph');
    const used = (JSON.parse(row.requests) as Array<[number, number]>).reduce((s, [, n]) => s + n, 0);
    assert.equal(used, 100);
    // Another mailbox has its own budget.
    assert.equal(await b.run('other@contoso.example', async () => 'ran'), 'ran');
  });

  it('paces upload bytes per mailbox across workers', async () => {
    const pacing = {
      requestsPerWindow: 1000,
      requestWindowMs: 600_000,
      uploadBytesPerWindow: 10 * MB,
      uploadWindowMs: 300_000,
    };
    const [a, b] = [worker({ pacing }), worker({ pacing })];
    await a.run('uploads@contoso.example', async () => undefined, { requests: 3, uploadBytes: 6 * MB });
    const over = await b
      .run('uploads@contoso.example', async () => undefined, { requests: 3, uploadBytes: 6 * MB })
      .catch((e: unknown) => e);
    assert.ok(over instanceof RetryLaterError, String(over));
    assert.match(over.reason, /upload budget/);
    await b.run('uploads@contoso.example', async () => undefined, { requests: 1, uploadBytes: 4 * MB });
  });
});
