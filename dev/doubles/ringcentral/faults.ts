/**
 * `504-after-commit` and `reset-after-commit` hit after the work is done: on a write path (creating
 * an export or a message store report task) the task exists, then the answer is a 504 or a reset.
 * On a read path they answer the same way after the handler has run (a task GET still advances the task).
 */
export type InjectedFaultKind = '429' | '503' | 'reset' | 'slow' | '504-after-commit' | 'reset-after-commit';
export type ExportFailure = 'AttemptFailed' | 'Failed';

export interface InjectedFault {
  kind: InjectedFaultKind;
  /** How many matching requests get the fault (default 1). */
  count?: number;
  /** Substring of, or pattern for, the request path; absent matches every request. */
  match?: string | RegExp;
  /** Chance (0..1, seeded RNG) that a matching request gets the fault; default 1. */
  probability?: number;
  /** For 'slow': how long to hold the request before answering normally (default 2000 ms). */
  delayMs?: number;
  /** For '429': the Retry-After value in seconds (default 1). An injected 429 starts no penalty. */
  retryAfterSeconds?: number;
}

interface Truncation {
  afterBytes: number;
  match?: string | RegExp;
}

/** Faults the tests switch on; probabilistic ones draw from a seeded RNG so runs repeat. */
export class Faults {
  private injected: Array<Required<Pick<InjectedFault, 'kind' | 'count'>> & InjectedFault> = [];
  private exportFailures: ExportFailure[] = [];
  private truncations: Truncation[] = [];
  private reportFailures: ExportFailure[] = [];

  constructor(private readonly random: () => number) {}

  /** The next `times` export tasks go to `status` where they would have completed. */
  failNextExport(times = 1, status: ExportFailure = 'Failed'): void {
    for (let i = 0; i < times; i++) this.exportFailures.push(status);
  }

  /** The next download (dataset or file) whose path matches is cut after `afterBytes` body bytes. */
  truncateNextDownload(afterBytes: number, match?: string | RegExp): void {
    this.truncations.push({ afterBytes, match });
  }

  /** The next `times` message store report tasks go to `status` where they would have completed. */
  failNextMessageStoreReport(times = 1, status: ExportFailure = 'Failed'): void {
    for (let i = 0; i < times; i++) this.reportFailures.push(status);
  }

  inject(fault: InjectedFault): void {
    this.injected.push({ ...fault, count: fault.count ?? 1 });
  }

  clear(): void {
    this.injected = [];
    this.exportFailures = [];
    this.truncations = [];
    this.reportFailures = [];
  }

  /** Consumes and returns the fault, if any, for a request to `path`. */
  takeInjected(path: string): InjectedFault | undefined {
    const index = this.injected.findIndex((f) => f.count > 0 && matches(f.match, path));
    if (index < 0) return undefined;
    const fault = this.injected[index];
    if (fault.probability !== undefined && this.random() >= fault.probability) return undefined;
    fault.count--;
    if (fault.count <= 0) this.injected.splice(index, 1);
    return fault;
  }

  takeExportFailure(): ExportFailure | undefined {
    return this.exportFailures.shift();
  }

  takeMessageStoreReportFailure(): ExportFailure | undefined {
    return this.reportFailures.shift();
  }

  takeTruncation(path: string): number | undefined {
    const index = this.truncations.findIndex((t) => matches(t.match, path));
    if (index < 0) return undefined;
    return this.truncations.splice(index, 1)[0].afterBytes;
  }
}

function matches(match: string | RegExp | undefined, path: string): boolean {
  if (match === undefined) return true;
  return typeof match === 'string' ? path.includes(match) : match.test(path);
}
