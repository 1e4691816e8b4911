/**
 * Outlook's per-app, per-mailbox limits: concurrent requests, requests per sliding window,
 * and upload bytes (POST/PUT/PATCH bodies) per sliding window.
 */
export interface ThrottleLimits {
  concurrentPerMailbox: number;
  requestsPerWindow: number;
  windowMs: number;
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
  maxRequestBytes: number;
  /** Retry-After sent with a concurrency 429; Exchange answers with a short wait. */
  concurrencyRetryAfterSeconds: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  concurrentPerMailbox: 4,
  requestsPerWindow: 10_000,
  windowMs: 600_000,
  uploadBytesPerWindow: 150 * 1024 * 1024,
  uploadWindowMs: 300_000,
  maxRequestBytes: 4 * 1024 * 1024,
  concurrencyRetryAfterSeconds: 1,
};

export type ThrottleReason = 'MailboxConcurrency' | 'RequestRate' | 'UploadBytes';

export type Admission =
  { admitted: true; release: () => void } | { admitted: false; reason: ThrottleReason; retryAfterSeconds: number };

interface MailboxUsage {
  inFlight: number;
  maxInFlight: number;
  requestTimes: number[];
  uploads: Array<{ at: number; bytes: number }>;
}

export class MailboxThrottle {
  private readonly usage = new Map<string, MailboxUsage>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  admit(mailboxId: string, uploadBytes: number): Admission {
    const usage = this.usageOf(mailboxId);
    const now = this.now();
    usage.requestTimes = usage.requestTimes.filter((t) => t > now - this.limits.windowMs);
    usage.uploads = usage.uploads.filter((u) => u.at > now - this.limits.uploadWindowMs);

    if (usage.inFlight >= this.limits.concurrentPerMailbox) {
      return {
        admitted: false,
        reason: 'MailboxConcurrency',
        retryAfterSeconds: this.limits.concurrencyRetryAfterSeconds,
      };
    }
    if (usage.requestTimes.length >= this.limits.requestsPerWindow) {
      return {
        admitted: false,
        reason: 'RequestRate',
        retryAfterSeconds: secondsUntil(usage.requestTimes[0]! + this.limits.windowMs, now),
      };
    }
    if (uploadBytes > 0) {
      let used = usage.uploads.reduce((sum, u) => sum + u.bytes, 0);
      if (used + uploadBytes > this.limits.uploadBytesPerWindow) {
        // Wait until enough of the window has slid past for this body to fit.
        let freeAt = now;
        for (const u of usage.uploads) {
          used -= u.bytes;
          freeAt = u.at + this.limits.uploadWindowMs;
          if (used + uploadBytes <= this.limits.uploadBytesPerWindow) break;
        }
        return { admitted: false, reason: 'UploadBytes', retryAfterSeconds: secondsUntil(freeAt, now) };
      }
      usage.uploads.push({ at: now, bytes: uploadBytes });
    }
    usage.requestTimes.push(now);
    usage.inFlight += 1;
    usage.maxInFlight = Math.max(usage.maxInFlight, usage.inFlight);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        usage.inFlight -= 1;
      },
    };
  }

  maxConcurrency(): Record<string, number> {
    return Object.fromEntries([...this.usage].map(([id, u]) => [id, u.maxInFlight]));
  }

  reset(): void {
    this.usage.clear();
  }

  private usageOf(mailboxId: string): MailboxUsage {
    let usage = this.usage.get(mailboxId);
    if (!usage) {
      usage = { inFlight: 0, maxInFlight: 0, requestTimes: [], uploads: [] };
      this.usage.set(mailboxId, usage);
    }
    return usage;
  }
}

function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}
