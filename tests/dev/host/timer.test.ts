import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../../dev/azurite';
import { LocalFunctionsHost } from '../../../dev/host/local-functions-host';
import { probe, resetProbe } from './fixtures/probe';
import { fixtureRepo, fixtureSettings } from './helpers';

let azurite: RunningAzurite;
const hosts: LocalFunctionsHost[] = [];
const logLines: string[] = [];

before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});
beforeEach(() => resetProbe());

async function startHost(workerId: string, schedule: string, timers: boolean): Promise<LocalFunctionsHost> {
  const host = new LocalFunctionsHost({
    repoRoot: fixtureRepo(),
    settings: fixtureSettings(azurite.connectionString, { TICK_SCHEDULE: schedule }),
    httpPort: 0,
    timers,
    workerId,
    log: (line) => logLines.push(line),
  });
  await host.start();
  hosts.push(host);
  return host;
}

async function stopHosts() {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
}

function lockBlob() {
  return BlobServiceClient.fromConnectionString(azurite.connectionString)
    .getContainerClient('azure-webjobs-hosts')
    .getBlockBlobClient('locks/tick');
}

test('runTimer on two hosts at once: the blob lease makes the second wait, never overlap', async () => {
  const a = await startHost('a', '0 0 0 1 1 *', false);
  const b = await startHost('b', '0 0 0 1 1 *', false);
  probe.timer.durationMs = 1500;
  const started = Date.now();
  await Promise.all([a.runTimer('tick'), b.runTimer('tick')]);
  assert.equal(probe.timer.runs.length, 2);
  assert.equal(probe.timer.maxRunning, 1, 'the two runs overlapped');
  assert.ok(Date.now() - started >= 2900, 'the runs were not serialized');
  assert.equal(probe.timer.runs[0]!.isPastDue, false);
  assert.match(probe.timer.runs[0]!.next, /^\d{4}-01-01T00:00:00.000Z$/, 'scheduleStatus.next is the next occurrence');
  await stopHosts();
});

test('scheduled occurrences across two hosts: each occurrence runs once, never two at a time', async () => {
  probe.timer.durationMs = 2500;
  logLines.length = 0;
  await startHost('a', '*/2 * * * * *', true);
  await startHost('b', '*/2 * * * * *', true);
  await new Promise((r) => setTimeout(r, 8000));
  await stopHosts();
  const runs = probe.timer.runs;
  assert.ok(runs.length >= 2, `expected at least 2 runs in 8 s, got ${runs.length}`);
  assert.ok(runs.length <= 3, `a 2.5 s run on a 2 s schedule cannot fit more than 3 runs in 8 s, got ${runs.length}`);
  assert.equal(probe.timer.maxRunning, 1, 'two workers ran the timer at once');
  assert.equal(new Set(runs.map((r) => r.next)).size, runs.length, 'an occurrence ran twice');
  assert.ok(
    logLines.some((l) => l.includes('skipped, another worker holds the singleton lock')),
    'the workers never contended',
  );
  const metadata = (await lockBlob().getProperties()).metadata ?? {};
  assert.ok(metadata.lastoccurrence && metadata.next, 'schedule status is recorded on the lock blob');
  assert.equal(runs[runs.length - 1]!.last === '0001-01-01T00:00:00.000Z', false, 'later runs see the last occurrence');
});

test('an occurrence missed while every host was down runs at startup as past due', async () => {
  const missed = new Date(Date.now() - 60_000).toISOString();
  await lockBlob().setMetadata({ next: missed, lastoccurrence: new Date(Date.now() - 120_000).toISOString() });
  await startHost('a', '0 0 0 1 1 *', true);
  const deadline = Date.now() + 5000;
  while (probe.timer.runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await stopHosts();
  assert.equal(probe.timer.runs.length, 1);
  assert.equal(probe.timer.runs[0]!.isPastDue, true);
  assert.equal((await lockBlob().getProperties()).metadata?.lastoccurrence, missed);
});
