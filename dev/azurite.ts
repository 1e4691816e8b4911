import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { indexPatchMismatch, installedAzuriteVersions } from './azurite-versions';
import { stopChildProcess } from './child-process';

export interface AzuriteOptions {
  /** Persistent data folder; default: a fresh temp dir, removed when this process exits. */
  location?: string;
  inMemory?: boolean;
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Default true: no access log. When false, Azurite's output is inherited. */
  silent?: boolean;
  /** Default true (false when AZURITE_INDEX_PATCH=0): load azurite-index-patch.ts, which changes cost only. */
  indexPatch?: boolean;
}

export interface RunningAzurite {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  location: string;
  stop(): Promise<void>;
  /** Stops and starts again on the same ports and data folder. */
  restart(): Promise<void>;
}

// The well-known development account key: public, documented, and accepted only by the emulator.
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const HOST = '127.0.0.1';

export function azuriteConnectionString(ports: { blobPort: number; queuePort: number; tablePort: number }): string {
  return (
    [
      'DefaultEndpointsProtocol=http',
      `AccountName=${ACCOUNT}`,
      `AccountKey=${ACCOUNT_KEY}`,
      `BlobEndpoint=http://${HOST}:${ports.blobPort}/${ACCOUNT}`,
      `QueueEndpoint=http://${HOST}:${ports.queuePort}/${ACCOUNT}`,
      `TableEndpoint=http://${HOST}:${ports.tablePort}/${ACCOUNT}`,
    ].join(';') + ';'
  );
}

export async function startAzurite(opts: AzuriteOptions = {}): Promise<RunningAzurite> {
  const ownsLocation = !opts.location;
  const location = opts.location ?? mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
  // Azurite rejects port 0, so reserve free ports here; all three at once so they differ.
  const free = await freePorts(3);
  const ports = {
    blobPort: opts.blobPort ?? free[0]!,
    queuePort: opts.queuePort ?? free[1]!,
    tablePort: opts.tablePort ?? free[2]!,
  };
  const silent = opts.silent ?? true;
  const args = [
    ...((opts.indexPatch ?? process.env.AZURITE_INDEX_PATCH !== '0') && indexPatchFits()
      ? ['-r', path.join(__dirname, 'azurite-index-patch.js')]
      : []),
    require.resolve('azurite/dist/src/azurite.js'),
    '--blobHost',
    HOST,
    '--blobPort',
    String(ports.blobPort),
    '--queueHost',
    HOST,
    '--queuePort',
    String(ports.queuePort),
    '--tableHost',
    HOST,
    '--tablePort',
    String(ports.tablePort),
    // Azurite refuses --location together with --inMemoryPersistence.
    ...(opts.inMemory ? [] : ['--location', location]),
    '--skipApiVersionCheck',
    '--loose',
    '--disableTelemetry',
    ...(silent ? ['--silent'] : []),
    ...(opts.inMemory ? ['--inMemoryPersistence'] : []),
  ];

  let child: ChildProcess | undefined;
  const killOnExit = () => {
    child?.kill('SIGKILL');
    if (ownsLocation) rmSync(location, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const launch = async () => {
    mkdirSync(location, { recursive: true });
    const proc = spawn(process.execPath, args, { cwd: location, stdio: silent ? 'ignore' : 'inherit' });
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) => reject(new Error(`azurite exited early (code ${code}, signal ${signal})`))),
    );
    exited.catch(() => undefined);
    await Promise.race([
      Promise.all([ports.blobPort, ports.queuePort, ports.tablePort].map((p) => waitForPort(p, 30_000))),
      exited,
    ]);
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (proc) await stopChildProcess(proc, 5_000);
  };

  await launch();
  return {
    connectionString: azuriteConnectionString(ports),
    ...ports,
    location,
    async stop() {
      await kill();
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}

// Checked here as well as in the preload: a silent Azurite's output goes nowhere, and the warning
// should reach whoever runs the tests, once.
let preloadWarned = false;
function indexPatchFits(): boolean {
  const mismatch = indexPatchMismatch(installedAzuriteVersions());
  if (mismatch && !preloadWarned) {
    preloadWarned = true;
    console.warn(mismatch);
  }
  return !mismatch;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`azurite did not open port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
