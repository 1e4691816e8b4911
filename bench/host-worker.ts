import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChildProcess } from '../dev/child-process';

const REPO_ROOT = resolve(__dirname, '..', '..');

export interface StageEvent {
  at: number;
  stage: string;
  event: 'done' | 'rescheduled' | 'failed' | 'rejected';
  records?: number;
  outcome?: string;
  reason?: string;
}

/**
 * One local Functions host as a child process, so its memory and CPU are its own: peak RSS from
 * /proc/<pid>/status (VmHWM), CPU from /proc/<pid>/stat. Stage events are read from its log.
 */
export class HostWorker {
  readonly events: StageEvent[] = [];
  readonly problems: string[] = [];
  /** The host's HTTP base URL, from its READY line. */
  url = '';
  private child: ChildProcess | undefined;
  private peakRssKb = 0;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    private readonly env: Record<string, string>,
    private readonly cpuProfDir?: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const args = deployedNodeOptions();
    if (this.cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}`);
    args.push(resolve(REPO_ROOT, 'dist/dev/host/main.js'), REPO_ROOT);
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, PORT: '0', WORKER_ID: this.name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stderr! }).on('line', (line) => this.onLog(line));
    const ready = new Promise<void>((done, fail) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('READY ')) {
          this.url = line.slice(6).trim();
          done();
        }
      });
      child.once('exit', (code, signal) =>
        fail(
          new Error(
            `${this.name} exited before READY (code ${code}, signal ${signal}): ${this.problems.slice(-3).join(' | ')}`,
          ),
        ),
      );
    });
    this.sampler = setInterval(() => this.sample(), 250);
    await ready;
  }

  /** Peak resident set (MB) since start: the kernel's high-water mark, or the sampled peak if larger. */
  peakRssMb(): number {
    this.sample();
    return Math.round(this.peakRssKb / 1024);
  }

  /** User + system CPU seconds used so far. */
  cpuSeconds(): number {
    if (!this.child?.pid) return 0;
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    const child = this.child;
    if (child) await stopChildProcess(child, 20_000);
  }

  private sample(): void {
    if (!this.child?.pid) return;
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      this.peakRssKb = Math.max(this.peakRssKb, hwm, rss);
    } catch {
      // The process has exited; keep the last reading.
    }
  }

  private onLog(line: string): void {
    // `<ISO time> <LEVEL> <function> <invocation id> <message>`; stage results are JSON messages.
    const m = /^\[[^\]]+\] (\S+) (\S+) (\S+) (\S+) (.*)$/.exec(line) ?? /^(\S+) (\S+) (\S+) (\S+) (.*)$/.exec(line);
    if (!m) return;
    const [, time, level, , , message] = m;
    if (message.startsWith('{"event"')) {
      try {
        const parsed = JSON.parse(message) as { event: string; result?: unknown; reason?: string; error?: string };
        const [stage, event] = parsed.event.split('.');
        if (event === 'done' || event === 'rescheduled' || event === 'failed' || event === 'rejected') {
          const result = parsed.result as { records?: number } | string | undefined;
          this.events.push({
            at: Date.parse(time),
            stage,
            event,
            records: typeof result === 'object' ? result?.records : undefined,
            outcome: typeof result === 'string' ? result : undefined,
            reason: parsed.reason ?? parsed.error,
          });
        }
      } catch {
        // Not a stage event.
      }
    }
    if ((level === 'ERROR' || level === 'WARN') && process.env.BENCH_ECHO)
      process.stderr.write(`[${this.name}] ${line.slice(0, 600)}\n`);
    if ((level === 'ERROR' || level === 'WARN') && this.problems.length < 200) this.problems.push(line.slice(0, 300));
  }
}

/** The worker's Node flags as infra/app/archiver.bicep deploys them (NODE_OPTIONS), so the bench measures that process. */
export function deployedNodeOptions(): string[] {
  const bicep = readFileSync(resolve(REPO_ROOT, 'infra/app/archiver.bicep'), 'utf8');
  const value = /name: 'NODE_OPTIONS', value: '([^']*)'/.exec(bicep)?.[1];
  if (value === undefined) throw new Error('infra/app/archiver.bicep sets no NODE_OPTIONS');
  return value.split(/\s+/).filter(Boolean);
}
