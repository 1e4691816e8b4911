import { format } from 'node:util';
import { InvocationContext, type LogLevel } from '@azure/functions';

export type LogSink = (line: string) => void;

const LEVELS: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  information: 'INFO',
  warning: 'WARN',
  error: 'ERROR',
  critical: 'CRIT',
  none: 'NONE',
};

/** One line per entry: `<ISO time> <LEVEL> <function> <invocation id> <message>`; newlines are escaped. */
export function logLine(level: LogLevel | string, functionName: string, invocationId: string, args: unknown[]): string {
  const message = format(...args).replace(/\r?\n/g, '\\n');
  return `${new Date().toISOString()} ${LEVELS[level] ?? String(level).toUpperCase()} ${functionName} ${invocationId} ${message}`;
}

/** Host-level events (not from a handler) use "host" as the function and "-" as the invocation. */
export function hostLogger(sink: LogSink) {
  return {
    info: (...args: unknown[]) => sink(logLine('information', 'host', '-', args)),
    warn: (...args: unknown[]) => sink(logLine('warning', 'host', '-', args)),
    error: (...args: unknown[]) => sink(logLine('error', 'host', '-', args)),
    forFunction: (functionName: string, invocationId: string) => ({
      warn: (...args: unknown[]) => sink(logLine('warning', functionName, invocationId, args)),
      error: (...args: unknown[]) => sink(logLine('error', functionName, invocationId, args)),
    }),
  };
}
export type HostLogger = ReturnType<typeof hostLogger>;

export function newInvocationContext(
  sink: LogSink,
  init: { functionName: string; invocationId: string; triggerMetadata?: Record<string, unknown>; options?: object },
): InvocationContext {
  return new InvocationContext({
    invocationId: init.invocationId,
    functionName: init.functionName,
    triggerMetadata: init.triggerMetadata,
    options: init.options as never,
    logHandler: (level, ...args) => sink(logLine(level, init.functionName, init.invocationId, args)),
  });
}

/** An error's type and message only: messages we log must never carry a payload or a stack to callers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
