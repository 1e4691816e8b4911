/**
 * CLI: `node dist/dev/host/main.js [repoRoot]` (default: the current directory).
 * Settings are local.settings.json `Values` overlaid by the environment (env wins); HTTP on PORT or 7071.
 * Prints `READY <url>` on stdout once listening; host logs go to stderr. SIGTERM/SIGINT stop gracefully
 * (a second signal exits at once). Optional: WORKER_ID (names the worker in log lines), LOCAL_HOST_POLL_MS,
 * LOCAL_HOST_TIMERS=false, LOCAL_HOST_MESSAGE_LEASE_S (see LocalFunctionsHostOptions).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LocalFunctionsHost } from './local-functions-host';

async function main(): Promise<void> {
  const repoRoot = path.resolve(process.argv[2] ?? process.cwd());
  const settingsFile = path.join(repoRoot, 'local.settings.json');
  const fileValues = existsSync(settingsFile)
    ? ((JSON.parse(readFileSync(settingsFile, 'utf8')) as { Values?: Record<string, string> }).Values ?? {})
    : {};
  const settings: Record<string, string> = { ...fileValues };
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) settings[key] = value;

  const host = new LocalFunctionsHost({
    repoRoot,
    settings,
    httpPort: settings.PORT !== undefined ? Number(settings.PORT) : 7071,
    workerId: settings.WORKER_ID,
    pollIntervalMs: settings.LOCAL_HOST_POLL_MS ? Number(settings.LOCAL_HOST_POLL_MS) : undefined,
    timers: settings.LOCAL_HOST_TIMERS !== 'false',
    messageLeaseSeconds: settings.LOCAL_HOST_MESSAGE_LEASE_S ? Number(settings.LOCAL_HOST_MESSAGE_LEASE_S) : undefined,
  });
  await host.start();
  process.stdout.write(`READY ${host.url}\n`);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`${signal}: stopping gracefully\n`);
    host.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err) => {
  process.stderr.write(`host failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
