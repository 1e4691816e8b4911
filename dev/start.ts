import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { devTrustBundle } from './certs';
import { startAzurite, type RunningAzurite } from './azurite';
import { startLocalEnvironment, type LocalEnvironment } from './local-environment';
import { demoOrganisation, demoVoiceOrganisation, DEMO_ORGANISATION_LABEL } from './demo-org';
import { LocalFunctionsHost } from './host/local-functions-host';
import { createArchiver } from '../shared/composition';
import { loadConfig, SETTINGS } from '../shared/config';
import { runSummary } from '../shared/operations/run-summary';
import { parseDateRange } from '../shared/operations/http-input';
import { hasLossOrDuplicate, reconcileRangeRules, reconciliationSummary } from '../shared/reconcile/reconciler';
import { reconcileToEnd } from '../shared/reconcile/reconcile-driver';
import type { Archiver } from '../shared/composition';
import { CaptureWindows } from '../shared/store/capture-windows';
import { ProgressCounter, formatProgress, progressDisplay } from './progress';

// `npm start` runs the archiver locally: Azurite, the local Functions host and, when no
// RingCentral or Graph credentials are configured, the built-in doubles with demo data.
// `npm start -- --once` runs one full cycle, drains every queue, prints a JSON summary last.
// `--reconcile [--from ISO] [--to ISO]` compares ledger and mailboxes and prints that JSON last
// (exit 1 when anything is missing or duplicated). The demo doubles live in memory, so the demo
// reconciles with `--once --reconcile` (after the cycle, before shutdown); with real endpoints
// configured, `--reconcile` alone reads the existing storage and mailboxes.
// While it runs, stderr shows one progress line (live on a terminal, every 30 s otherwise);
// ARCHIVER_VERBOSE=1 shows the host's JSON events instead.
const REPO_ROOT = resolve(__dirname, '..', '..');

async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const reconcile = process.argv.includes('--reconcile');
  if (process.env.NODE_EXTRA_CA_CERTS !== resolve(REPO_ROOT, '.local/certs/trust-bundle.pem'))
    return relaunchTrustingDevCertificate();

  const configured = { ...readLocalSettings(), ...definedEnv() };
  const hasRingCentral = !!configured.RINGCENTRAL_JWT;
  const hasGraph = !!configured.GRAPH_CLIENT_SECRET;
  if (hasRingCentral !== hasGraph) {
    console.error(
      'Configure both RingCentral (RINGCENTRAL_*) and Graph (GRAPH_*) credentials, or neither to run the demo doubles.',
    );
    return 2;
  }
  const demo = !hasRingCentral;
  if (reconcile && !once && demo) {
    console.error(
      'The demo doubles keep their mailboxes in memory: run `npm start -- --once --reconcile` to reconcile the demo, or configure real endpoints.',
    );
    return 2;
  }
  const stack: Array<() => Promise<void>> = [];
  let settings: Record<string, string>;
  let environment: LocalEnvironment | undefined;

  if (demo) {
    // The doubles keep their state in memory, so the demo storage starts empty with them.
    const location = resolve(REPO_ROOT, '.local/azurite-demo');
    rmSync(location, { recursive: true, force: true });
    const now = new Date();
    const org = demoOrganisation(now);
    const voice = demoVoiceOrganisation(now, org);
    environment = await startLocalEnvironment({
      org,
      voice,
      withoutMailbox: org.members.filter((m) => /no-mailbox|nomailbox/i.test(m.email ?? '')).map((m) => m.email!),
      azurite: { location },
      settings: { CAPTURE_START: new Date(now.getTime() - 3 * 86_400_000).toISOString(), ...configured },
    });
    stack.push(() => environment!.stop());
    settings = environment.settings;
    log(
      `${DEMO_ORGANISATION_LABEL}: RingCentral, Microsoft Graph and Entra ID are local doubles seeded with a demo organisation (${org.members.length} members, ${org.posts.length} post versions, ${voice.messages.length} texts, faxes and voicemails, ${voice.calls.length} calls).`,
    );
  } else {
    let azurite: RunningAzurite | undefined;
    if (!configured.AzureWebJobsStorage && !configured.AzureWebJobsStorage__blobServiceUri) {
      azurite = await startAzurite({ location: resolve(REPO_ROOT, '.local/azurite'), silent: true });
      stack.push(() => azurite!.stop());
    }
    settings = { ...(azurite ? { AzureWebJobsStorage: azurite.connectionString } : {}), ...configured };
  }
  settings.LOCAL_FUNCTION_KEY ||= randomBytes(18).toString('base64url');
  settings.LOCAL_ADMIN_KEY ||= randomBytes(18).toString('base64url');
  const config = loadConfig(settings);
  const range = reconcile
    ? parseDateRange(argValue('--from'), argValue('--to'), reconcileRangeRules(config.capture.retentionDays))
    : undefined;
  if (reconcile && !once) {
    // Real endpoints: no host, no cycle; read what storage and the mailboxes hold now.
    const archiver = createArchiver(config);
    await archiver.storage.ensureCreated();
    const code = await printReconciliation(archiver, range!, { process: true });
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
    return code;
  }

  const verbose = !!process.env.ARCHIVER_VERBOSE;
  const counter = new ProgressCounter();
  const host = new LocalFunctionsHost({
    repoRoot: REPO_ROOT,
    settings,
    httpPort: Number(process.env.PORT ?? 7071),
    timers: !once,
    log: (line) => {
      counter.observe(line);
      if (verbose) console.error(line);
    },
  });
  await host.start();
  stack.push(() => host.stop());
  const shutdown = async () => {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
  };

  log(`Local host: ${host.url}/api/status?code=${settings.LOCAL_FUNCTION_KEY}`);
  log(`Function key: ${settings.LOCAL_FUNCTION_KEY}   Admin key: ${settings.LOCAL_ADMIN_KEY}`);
  const archiver = createArchiver(config);
  const progress = verbose ? undefined : await showProgress(counter, new CaptureWindows(archiver.storage));
  if (progress) stack.push(() => progress.stop());

  if (!once) {
    await host.runTimer('ingest');
    log('Running. Ctrl+C to stop.');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await shutdown();
    return 0;
  }

  // One tick: it sets the capture target to now − lag, so the run ends there whatever the
  // export latency. No time-out: a real first backfill takes hours, and progress shows it moving.
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: Number.POSITIVE_INFINITY });
  await progress?.stop();
  const summary = { ...(await runSummary(archiver.status)), demo };
  if (range) {
    console.log(JSON.stringify(summary));
    const code = await printReconciliation(archiver, range, { process: false });
    await shutdown();
    return summary.failed > 0 ? 1 : code;
  }
  await shutdown();
  console.log(JSON.stringify(summary));
  return summary.failed > 0 ? 1 : 0;
}

