import { readHostConfig, type HostConfig, type HostJsonOverrides } from './host-config';
import { HttpFunctionServer } from './http-server';
import { HostStats, InvocationTracker } from './invocations';
import { hostLogger, type LogSink } from './logging';
import { DEFAULT_MESSAGE_LEASE_S, QueueListener } from './queue-listener';
import { loadApp, type AppTerminateHook, type RegisteredFunction } from './registry';
import { queueClient, resolveConnection } from './storage';
import { TimerScheduler } from './timer-scheduler';

export type { RegisteredFunction } from './registry';

export interface LocalFunctionsHostOptions {
  repoRoot: string;
  /** App settings; copied into process.env before the function files load, as the Azure host exposes them. */
  settings: Record<string, string>;
  /** Default 7071; 0 picks a free port. */
  httpPort?: number;
  /** Delay between empty queue polls. Default 250 ms (the Azure host backs off up to maxPollingInterval). */
  pollIntervalMs?: number;
  /** Shown in host log lines, to tell scaled-out workers apart. */
  workerId?: string;
  log?: LogSink;
  /** Default true. When false, timers run only through runTimer() or the admin endpoint. */
  timers?: boolean;
  /**
   * How long a running message stays invisible, renewed halfway (Azure: 600 s). Shorten it for
   * chaos tests, so a message held by a killed worker comes back soon.
   */
  messageLeaseSeconds?: number;
  /** Deep-merged over host.json, e.g. `{ extensions: { queues: { maxDequeueCount: 2 } } }`. */
  hostJson?: HostJsonOverrides;
}

/**
 * Runs the app's Azure Functions (http, timer, storageQueue triggers) without Core Tools, with the
 * Azure host's semantics for retries, poison queues, timer singletons and function keys.
 */
export class LocalFunctionsHost {
  functions: RegisteredFunction[] = [];
  url = '';
  readonly config: HostConfig;
  readonly stats: HostStats;
  private readonly tracker = new InvocationTracker();
  private readonly sink: LogSink;
  private readonly logger;
  private queueListeners: QueueListener[] = [];
  private timers = new Map<string, TimerScheduler>();
  private http: HttpFunctionServer | undefined;
  private started = false;
  private terminateHooks: AppTerminateHook[] = [];

