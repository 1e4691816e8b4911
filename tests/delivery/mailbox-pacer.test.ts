import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { CountingStorageProxy } from '../../dev/storage-proxy';
import { MailboxPacer, type PacerClock, type PacingLimits } from '../../shared/delivery/mailbox-pacer';
import { RetryLaterError } from '../../shared/errors';
import { StorageAccount } from '../../shared/store/storage-account';
import { TABLES } from '../../shared/store/names';

/** Virtual time: the pacer's waits advance it instead of passing, and are counted. */
class VirtualClock implements PacerClock {
  /** Times the pacer waited in process for the window to free (rather than rescheduling). */
  sleeps = 0;
  constructor(public t: number) {}
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.sleeps += 1;
    this.t += ms;
  };
}

const MB = 1024 * 1024;

describe('MailboxPacer on Azurite, in virtual time', { timeout: 120_000 }, () => {
  let azurite: RunningAzurite;
  let account: StorageAccount;
  // The pacers reach Azurite through a counting proxy: their table operations are counted at the wire.
  const proxy = new CountingStorageProxy();
  let pacingTable: () => ReturnType<StorageAccount['table']>;

  before(async () => {
    azurite = await startAzurite({ inMemory: true });
    account = new StorageAccount({ connectionString: azurite.connectionString });
    await account.table(TABLES.rateLimit).createTable();
    const proxied = new StorageAccount({ connectionString: await proxy.start(azurite.connectionString) });
    pacingTable = () => proxied.table(TABLES.rateLimit);
  });
  after(async () => {
    await proxy.stop();
    await azurite?.stop();
  });

  it('keeps a saturated mailbox near its limit across workers, and never over it in any sliding window', async () => {
    // One minute windows of 970 requests (16.2/s); two workers that would send 20/s between them.
    const limits: PacingLimits = {
      requestsPerWindow: 970,
      requestWindowMs: 60_000,
      uploadBytesPerWindow: 100 * MB,
      uploadWindowMs: 60_000,
      requestBlock: 10,
    };
    const clock = new VirtualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 400));
    proxy.reset();
    const workers = [0, 1].map(() => new MailboxPacer(pacingTable(), limits, clock));
    const sent: number[] = [];
    let rescheduled = 0;
    const end = clock.t + 5 * limits.requestWindowMs;
    for (let i = 0; clock.t < end; i++) {
      try {
        await workers[i % 2]!.take('busy@contoso.example', 1, 0);
        sent.push(clock.t);
      } catch (err) {
        if (!(err instanceof RetryLaterError)) throw err;
        rescheduled += 1;
        clock.t += err.delaySeconds * 1000;
      }
      clock.t += 50;
    }

    let worst = 0;
    for (let lo = 0, hi = 0; hi < sent.length; hi++) {
      while (sent[lo]! <= sent[hi]! - limits.requestWindowMs) lo++;
      worst = Math.max(worst, hi - lo + 1);
    }
    assert.ok(
      worst <= limits.requestsPerWindow,
      `${worst} requests in one sliding window, limit ${limits.requestsPerWindow}`,
    );

    // After the first window (a burst is allowed there), the sustained rate against the limit.
    const steady = sent.filter((t) => t >= sent[0]! + limits.requestWindowMs);
    const rate = steady.length / ((end - (sent[0]! + limits.requestWindowMs)) / 1000);
    const ratio = rate / (limits.requestsPerWindow / (limits.requestWindowMs / 1000));
    console.log(
      `sustained ${rate.toFixed(2)}/s = ${ratio.toFixed(3)} of the limit; worst window ${worst}; waits ${clock.sleeps}; rescheduled ${rescheduled}; table ops ${proxy.counts.byService.table} for ${sent.length} requests`,
    );
    assert.ok(ratio >= 0.95, `sustained ${ratio.toFixed(3)} of the limit`);
    assert.ok(proxy.counts.byService.table < sent.length / 2, 'budget is reserved in blocks, not per request');
  });

  it('covers the requests waiting in one process with one reservation, whatever the block', async () => {
    const limits: PacingLimits = {
      requestsPerWindow: 1000,
      requestWindowMs: 600_000,
      uploadBytesPerWindow: 10 * MB,
      uploadWindowMs: 300_000,
      requestBlock: 1,
    };
    const pacer = new MailboxPacer(pacingTable(), limits, new VirtualClock(Date.UTC(2026, 0, 1, 15, 0, 0, 0)));
    proxy.reset();
    await Promise.all([1, 2, 3, 4].map(() => pacer.take('four@contoso.example', 1, 0)));
    // One reservation (a read and a write) for the four, not four.
    assert.equal(proxy.counts.byService.table, 2);
    const row = await account.table(TABLES.rateLimit).getEntity<{ requests: string }>('four@contoso.example', 'graph');
    assert.equal(
      (JSON.parse(row.requests) as Array<[number, number]>).reduce((n, [, used]) => n + used, 0),
      4,
    );
  });

  it('waits in process when the budget frees within two buckets', async () => {
    const limits: PacingLimits = {
      requestsPerWindow: 100,
      requestWindowMs: 60_000,
      uploadBytesPerWindow: 10 * MB,
      uploadWindowMs: 60_000,
    };
    const start = Date.UTC(2026, 0, 1, 14, 0, 0, 100);
    const clock = new VirtualClock(start);
    const pacer = new MailboxPacer(pacingTable(), limits, clock);
    await pacer.take('steady@contoso.example', 60, 0);
    clock.t += 30_000;
    await pacer.take('steady@contoso.example', 40, 0);
    // The first 60 leave the window (61 one-second buckets) at 14:01:01.000.
    clock.t = start + 60_500;
    await pacer.take('steady@contoso.example', 1, 0);
    assert.equal(clock.sleeps, 1);
    assert.ok(
      clock.t >= Date.UTC(2026, 0, 1, 14, 1, 1, 0) && clock.t <= start + 60_500 + 2_000,
      `resumed at +${clock.t - start} ms`,
    );
  });

  it('reschedules when the budget frees later than two buckets from now', async () => {
    const limits: PacingLimits = {
      requestsPerWindow: 1000,
      requestWindowMs: 600_000,
      uploadBytesPerWindow: 10 * MB,
      uploadWindowMs: 300_000,
    };
    const clock = new VirtualClock(Date.UTC(2026, 0, 1, 13, 0, 0, 0));
    const pacer = new MailboxPacer(pacingTable(), limits, clock);
    await pacer.take('uploads@contoso.example', 1, 8 * MB);
    const startedAt = clock.t;
    const over = await pacer.take('uploads@contoso.example', 1, 4 * MB).catch((e: unknown) => e);
    assert.ok(over instanceof RetryLaterError, String(over));
    assert.match(over.reason, /upload budget/);
    // The 8 MB leave the 5-minute window (checked over 61 buckets of 5 s) about 305 s later.
    assert.ok(over.delaySeconds >= 300 && over.delaySeconds <= 306, String(over.delaySeconds));
    assert.equal(clock.t, startedAt, 'no time spent waiting in process');
  });
});
