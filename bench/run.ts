import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus } from 'node:os';
import { devTrustBundle } from '../dev/certs';
import { benchOrganisation, type BenchOrgOptions } from './org';
import { runPipeline, type RunResult } from './pipeline-run';
import { measureConversionFloor } from './conversion-floor';
import { runBackfill, type BackfillResult } from './backfill-run';
import { report } from './report';
import { runHistory, type HistoryResult } from './history-run';

// `npm run bench [-- --quick] [--posts N ...]`: the whole pipeline against the platform ceilings.
// Progress and the table go to stderr/stdout; the LAST stdout line is one JSON object.
const HELP = `npm run bench -- [--quick] [--posts N] [--chats N] [--members N] [--tasks N] [--notes N] [--events N]
  [--files-ratio R] [--large-files-mb 20,45,100] [--hot-share R] [--export-mb N] [--latency 100-300]
  [--other-latency 20-60] [--export-latency-s N] [--backfill-posts N] [--time-scale K] [--workers 1,2 (0: the ceiling run only)] [--ceiling-posts N] [--ceiling-time-scale K] [--timeout-min N] [--seed N] [--cpu-prof]
  [--history-items N] [--history-mailboxes N]   (a synthetic history written straight into storage; 0 items skips it)`;

interface Flags {
  [name: string]: string | true;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${HELP}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) flags[a.slice(2)] = true;
    else {
      flags[a.slice(2)] = next;
      i++;
    }
  }
  return flags;
}

