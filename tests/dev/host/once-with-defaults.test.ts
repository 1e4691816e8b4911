import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { createArchiver } from '../../../shared/composition';
import { loadConfig, SETTINGS, type SettingSpec } from '../../../shared/config';
import { TABLES } from '../../../shared/store/names';
import type { CaptureWindow } from '../../../shared/store/capture-windows';
import type {
  ExportChat,
  ExportOrganisation,
  ExportPerson,
  ExportPost,
} from '../../../shared/ringcentral/export-records';
import { repoRoot } from '../../support/repo-root';
import { peopleOf } from '../../support/export-builders';

// `npm start -- --once --reconcile` as a new user runs it: settings in the environment only, and
// only the required ones (plus the three endpoints, which point at the doubles). Every other
// setting takes its default: INGEST_SCHEDULE, CAPTURE_START (retention start), a 15-minute lag,
// 30 s polls, MAX_WINDOW_HOURS. The RingCentral double's exports take 40 s, longer than one poll.
// The run must end by itself, capture up to its start minus the lag, and need at most 2 tasks
// for 30 days of history.
const DAY = 86_400_000;
const EXPORT_LATENCY_MS = 40_000;
const now = Date.now();
const at = (msAgo: number) => new Date(now - msAgo).toISOString();

const person = peopleOf('Defaults', at(40 * DAY));
const members = [person('d1', 'Dora'), person('d2', 'Dan'), person('d3', 'Dee')];
const chat: ExportChat = {
  id: 'c-defaults',
  Type: 'Team',
  name: 'Defaults',
  memberIds: ['d1', 'd2', 'd3'],
  guestIds: [],
  creationTime: at(40 * DAY),
  lastModifiedTime: at(40 * DAY),
  accountId: 'acc-defaults',
};
// One post a day for 30 days, the newest an hour ago (inside now − 15 min).
const posts: ExportPost[] = Array.from({ length: 30 }, (_, i) => ({
  id: `dp${i}`,
  chatId: chat.id,
  creator: { id: members[i % 3]!.id },
  text: `Defaults post ${i}`,
  creationTime: at(30 * DAY - i * DAY + 0),
  lastModifiedTime: at(30 * DAY - i * DAY),
}));
posts[posts.length - 1] = { ...posts[posts.length - 1]!, creationTime: at(3_600_000), lastModifiedTime: at(3_600_000) };
const org: ExportOrganisation = {
  accountId: 'acc-defaults',
  chats: [chat],
  members,
  guests: [],
  posts,
  events: [],
  tasks: [],
  notes: [],
  files: [],
};

const REQUIRED = (Object.entries(SETTINGS) as Array<[string, SettingSpec]>)
  .filter(([, s]) => s.default === undefined && !s.optional)
  .map(([n]) => n);
const ENDPOINTS = ['RINGCENTRAL_SERVER_URL', 'GRAPH_BASE_URL', 'AZURE_AUTHORITY_HOST'];

let env: LocalEnvironment;
let run: { code: number | null; stdout: string[]; stderr: string[]; startedAt: number; endedAt: number };

before(async () => {
  env = await startLocalEnvironment({
    org,
    azurite: { inMemory: true },
    ringCentral: { exportLatencyMs: EXPORT_LATENCY_MS, pollsUntilComplete: 0 },
  });
  const settings: Record<string, string> = { AzureWebJobsStorage: env.settings.AzureWebJobsStorage! };
  for (const name of [...REQUIRED, ...ENDPOINTS]) if (env.settings[name]) settings[name] = env.settings[name]!;
  // Nothing else from this process's environment: no INGEST_SCHEDULE, no local.settings.json values.
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: '0',
    ...settings,
  };
  const startedAt = Date.now();
  const child = spawn(process.execPath, [resolve(repoRoot, 'dist/dev/start.js'), '--once', '--reconcile'], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => stdout.push(...d.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(...d.split('\n').filter(Boolean)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 5 * 60_000);
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  clearTimeout(killer);
  run = { code, stdout, stderr, startedAt, endedAt: Date.now() };
  console.log(
    `# --once --reconcile with defaults took ${((run.endedAt - startedAt) / 1000).toFixed(1)} s; ${env.ringCentral.stats.tasksCreated} export task(s)`,
  );
});

after(async () => {
  await env?.stop();
});

test('only the required settings were given, and the run used the defaults', () => {
  assert.deepEqual(REQUIRED.sort(), [
    'GRAPH_CLIENT_ID',
    'GRAPH_CLIENT_SECRET',
    'GRAPH_TENANT_ID',
    'RINGCENTRAL_CLIENT_ID',
    'RINGCENTRAL_CLIENT_SECRET',
    'RINGCENTRAL_JWT',
  ]);
  assert.ok(!run.stderr.some((l) => /is not set/.test(l)), `no missing-setting error: ${run.stderr.join('\n')}`);
});

test('--once --reconcile ends by itself, exit 0, with the summary and then the reconciliation on stdout', () => {
  assert.equal(run.code, 0, run.stderr.slice(-20).join('\n'));
  const json = run.stdout.filter((l) => l.startsWith('{'));
  const summary = JSON.parse(json[json.length - 2]!) as { captured: number; delivered: number; failed: number };
  const reconciliation = JSON.parse(json[json.length - 1]!) as { missing: number; duplicates: number };
  assert.equal(summary.captured, posts.length);
  assert.equal(summary.delivered, posts.length * members.length);
  assert.equal(summary.failed, 0);
  assert.equal(reconciliation.missing, 0);
  assert.equal(reconciliation.duplicates, 0);
});

test('30 days of history take at most 2 export tasks, and capture reaches the start of the run minus the lag', async () => {
  assert.ok(
    env.ringCentral.stats.tasksCreated >= 1 && env.ringCentral.stats.tasksCreated <= 2,
    `${env.ringCentral.stats.tasksCreated} tasks`,
  );
  const archiver = createArchiver(loadConfig(env.settings));
  const windows: CaptureWindow[] = [];
  for await (const w of archiver.storage
    .table(TABLES.exportTasks)
    .listEntities<CaptureWindow>({ queryOptions: { filter: "PartitionKey eq 'window'" } }))
    windows.push(w);
  assert.ok(windows.length >= 1 && windows.length <= 2, `${windows.length} windows`);
  for (const w of windows) assert.equal(w.status, 'stored');
  const end = Math.max(...windows.map((w) => Date.parse(w.to)));
  const lagMs = Number(SETTINGS.CAPTURE_LAG_MINUTES.default) * 60_000;
  assert.ok(
    end >= run.startedAt - lagMs && end <= run.endedAt - lagMs,
    'captured through the tick time minus the lag, no further',
  );
  const first = Math.min(...windows.map((w) => Date.parse(w.from)));
  assert.ok(
    Math.abs(first - (run.startedAt - Number(SETTINGS.RETENTION_DAYS.default) * DAY)) < 5 * 60_000,
    'the first window starts at the retention start',
  );
});

test('progress goes to stderr as plain lines (stderr is not a terminal) and the JSON events stay hidden', () => {
  const progress = run.stderr.filter((l) => / progress: windows \d+\/\d+ · converted \d+ · delivered \d+/.test(l));
  assert.ok(progress.length >= 2, `a first and a final progress line: ${run.stderr.join('\n')}`);
  assert.match(
    progress[progress.length - 1]!,
    new RegExp(`windows (\\d)/\\1 · converted ${posts.length} · delivered ${posts.length * members.length}`),
  );
  assert.ok(!run.stderr.some((l) => l.includes('{"event":')), 'no JSON event lines without ARCHIVER_VERBOSE');
});
