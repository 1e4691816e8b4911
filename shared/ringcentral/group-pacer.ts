import { RetryLaterError } from '../errors';

export type RateGroup = 'Light' | 'Medium' | 'Heavy' | 'Auth';
export const DEFAULT_RATE_LIMITS: Record<RateGroup, number> = { Light: 50, Medium: 40, Heavy: 10, Auth: 5 };
const WINDOW_MS = 60_000;

/**
 * RingCentral's usage-plan groups, per 60 s. This instance never sends more than its group's
 * budget: past it, the call is rescheduled (RetryLaterError) instead of provoking a 429, whose
 * penalty would stop every instance. The shared X-Rate-Limit-* view lives in PenaltyGate.
 */
export class GroupPacer {
  private readonly sent = new Map<RateGroup, number[]>();

  constructor(private readonly limits: Record<RateGroup, number> = DEFAULT_RATE_LIMITS, private readonly now: () => number = Date.now) {}

  take(group: RateGroup): void {
    const now = this.now();
    const times = (this.sent.get(group) ?? []).filter((t) => now - t < WINDOW_MS);
    if (times.length >= this.limits[group]) {
      this.sent.set(group, times);
      throw new RetryLaterError(Math.ceil((times[0] + WINDOW_MS - now) / 1000), `RingCentral ${group} group budget of ${this.limits[group]}/min used`);
    }
    times.push(now);
    this.sent.set(group, times);
  }
}

/** Parses `Light=50,Medium=40,Heavy=10,Auth=5`; missing groups keep their defaults. */
export function parseRateLimits(value: string): Record<RateGroup, number> {
  const limits = { ...DEFAULT_RATE_LIMITS };
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(Light|Medium|Heavy|Auth)\s*=\s*(\d+)$/i.exec(part);
    if (!m) throw new Error(`"${part}" is not Group=N`);
    const group = (m[1][0].toUpperCase() + m[1].slice(1).toLowerCase()) as RateGroup;
    limits[group] = Number(m[2]);
  }
  return limits;
}
