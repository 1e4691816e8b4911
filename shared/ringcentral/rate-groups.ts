// RingCentral's usage-plan groups. Pacing against them is shared by every instance: see
// shared-group-budget.ts.
export type RateGroup = 'Light' | 'Medium' | 'Heavy' | 'Auth';
export const DEFAULT_RATE_LIMITS: Record<RateGroup, number> = { Light: 50, Medium: 40, Heavy: 10, Auth: 5 };
/** Parses `Light=50,Medium=40,Heavy=10,Auth=5`; missing groups keep their defaults. */
export function parseRateLimits(value: string): Record<RateGroup, number> {
  const limits = { ...DEFAULT_RATE_LIMITS };
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(Light|Medium|Heavy|Auth)\s*=\s*(\d+)$/i.exec(part);
    if (!m) throw new Error(`"${part}" is not Group=N`);
    const group = (m[1][0].toUpperCase() + m[1].slice(1).toLowerCase()) as RateGroup;
    limits[group] = Number(m[2]);
  }
  return limits;
}
