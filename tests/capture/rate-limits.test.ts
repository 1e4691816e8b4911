import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExportChat, ExportOrganisation, ExportPost } from '../../shared/ringcentral/export-records';
import { RingCentralApi } from '../../shared/ringcentral/ringcentral-api';
import { PenaltyGate } from '../../shared/ringcentral/penalty-gate';
import { SharedGroupBudget } from '../../shared/ringcentral/shared-group-budget';
import { TABLES } from '../../shared/store/names';
import { RetryLaterError } from '../../shared/errors';
import type { RingCentralStats } from '../../dev/doubles/ringcentral/stats';
import { itemKeyOfMessage, startPipeline, watchCheckpoint, type CapturePipeline } from './helpers';
import { peopleOf } from '../support/export-builders';

// A RingCentral double with tiny limits (3 Medium requests per 2 s, a 3 s penalty that every
// request during it restarts): capture must finish without one request sent during a penalty.
const HOUR = 3_600_000;
const start = new Date(Math.floor((Date.now() - 13 * HOUR) / HOUR) * HOUR);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();

const person = peopleOf('Limits', at(0));
const members = [person('m1', 'Alice'), person('m2', 'Bob')];
const chats: ExportChat[] = [
  {
    id: 'c-team',
    Type: 'Team',
    name: 'Limits',
    memberIds: ['m1', 'm2'],
    guestIds: [],
    creationTime: at(0),
    lastModifiedTime: at(0),
  },
];
const posts: ExportPost[] = Array.from({ length: 24 }, (_, i) => ({
  id: `p${i}`,
  chatId: 'c-team',
  creator: { id: members[i % 2].id },
  creationTime: at(15 + i * 30),
  lastModifiedTime: at(15 + i * 30),
  text: `Limited post ${i}`,
}));
const org: ExportOrganisation = {
  accountId: 'acc-limits',
  chats,
  members,
  guests: [],
  posts,
  events: [],
  tasks: [],
  notes: [],
  files: [],
};

let p: CapturePipeline;
let watch: ReturnType<typeof watchCheckpoint>;
let runStats: RingCentralStats;

before(async () => {
  p = await startPipeline({
    org,
    settings: { CAPTURE_START: start.toISOString(), MAX_WINDOW_HOURS: '3' },
    ringCentral: { rateLimits: { Medium: 3, Light: 4, Heavy: 2 }, windowMs: 2000, penaltyMs: 3000 },
  });
  watch = watchCheckpoint(p.archiver);
  await p.cycle();
  runStats = structuredClone(p.env.ringCentral.stats);
});

after(async () => {
  await watch?.stop();
  const s = runStats;
  console.log(
    `# RingCentral double during the run: ${s?.requests} requests, by group ${JSON.stringify(s?.byGroup)}, 429s ${s?.responses429}, penalties ${s?.penaltiesStarted}, during penalty ${s?.requestsDuringPenalty}, tokens ${s?.byKind.token}`,
  );
  await p?.stop();
});

test('capture completes under tiny limits: every post delivered once, to both members', () => {
  for (const mailbox of ['alice@limits.example', 'bob@limits.example']) {
    const keys = p.env.graph.messagesIn(mailbox, 'Inbox/RingCentral').map(itemKeyOfMessage);
    assert.deepEqual(
      new Set(keys),
      new Set(posts.map((x) => `post:${x.id}:${new Date(x.lastModifiedTime).toISOString()}`)),
      mailbox,
    );
    assert.equal(keys.length, posts.length, `no duplicates in ${mailbox}`);
  }
  assert.deepEqual(watch.violations, []);
});

test('no request is sent while a penalty runs', () => {
  const s = runStats;
  assert.ok(s.byGroup.Medium > 3, 'the Medium group was used more than its window allows');
  assert.equal(s.requestsDuringPenalty, 0);
});

test('the access token is reused: one login for the whole run, no 401', () => {
  const s = runStats;
  assert.ok(s.byKind.token <= 1, `${s.byKind.token} token requests`);
  assert.equal(s.unauthorized, 0);
});

