/** Counts and awaits in-flight invocations, so stop() and waitForIdle() can tell when work is done. */
export class InvocationTracker {
  private readonly running = new Set<Promise<unknown>>();
  private readonly waiters = new Set<() => void>();

  get inFlight(): number {
    return this.running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = () => {
      this.running.delete(work);
      for (const wake of [...this.waiters]) wake();
    };
    work.then(done, done);
    return work;
  }

  /** Resolves when any tracked invocation finishes (or right away when none runs). */
  nextCompletion(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

export interface FunctionStats {
  succeeded: number;
  failed: number;
  poisoned: number;
}

export class HostStats {
  readonly byFunction: Record<string, FunctionStats> = {};
  constructor(private readonly tracker: InvocationTracker) {}
  get inFlight(): number {
    return this.tracker.inFlight;
  }
  record(functionName: string, outcome: keyof FunctionStats): void {
    const entry = (this.byFunction[functionName] ??= { succeeded: 0, failed: 0, poisoned: 0 });
    entry[outcome]++;
  }
  total(outcome: keyof FunctionStats): number {
    return Object.values(this.byFunction).reduce((sum, s) => sum + s[outcome], 0);
  }
}

/** A sleep that stop() can cut short. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish);
  });
}