/** Refreshes the progress line at the display's pace, and once more at the end. */
async function showProgress(counter: ProgressCounter, windows: CaptureWindows): Promise<{ stop(): Promise<void> }> {
  const display = await progressDisplay();
  let line = '';
  let busy = false;
  const refresh = async (show: boolean) => {
    if (busy) return;
    busy = true;
    try {
      const [list, checkpoint] = await Promise.all([windows.list(), windows.checkpoint()]);
      line = formatProgress(counter.snapshot(list, checkpoint?.targetThrough));
      if (show) display.update(line);
    } catch {
      // Tables not created yet, or storage restarting: the next refresh tries again.
    } finally {
      busy = false;
    }
  };
  void refresh(true);
  const timer = setInterval(() => void refresh(true), display.everyMs);
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 50));
      await refresh(false);
      if (line) display.done(line);
    },
  };
}

/**
 * Starts a reconciliation job and drives it to its end (the running host takes its steps; with no
 * host, this process does), then prints it as the last stdout line; 1 when anything is missing or duplicated.
 */
async function printReconciliation(
  archiver: Archiver,
  range: { from: Date; to: Date },
  opts: { process: boolean },
): Promise<number> {
  log(`Reconciling items from ${range.from.toISOString()} to ${range.to.toISOString()}...`);
  const jobId = await archiver.reconcileJobs.start(range);
  const result = await reconcileToEnd(archiver, jobId, {
    ...opts,
    log: process.env.ARCHIVER_VERBOSE ? log : undefined,
    onProgress: (p) => log(`Reconciliation ${jobId}: ${p.mailboxesDone}/${p.mailboxesTotal ?? '?'} mailboxes`),
  });
  const problems = result.perMailbox.filter(
    (m) => m.missing || m.duplicates || m.unexpected || m.attachmentsMissing || m.attachmentsDuplicated || m.error,
  );
  console.log(JSON.stringify({ ...reconciliationSummary(result), problems }));
  return hasLossOrDuplicate(result) ? 1 : 0;
}

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function relaunchTrustingDevCertificate(): Promise<number> {
  // Node reads NODE_EXTRA_CA_CERTS once at start-up, so the demo's https doubles need a fresh process.
  return devTrustBundle(resolve(REPO_ROOT, '.local/certs')).then(
    (bundle) =>
      new Promise((done) => {
        const child = spawn(process.execPath, process.argv.slice(1), {
          stdio: 'inherit',
          env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle },
        });
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        child.on('exit', (code) => done(code ?? 1));
      }),
  );
}

function readLocalSettings(): Record<string, string> {
  const file = resolve(REPO_ROOT, 'local.settings.json');
  if (!existsSync(file)) return {};
  const values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
}

function definedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.keys(SETTINGS)
      .filter((n) => process.env[n])
      .map((n) => [n, process.env[n]!]),
  );
}

function log(line: string): void {
  // stdout's last line is the --once summary; progress goes to stderr.
  console.error(line);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
