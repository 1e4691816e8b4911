/** RingCentral's rate-limit groups (docs/basics/rate-limits.md); the defaults are requests per 60 s. */
export type RateGroup = 'Light' | 'Medium' | 'Heavy' | 'Auth';
export const DEFAULT_RATE_LIMITS: Record<RateGroup, number> = { Light: 50, Medium: 40, Heavy: 10, Auth: 5 };

export interface RateDecision {
  allowed: boolean;
  /** Set on a refusal: seconds until the (possibly just restarted) penalty ends. */
  retryAfterSeconds?: number;
  /** True when this request arrived while a penalty was already running. */
  duringPenalty: boolean;
  /** True when this request pushed the group over its limit and started a penalty. */
  startedPenalty: boolean;
  headers: Record<string, string>;
}

/**
 * A sliding window per group. Going over the limit starts a penalty for that group, and every
 * request to the group during the penalty restarts it: the behaviour the docs warn about.
 */
export class RateLimiter {
  private readonly hits = new Map<RateGroup, number[]>();
  private readonly penaltyUntil = new Map<RateGroup, number>();

  constructor(
    private readonly limits: Record<RateGroup, number>,
    private readonly windowMs: number,
    private readonly penaltyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  check(group: RateGroup): RateDecision {
    const now = this.now();
    const limit = this.limits[group];
    const recent = (this.hits.get(group) ?? []).filter((t) => t > now - this.windowMs);
    this.hits.set(group, recent);
    const headers = (remaining: number) => ({
      'X-Rate-Limit-Group': group,
      'X-Rate-Limit-Limit': String(limit),
      'X-Rate-Limit-Remaining': String(Math.max(0, remaining)),
      'X-Rate-Limit-Window': String(Math.max(1, Math.round(this.windowMs / 1000))),
    });
    const penalised = (this.penaltyUntil.get(group) ?? 0) > now;
    if (penalised || recent.length >= limit) {
      this.penaltyUntil.set(group, now + this.penaltyMs);
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(this.penaltyMs / 1000)),
        duringPenalty: penalised,
        startedPenalty: !penalised,
        headers: headers(0),
      };
    }
    recent.push(now);
    return { allowed: true, duringPenalty: false, startedPenalty: false, headers: headers(limit - recent.length) };
  }

  /** Forget counts and penalties, e.g. between test cases. */
  reset(): void {
    this.hits.clear();
    this.penaltyUntil.clear();
  }
}
