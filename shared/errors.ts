// Typed errors the queue stages understand. Anything else is a plain failure: the host
// retries it up to maxDequeueCount and then parks the message in <queue>-poison.

/** Not a failure: try again after `delaySeconds` (throttling, export still running, a busy claim). */
export class RetryLaterError extends Error {
  constructor(
    readonly delaySeconds: number,
    readonly reason: string,
  ) {
    super(`retry in ${delaySeconds}s: ${reason}`);
    this.name = 'RetryLaterError';
  }
}

/**
 * This worker no longer holds (or can no longer keep) its delivery claim: it must write nothing
 * more. Rescheduled like any RetryLaterError; the next attempt finds the delivery done or busy,
 * or claims it and looks the item up first.
 */
export class ClaimLostError extends RetryLaterError {
  constructor(reason: string) {
    super(5, reason);
    this.name = 'ClaimLostError';
  }
}

/**
 * A write whose answer was lost (a 503 or 504, a reset, a time-out): it may have been carried out,
 * or may still be. The next attempt waits `delaySeconds` for it to land, then looks before writing.
 */
export class OutcomeUnknownError extends RetryLaterError {
  constructor(delaySeconds: number, reason: string) {
    super(delaySeconds, reason);
    this.name = 'OutcomeUnknownError';
  }
}

/** Input that will never become valid by retrying: report it and move on. */
export class InvalidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 1000);
  return String(err).slice(0, 1000);
}

/**
 * RingCentral refused a call because the app lacks a permission (403 CMN-401). Retrying cannot help
 * until an admin grants it: the capture source is shown as blocked and probed again later.
 */
export class PermissionMissingError extends Error {
  constructor(
    readonly permission: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermissionMissingError';
  }
}
