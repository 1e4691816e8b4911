import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import type { TimeRange } from './ledger-scan';

/** Bad caller input: answered 400 with this message, never a stack. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO 8601 date (`2025-01-31`, UTC midnight) or date-time with a zone (`2025-01-31T08:00:00Z`). */
export function parseInstant(name: string, value: unknown): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !ISO_DATE.test(value)) {
    throw new BadRequestError(`${name} must be an ISO 8601 date or date-time with a zone, e.g. 2025-01-31 or 2025-01-31T08:00:00Z`);
  }
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  const calendar = new Date(Date.UTC(y!, m! - 1, d!));
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (calendar.getUTCMonth() !== m! - 1 || calendar.getUTCDate() !== d || Number.isNaN(date.getTime())) {
    throw new BadRequestError(`${name} is not a real date: ${value}`);
  }
  return date;
}

export function parseRange(from: unknown, to: unknown): TimeRange {
  const range = { from: parseInstant('from', from), to: parseInstant('to', to) };
  if (range.from && range.to && range.from.getTime() > range.to.getTime()) throw new BadRequestError('from must not be after to');
  return range;
}

/** Runs an HTTP handler: bad input → 400, anything unexpected → 500 with no detail; both logged as JSON. */
export async function answer(context: InvocationContext, work: () => Promise<HttpResponseInit>): Promise<HttpResponseInit> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BadRequestError) {
      context.warn(JSON.stringify({ event: `${context.functionName}.badRequest`, reason: err.message }));
      return { status: 400, jsonBody: { error: err.message } };
    }
    context.error(JSON.stringify({ event: `${context.functionName}.failed`, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));
    return { status: 500, jsonBody: { error: `${context.functionName} failed; see the function logs`, invocationId: context.invocationId } };
  }
}