const range = (text: string): [number, number] => {
  const [lo, hi] = text.split('-').map(Number);
  if (!(lo! >= 0) || !(hi! >= lo!)) throw new Error(`bad range ${text}`);
  return [lo!, hi!];
};

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log(HELP);
    return;
  }
  const quick = flags.quick === true;
  const num = (name: string, full: number, small: number) =>
    typeof flags[name] === 'string' ? Number(flags[name]) : quick ? small : full;
  const orgOptions: BenchOrgOptions = {
    posts: num('posts', 20_000, 400),
    chats: num('chats', 300, 30),
    members: num('members', 200, 20),
    tasks: num('tasks', 150, 6),
    notes: num('notes', 80, 4),
    events: num('events', 80, 4),
    filesRatio: num('files-ratio', 0.02, 0.02),
    hotShare: num('hot-share', 0.25, 0.3),
    exportMb: num('export-mb', 200, 10),
    largeFileMb:
      typeof flags['large-files-mb'] === 'string'
        ? flags['large-files-mb'].split(',').map(Number)
        : quick
          ? [100]
          : [20, 45, 100],
    seed: num('seed', 8, 8),
  };
  const latencyMs = range(typeof flags.latency === 'string' ? flags.latency : '100-300');
  const otherLatencyMs = range(typeof flags['other-latency'] === 'string' ? flags['other-latency'] : '20-60');
  const timeScale = num('time-scale', 10, 10);
  // The quick run leaves out the 2-worker run to keep time for a ceiling backlog of several windows;
  // `--workers 0` leaves out the mixed runs altogether, to measure the ceiling alone.
  const workerCounts = (typeof flags.workers === 'string' ? flags.workers : quick ? '1' : '1,2')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const timeoutMs = num('timeout-min', 50, 2) * 60_000;
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const trustBundle = await devTrustBundle(resolve('.local/certs'));
  const cpuProfDir = flags['cpu-prof'] ? resolve('.local/bench-profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

  const bench = benchOrganisation(orgOptions);
  log(
    `bench: ${bench.itemVersions} item versions (${bench.org.posts.length} post versions, ${bench.hotPosts} in the hot mailbox ${bench.hotMailbox}), ${bench.org.chats.length} chats, ${bench.org.members.length} members, ${bench.org.files.length} files; Graph create latency ${latencyMs.join('-')} ms, time scale ${timeScale}`,
  );

  const floor = await measureConversionFloor(bench.org, Math.min(300, bench.org.posts.length));
  log(
    `conversion: archiver ${floor.archiverPerCpuSecond.toFixed(0)}/CPU-s, MailComposer floor ${floor.floorPerCpuSecond.toFixed(0)}/CPU-s`,
  );

  const runs: RunResult[] = [];
  for (const workers of workerCounts) {
    log(`run with ${workers} worker(s)...`);
    runs.push(
      await runPipeline(bench, {
        workers,
        latencyMs,
        otherLatencyMs,
        timeScale,
        timeoutMs,
        trustBundle,
        cpuProfDir,
        log,
      }),
    );
    const r = runs.at(-1)!;
    log(
      `  ${r.drained ? 'drained' : 'NOT drained (timeout)'} in ${r.wallSeconds.toFixed(1)} s: ${JSON.stringify(r.summary)}`,
    );
  }
  // The Graph ceiling on one mailbox: its posts converted first, then delivered as one backlog.
  let ceiling: { run: RunResult; posts: number; timeScale: number } | undefined;
  const ceilingPosts = num('ceiling-posts', 3000, 800);
  // The measured span must cover several of the (scaled) 10-minute windows, or a burst inside one
  // window would read as more than the sustained ceiling.
  const ceilingTimeScale = num('ceiling-time-scale', timeScale, 30);
  if (ceilingPosts > 0) {
    const one = benchOrganisation({
      posts: ceilingPosts,
      chats: 4,
      members: 4,
      tasks: 0,
      notes: 0,
      events: 0,
      filesRatio: 0,
      largeFileMb: [],
      hotShare: 1,
      exportMb: 0,
      seed: orgOptions.seed,
    });
    log(`one-mailbox backlog run: ${one.hotPosts} posts into ${one.hotMailbox}...`);
    const run = await runPipeline(one, {
      workers: 1,
      latencyMs,
      otherLatencyMs,
      timeScale: ceilingTimeScale,
      timeoutMs,
      trustBundle,
      log,
      backlogFirst: true,
    });
    log(
      `  ${run.drained ? 'drained' : 'NOT drained (timeout)'} in ${run.wallSeconds.toFixed(1)} s: hot mailbox steady ${run.hot.steadyPerSecond.toFixed(2)}/s`,
    );
    ceiling = { run, posts: one.hotPosts, timeScale: ceilingTimeScale };
  }
  // The first backfill of a 90-day retention period, capture only, with exports that take as long
  // as docs/performance.md states (the quick run shortens it, and says so in its JSON).
  let backfill: BackfillResult | undefined;
  const backfillPosts = num('backfill-posts', orgOptions.posts, 400);
  if (backfillPosts > 0) {
    const exportLatencySeconds = num('export-latency-s', 180, 30);
    const history = benchOrganisation({
      ...orgOptions,
      posts: backfillPosts,
      largeFileMb: [],
      filesRatio: 0,
      spanDays: 89,
    });
    log(`90-day backfill: ${history.itemVersions} item versions, export latency ${exportLatencySeconds} s...`);
    // The run's time-out plus room for the export itself, so a long stated latency is measured, not cut off.
    backfill = await runBackfill(history, {
      exportLatencySeconds,
      timeoutMs: timeoutMs + 2 * exportLatencySeconds * 1000,
      trustBundle,
      log,
    });
    log(
      `  ${backfill.captured ? 'captured' : 'NOT captured (timeout)'} in ${backfill.backfillCaptureSeconds} s with ${backfill.exportTasks} export task(s)`,
    );
  }
  // Status and reconciliation at size: a synthetic history in two sizes ten times apart (tests/support/synthetic-history.ts).
  let history: HistoryResult | undefined;
  const historyItems = num('history-items', 20_400, 2_000);
  if (historyItems > 0) {
    log(`history: ${historyItems} items over 90 days, written a tenth first, then the rest...`);
    history = await runHistory({ items: historyItems, mailboxes: num('history-mailboxes', 200, 50), trustBundle, log });
  }
  const { table, json } = report({
    bench,
    orgOptions,
    latencyMs,
    otherLatencyMs,
    timeScale,
    floor,
    runs,
    ceiling,
    backfill,
    history,
    machine: { cores: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  });
  console.log(table);
  console.log(JSON.stringify(json));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