test('a penalty one instance hits stops every instance: the other sends nothing until it ends', async () => {
  p.env.ringCentral.resetRateLimits();
  // Let the run's own penalty and used-up group windows (2-3 s) run out first.
  await new Promise((r) => setTimeout(r, 3500));
  const config = p.archiver.config.ringCentral;
  const budget = () => new SharedGroupBudget(p.archiver.storage.table(TABLES.rateLimit), config.rateLimits);
  const hit = new RingCentralApi(config, new PenaltyGate(p.archiver.storage), budget());
  const other = new RingCentralApi(config, new PenaltyGate(p.archiver.storage), budget());
  await other.listExportTasks(); // logged in, so what follows counts only export calls
  p.env.ringCentral.faults.inject({ kind: '429', match: '/team-messaging/v1/data-export', retryAfterSeconds: 3 });
  await assert.rejects(
    hit.listExportTasks(),
    (err: unknown) => err instanceof RetryLaterError && err.delaySeconds >= 3,
  );
  const sent = p.env.ringCentral.stats.requests;
  await assert.rejects(
    other.listExportTasks(),
    (err: unknown) => err instanceof RetryLaterError && /penalty/.test(err.reason),
  );
  await assert.rejects(other.getExportTask('any'), RetryLaterError);
  assert.equal(p.env.ringCentral.stats.requests, sent, 'nothing reached RingCentral during the penalty');
  await new Promise((r) => setTimeout(r, 3200));
  assert.ok(Array.isArray(await other.listExportTasks()), 'calls resume once the penalty is over');
  assert.equal(p.env.ringCentral.stats.requests, sent + 1);
});

test('server errors and resets back off progressively with jitter, up to 30 s; a success starts again from 1 s', async () => {
  // The failed calls count against the Medium budget too (RingCentral counts them); this test is
  // about the back-off, so give it room beyond what the tests above spent this minute.
  const config = {
    ...p.archiver.config.ringCentral,
    rateLimits: { ...p.archiver.config.ringCentral.rateLimits, Medium: 1000 },
  };
  let jitter = 0.999; // the top of each jitter range
  // One instance, so one login: the Auth group's budget (5 a minute) is shared with the tests above.
  const api = new RingCentralApi(
    config,
    new PenaltyGate(p.archiver.storage),
    new SharedGroupBudget(p.archiver.storage.table(TABLES.rateLimit), config.rateLimits),
    () => jitter,
  );
  const settle = async () => {
    p.env.ringCentral.resetRateLimits();
    await new Promise((r) => setTimeout(r, 3500));
  };
  const delaysOf = async (n: number) => {
    const delays: number[] = [];
    for (let i = 0; i < n; i++) {
      await assert.rejects(
        api.listExportTasks(),
        (err: unknown) =>
          err instanceof RetryLaterError &&
          /RingCentral (answered 503|connection failed)/.test(err.reason) &&
          delays.push(err.delaySeconds) > 0,
      );
    }
    return delays;
  };
  await settle();
  await api.listExportTasks();
  p.env.ringCentral.faults.inject({ kind: '503', match: '/team-messaging/v1/data-export', count: 7 });
  assert.deepEqual(await delaysOf(7), [1, 2, 4, 8, 16, 30, 30]);
  await settle();
  await api.listExportTasks();
  p.env.ringCentral.faults.inject({ kind: 'reset', match: '/team-messaging/v1/data-export', count: 3 });
  assert.deepEqual(
    await delaysOf(3),
    [1, 2, 4],
    'a reset backs off like a server error, from 1 s again after the success',
  );

  await settle();
  await api.listExportTasks();
  jitter = 0; // the bottom: half of each step
  p.env.ringCentral.faults.inject({ kind: '503', match: '/team-messaging/v1/data-export', count: 6 });
  assert.deepEqual(await delaysOf(6), [1, 1, 2, 4, 8, 15]);
});
