/** A half-open range of item time, [from, to), in whole seconds (Exchange keeps message times to the second). */
export interface ReconcileRange { from: Date; to: Date }

export class InvalidRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRangeError';
  }
}

/**
 * Parses `from`/`to` (ISO date-times; either may be absent). Defaults: the retention period up to now.
 * `from` is rounded down and `to` up to the second, so an item's time is in range exactly when its
 * mailbox copy's receivedDateTime (kept to the second) is.
 */
export function parseRange(from: string | null | undefined, to: string | null | undefined, retentionDays: number, now = new Date()): ReconcileRange {
  const parse = (name: string, text: string | null | undefined, fallback: number) => {
    if (text === null || text === undefined || text.trim() === '') return fallback;
    if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) throw new InvalidRangeError(`${name} must be an ISO date-time`);
    const t = Date.parse(text.trim());
    if (Number.isNaN(t)) throw new InvalidRangeError(`${name} must be an ISO date-time`);
    return t;
  };
  const start = parse('from', from, now.getTime() - retentionDays * 86_400_000);
  const end = parse('to', to, now.getTime());
  if (!(end > start)) throw new InvalidRangeError('to must be after from');
  return { from: new Date(Math.floor(start / 1000) * 1000), to: new Date(Math.ceil(end / 1000) * 1000) };
}
