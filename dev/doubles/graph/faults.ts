export type FaultKind = '429' | '503' | '504' | 'reset' | 'slow' | 'lostResponse';

export interface FaultSpec {
  kind: FaultKind;
  /**
   * 'before' (default): the request fails without doing anything. 'after': the work is done and
   * stored, then the answer fails, as a gateway does when Exchange committed the write: 503/504
   * replace the real answer, 'reset' drops the connection, 'slow' holds the answer for `delayMs`.
   * 'lostResponse' is the same as 'reset' after. A 429 is always 'before': throttling is decided
   * at the front door, before any work.
   */
  phase?: 'before' | 'after';
  /** All given fields must match. `mailbox` is any address or id of the user; `pathIncludes` is tested against the decoded path and query. */
  match?: { method?: string; pathIncludes?: string; mailbox?: string };
  /** How many times the fault fires; unlimited when omitted. */
  count?: number;
  /** Matching requests let through before the fault may fire (e.g. 1 to hit the second chunk of an upload). */
  skip?: number;
  /** Chance (0-1) that a matching request is hit, drawn from the seeded RNG; default 1. */
  probability?: number;
  /** For 429/503: the Retry-After header in seconds (default 1 for 429; none for 503). */
  retryAfterSeconds?: number;
  /** For 'slow': added delay before the request is handled, or before the answer with phase 'after' (default 2000). */
  delayMs?: number;
}

export interface InjectedFault {
  readonly spec: FaultSpec;
  /** How many times it has fired so far. */
  readonly fired: number;
  remove(): void;
}

export interface FaultTarget {
  method: string;
  decodedPathAndQuery: string;
  mailboxId?: string;
}

/** Fault rules chosen per request; earlier rules win. */
export class FaultInjector {
  private rules: Array<{ spec: FaultSpec; fired: number; seen: number; mailboxId?: string }> = [];

  constructor(
    private readonly random: () => number,
    private readonly resolveMailbox: (addressOrId: string) => string | undefined,
  ) {}

  inject(spec: FaultSpec): InjectedFault {
    const rule = {
      spec,
      fired: 0,
      seen: 0,
      mailboxId: spec.match?.mailbox ? (this.resolveMailbox(spec.match.mailbox) ?? spec.match.mailbox) : undefined,
    };
    this.rules.push(rule);
    return {
      spec,
      get fired() {
        return rule.fired;
      },
      remove: () => {
        this.rules = this.rules.filter((r) => r !== rule);
      },
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** Picks the fault for this request, if any, and counts it as fired. */
  pick(target: FaultTarget): FaultSpec | undefined {
    for (const rule of this.rules) {
      const { spec } = rule;
      if (spec.count !== undefined && rule.fired >= spec.count) continue;
      const match = spec.match ?? {};
      if (match.method && match.method.toUpperCase() !== target.method.toUpperCase()) continue;
      if (match.pathIncludes && !target.decodedPathAndQuery.toLowerCase().includes(match.pathIncludes.toLowerCase()))
        continue;
      if (rule.mailboxId && rule.mailboxId !== target.mailboxId) continue;
      if (spec.skip !== undefined && rule.seen++ < spec.skip) continue;
      if (spec.probability !== undefined && this.random() >= spec.probability) continue;
      rule.fired += 1;
      return spec;
    }
    return undefined;
  }
}

/** Whether the fault strikes after the operation has been carried out. */
export function strikesAfterWork(spec: FaultSpec): boolean {
  return spec.kind === 'lostResponse' || (spec.phase === 'after' && spec.kind !== '429');
}
