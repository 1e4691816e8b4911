import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import type { TimeRange } from './ledger-scan';
import { RetryLaterError } from '../errors';

// The one HTTP edge: every HTTP function parses its input here and answers its errors through
// `answer`, so a caller sees the same statuses everywhere: 400 bad input, 503 a dependency outage,
// 500 a bug.

/** Bad caller input: answered 400 with this message, never a stack. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const ISO_EXAMPLE = 'an ISO 8601 date or date-time with a zone, e.g. 2025-01-31 or 2025-01-31T08:00:00Z';

/** An ISO 8601 date (`2025-01-31`, UTC midnight) or date-time with a zone (`2025-01-31T08:00:00Z`). */
export function parseInstant(name: string, value: unknown): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !ISO_DATE.test(value)) throw new BadRequestError(`${name} must be ${ISO_EXAMPLE}`);
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  const calendar = new Date(Date.UTC(y!, m! - 1, d!));
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (calendar.getUTCMonth() !== m! - 1 || calendar.getUTCDate() !== d || Number.isNaN(date.getTime())) {
    throw new BadRequestError(`${name} is not a real date: ${value}`);
  }
  return date;
}

/** `from`/`to` where either end may be open (log, replay): the ends may be equal. */
export function parseRange(from: unknown, to: unknown): TimeRange {
  const range = { from: parseInstant('from', from), to: parseInstant('to', to) };
  if (range.from && range.to && range.from.getTime() > range.to.getTime())
    throw new BadRequestError('from must not be after to');
  return range;
}

/** A range with both ends known, [from, to): what backfill and reconciliation work on. */
export interface DateRange {
  from: Date;
  to: Date;
}

export interface DateRangeRules {
  /** The ends used when the caller leaves one out; without them both ends are required. */
  defaults?: DateRange;
  /** The latest `to` accepted: backfill cannot capture what has not happened yet. */
  latest?: Date;
  /** Widens the range to whole seconds (from down, to up), for times kept to the second. */
  wholeSeconds?: boolean;
}

/** `from`/`to` of a closed range (backfill, reconcile): both ends known, from strictly before to. */
export function parseDateRange(from: unknown, to: unknown, rules: DateRangeRules = {}): DateRange {
  const end = (name: 'from' | 'to', value: unknown): Date => {
    const date = parseInstant(name, value) ?? rules.defaults?.[name];
    if (!date) throw new BadRequestError(`${name} is required: ${ISO_EXAMPLE}`);
    return date;
  };
  const range = { from: end('from', from), to: end('to', to) };
  if (range.from.getTime() >= range.to.getTime()) throw new BadRequestError('from must be before to');
  if (rules.latest && range.to.getTime() > rules.latest.getTime())
    throw new BadRequestError('to must not be in the future');
  if (!rules.wholeSeconds) return range;
  return {
    from: new Date(Math.floor(range.from.getTime() / 1000) * 1000),
    to: new Date(Math.ceil(range.to.getTime() / 1000) * 1000),
  };
}

// Failures that say nothing about the request or our code: the network or a dependency's server.
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'REQUEST_SEND_ERROR',
]);

/** Retry-After of a 503 when the dependency did not say: long enough for a storage blip or a restart to pass. */
const OUTAGE_RETRY_AFTER_SECONDS = 30;

type ErrorShape = { name?: string; code?: unknown; statusCode?: unknown; status?: unknown; cause?: unknown };

/** The HTTP status a dependency answered, if the error carries one (storage RestError, GraphCallError). */
function dependencyStatus(e: ErrorShape): number | undefined {
  if (e.name === 'RestError' && typeof e.statusCode === 'number') return e.statusCode;
  if (e.name === 'GraphCallError' && typeof e.status === 'number') return e.status;
  return undefined;
}

/**
 * A dependency outage, answered 503 (try again later) rather than 500 (our bug):
 * - a dependency said so: RetryLaterError (RingCentral and Graph clients turn 429/5xx into it);
 * - Azure Storage or Graph answered 5xx, 429 or 408 (storage throttling is 503 ServerBusy);
 * - a storage RestError with no status: the request never got an answer;
 * - a network error code anywhere on the cause chain (fetch wraps them in a TypeError).
 * A 4xx other than those is a request we built wrongly or a misconfiguration: a bug, 500.
 */
export function isDependencyOutage(err: unknown): boolean {
  if (err instanceof RetryLaterError) return true;
  for (
    let e = err as ErrorShape | undefined, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = e.cause as ErrorShape | undefined, depth++
  ) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    const status = dependencyStatus(e);
    if (status !== undefined) return status >= 500 || status === 429 || status === 408;
    if (e.name === 'RestError') return true;
  }
  return false;
}

/**
 * What the logs say about an error: its type and the dependency's status and code, never its
 * message (a storage or Graph message can quote a URL with a SAS, an address or a key).
 */
export function errorKind(err: unknown): { error: string; errorType: string; statusCode?: number; code?: string } {
  const e = (err !== null && typeof err === 'object' ? err : {}) as ErrorShape;
  const errorType = err instanceof Error ? err.name || err.constructor.name : typeof err;
  const cause = (e.cause !== null && typeof e.cause === 'object' ? e.cause : {}) as ErrorShape;
  const code = (typeof e.code === 'string' ? e.code : typeof cause.code === 'string' ? cause.code : undefined)?.slice(
    0,
    80,
  );
  const statusCode = dependencyStatus(e);
  // `error` is what the workbook's recent-errors query shows (infra/workbook/recent-errors.kql).
  return {
    error: [errorType, statusCode, code].filter((part) => part !== undefined).join(' '),
    errorType,
    statusCode,
    code,
  };
}

/** Runs an HTTP handler: bad input → 400, a dependency outage → 503, anything else → 500; no detail or stack leaves. */
export async function answer(
  context: InvocationContext,
  work: () => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BadRequestError) {
      context.warn(JSON.stringify({ event: `${context.functionName}.badRequest`, reason: err.message }));
      return { status: 400, jsonBody: { error: err.message } };
    }
    const outage = isDependencyOutage(err);
    // A bug's log names where it happened (the top stack frames: code locations, no message) so
    // "see the function logs" leads somewhere without the logs carrying what the error quoted.
    const where =
      !outage && err instanceof Error
        ? err.stack
            ?.split('\n')
            .filter((l) => /^\s+at /.test(l))
            .slice(0, 3)
            .map((l) => l.trim())
        : undefined;
    context.error(
      JSON.stringify({
        event: `${context.functionName}.failed`,
        outcome: outage ? 'unavailable' : 'bug',
        ...errorKind(err),
        where,
      }),
    );
    if (outage) {
      const retryAfter =
        err instanceof RetryLaterError
          ? String(Math.max(1, Math.ceil(err.delaySeconds)))
          : String(OUTAGE_RETRY_AFTER_SECONDS);
      return {
        status: 503,
        headers: { 'retry-after': retryAfter },
        jsonBody: {
          error: `${context.functionName} is unavailable: a service it depends on did not answer; try again later`,
          invocationId: context.invocationId,
        },
      };
    }
    return {
      status: 500,
      jsonBody: { error: `${context.functionName} failed; see the function logs`, invocationId: context.invocationId },
    };
  }
}
