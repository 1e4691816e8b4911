import type { ClaimState, DeliveryLedger } from '../store/delivery-ledger';
import { ClaimLostError } from '../errors';

/**
 * A delivery claim while its worker runs. It is renewed every quarter of its length; when the
 * claim is taken over, or renewals fail until only the settle time is left (the time a write the
 * client gave up on is given to land; at most half the claim), `fence` aborts, so no Graph write
 * starts, and none stays in flight, after a moment from which it could still land once another
 * worker has claimed the pair and looked. The writes that end the claim carry its latest ETag, so
 * they fail rather than undo a new owner's work.
 */
export class HeldClaim {
  private state: ClaimState;
  private readonly controller = new AbortController();
  private readonly claimMs: number;
  private readonly stopBeforeLapseMs: number;
  private renewal: Promise<void> = Promise.resolve();
  private renewTimer?: NodeJS.Timeout;
  private lapseTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly mailbox: string,
    private readonly itemKey: string,
    claimed: ClaimState,
    settleSeconds: number,
  ) {
    this.state = claimed;
    this.claimMs = ledger.claimSeconds * 1000;
    this.stopBeforeLapseMs = Math.min(this.claimMs / 2, Math.max(this.claimMs / 6, settleSeconds * 1000));
    this.armLapse();
    this.renewTimer = setInterval(() => {
      this.renewal = this.renewal.then(() => this.renew());
    }, this.claimMs / 4);
    this.renewTimer.unref();
  }

  /** Aborts (with a ClaimLostError) when this worker must write nothing more. */
  get fence(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Stops renewing and makes the write that ends the claim with its latest state (ETag). A claim that was
   * taken over makes the write fail with ClaimLostError; nothing is written then.
   */
  async end(write: (claim: ClaimState) => Promise<void>): Promise<void> {
    this.stop();
    await this.renewal;
    await write(this.state);
  }

  /**
   * Like `end`, for a worker on its way out with an error of its own, which its message's retry
   * will answer: a claim that is gone needs no ending, and one that cannot be ended lapses.
   */
  async endQuietly(write: (claim: ClaimState) => Promise<void>): Promise<void> {
    await this.end(write).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.lapseTimer);
  }

  private async renew(): Promise<void> {
    if (this.stopped || this.fence.aborted) return;
    const now = new Date();
    try {
      // A renewal that hangs past the lapse is as good as failed; the lapse timer has fired by then.
      this.state = await this.ledger.renew(this.mailbox, this.itemKey, this.state, {
        now,
        abortSignal: AbortSignal.timeout(this.claimMs / 4),
      });
      if (!this.stopped) this.armLapse();
    } catch (err) {
      if (err instanceof ClaimLostError) return this.lose(err);
      // The renewal may have been written and only its answer lost: then the row carries exactly
      // the end it set, and its ETag is the claim's now. Otherwise (storage unreachable) the next
      // tick tries again, and the lapse timer stands.
      const wrote = new Date(now.getTime() + this.claimMs).toISOString();
      const row = await this.ledger.get(this.mailbox, this.itemKey).catch(() => undefined);
      if (
        row?.etag &&
        row.status === 'inProgress' &&
        row.claimedUntil === wrote &&
        !this.stopped &&
        !this.fence.aborted
      ) {
        this.state = { ...this.state, etag: row.etag, claimedUntil: new Date(wrote) };
        this.armLapse();
      }
    }
  }

  private armLapse(): void {
    clearTimeout(this.lapseTimer);
    const stopAt = this.state.claimedUntil.getTime() - this.stopBeforeLapseMs;
    this.lapseTimer = setTimeout(
      () =>
        this.lose(new ClaimLostError(`the delivery claim on ${this.itemKey} could not be renewed before it lapsed`)),
      Math.max(0, stopAt - Date.now()),
    );
    this.lapseTimer.unref();
  }

  private lose(reason: ClaimLostError): void {
    if (!this.fence.aborted) this.controller.abort(reason);
    clearInterval(this.renewTimer);
    clearTimeout(this.lapseTimer);
  }
}