  constructor(private readonly opts: LocalFunctionsHostOptions) {
    const prefix = opts.workerId ? `[${opts.workerId}] ` : '';
    const base = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.sink = (line) => base(prefix + line);
    this.logger = hostLogger(this.sink);
    this.config = readHostConfig(opts.repoRoot, opts.hostJson);
    this.stats = new HostStats(this.tracker);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('host already started');
    this.started = true;
    const settings = this.opts.settings;
    Object.assign(process.env, settings);
    ({ functions: this.functions, terminateHooks: this.terminateHooks } = loadApp(this.opts.repoRoot));
    // As in Azure: the app setting AzureWebJobs.<name>.Disabled = true (or 1) turns a function off.
    const disabled = this.functions.filter((f) =>
      /^(true|1)$/i.test(settings[`AzureWebJobs.${f.name}.Disabled`] ?? ''),
    );
    if (disabled.length) {
      this.functions = this.functions.filter((f) => !disabled.includes(f));
      this.logger.info(`disabled by AzureWebJobs.<name>.Disabled: ${disabled.map((f) => f.name).join(', ')}`);
    }
    const common = { settings, sink: this.sink, logger: this.logger, tracker: this.tracker, stats: this.stats };
    const encoding = this.config.queues.messageEncoding;

    try {
      for (const fn of this.functions) {
        if (fn.kind === 'timer') {
          const storageConnection = resolveConnection(settings, 'AzureWebJobsStorage');
          this.timers.set(
            fn.name,
            new TimerScheduler(fn.name, fn.options, { ...common, storageConnection, messageEncoding: encoding }),
          );
        } else if (fn.kind === 'storageQueue') {
          this.queueListeners.push(
            new QueueListener(fn.name, fn.options, {
              ...common,
              config: this.config.queues,
              pollIntervalMs: this.opts.pollIntervalMs ?? 250,
              messageLeaseSeconds: this.opts.messageLeaseSeconds ?? DEFAULT_MESSAGE_LEASE_S,
            }),
          );
        }
      }
      const httpFunctions = this.functions.filter((f) => f.kind === 'http');
      this.http = new HttpFunctionServer(httpFunctions, {
        ...common,
        routePrefix: this.config.routePrefix,
        messageEncoding: encoding,
        invokeNonHttp: (name) => {
          const timer = [...this.timers.values()].find((t) => t.functionName.toLowerCase() === name.toLowerCase());
          return timer ? this.tracker.track(timer.runNow()) : undefined;
        },
      });
      if (
        httpFunctions.some((f) => (f.options.authLevel ?? 'anonymous') !== 'anonymous') &&
        !settings.LOCAL_FUNCTION_KEY &&
        !settings.LOCAL_ADMIN_KEY
      ) {
        this.logger.warn(
          'keyed HTTP functions exist but neither LOCAL_FUNCTION_KEY nor LOCAL_ADMIN_KEY is set: they will answer 401',
        );
      }
      const port = await this.http.listen(this.opts.httpPort ?? 7071);
      this.url = `http://127.0.0.1:${port}`;
      for (const listener of this.queueListeners) await listener.start();
      for (const timer of this.timers.values()) await timer.start(this.opts.timers !== false);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.logger.info(`host started: ${this.functions.map((f) => `${f.name}(${f.kind})`).join(', ')} at ${this.url}`);
  }

  /** Graceful: stops polling and scheduling, stops accepting requests, waits for in-flight invocations. */
  async stop(): Promise<void> {
    await Promise.all([...this.queueListeners.map((l) => l.stop()), ...[...this.timers.values()].map((t) => t.stop())]);
    await this.http?.close();
    await this.tracker.drain();
    // As the Azure worker does on shutdown: the app's appTerminate hooks, after the last invocation.
    for (const hook of this.terminateHooks) {
      try {
        await hook();
      } catch (err) {
        this.logger.warn(`appTerminate hook failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.logger.info('host stopped');
  }

  /** Invokes a timer function now, as the host would (singleton lock, Timer input, status update). */
  async runTimer(name: string): Promise<void> {
    const timer = [...this.timers.values()].find((t) => t.functionName.toLowerCase() === name.toLowerCase());
    if (!timer) throw new Error(`no timer function named "${name}"`);
    await this.tracker.track(timer.runNow());
  }

  /**
   * Resolves when every trigger queue (or the ones named) reports approximateMessagesCount 0, which
   * counts invisible and delayed messages too, and nothing runs here, twice in a row.
   */
  async waitForIdle(opts: { timeoutMs?: number; queues?: string[] } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    // Named queues need not be trigger queues here (another worker's, or an output queue).
    const queues = opts.queues
      ? opts.queues.map(
          (name) =>
            this.queueListeners.find((l) => l.queue.name === name)?.queue ??
            queueClient(resolveConnection(this.opts.settings, 'AzureWebJobsStorage'), name),
        )
      : this.queueListeners.map((l) => l.queue);
    let quietChecks = 0;
    let lastCounts: Record<string, number> = {};
    while (quietChecks < 2) {
      const counts = await Promise.all(
        queues.map(async (q) => [q.name, (await q.getProperties()).approximateMessagesCount ?? 0] as const),
      );
      lastCounts = Object.fromEntries(counts);
      const idle = counts.every(([, n]) => n === 0) && this.tracker.inFlight === 0;
      quietChecks = idle ? quietChecks + 1 : 0;
      if (quietChecks >= 2) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not idle after ${timeoutMs} ms: queues ${JSON.stringify(lastCounts)}, in flight ${this.tracker.inFlight}`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(100, this.opts.pollIntervalMs ?? 250)));
    }
  }
}
