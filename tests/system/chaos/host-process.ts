import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChildProcess } from '../../../dev/child-process';
import { repoRoot } from '../../support/repo-root';

/**
 * The local Functions host as a child process (dev/host/main.js), so a test can SIGKILL it the way
 * a crashed or recycled instance dies: no graceful stop, leases and claims left behind.
 */
export class HostProcess {
  url = '';
  starts = 0;
  kills = 0;
  unexpectedExits = 0;
  private child: ChildProcess | undefined;
  private killing = false;

  constructor(
    private readonly env: Record<string, string>,
    private readonly onLog: (line: string) => void,
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.starts++;
    const child = spawn(process.execPath, [resolve(repoRoot, 'dist/dev/host/main.js'), repoRoot], {
      cwd: repoRoot,
      env: { ...process.env, ...this.env, PORT: '0', WORKER_ID: `host-${this.starts}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stderr! }).on('line', (line) => this.onLog(line));
    const ready = new Promise<string>((done, fail) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        this.onLog(line);
        const m = /^READY (\S+)/.exec(line);
        if (m) done(m[1]!);
      });
      child.once('exit', (code, signal) =>
        fail(new Error(`host exited before READY (code ${code}, signal ${signal})`)),
      );
    });
    child.once('exit', () => {
      if (!this.killing) this.unexpectedExits++;
    });
    this.url = await withTimeout(ready, 60_000, 'host READY');
  }

  /** SIGKILL: nothing is flushed, nothing is released. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.killing = true;
    const gone = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGKILL');
    await gone;
    this.killing = false;
    this.kills++;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.killing = true;
    await stopChildProcess(child, 15_000);
    this.killing = false;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
