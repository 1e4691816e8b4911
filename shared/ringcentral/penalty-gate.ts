import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import { isNotFound, isConflict, isPreconditionFailed } from '../store/storage-errors';
import { RetryLaterError } from '../errors';

const PARTITION = 'ringcentral';
const ROW = 'penalty';

/**
 * RingCentral restarts a rate-limit penalty on every request sent during it, so the penalty
 * is shared state: every worker reads this row before it calls, and whoever is hit writes it.
 */
export class PenaltyGate {
  constructor(private readonly account: StorageAccount) {}

  private get table() {
    return this.account.table(TABLES.rateLimit);
  }

  /** Throws RetryLaterError while a penalty runs, or while the group's window is used up. */
  async assertOpen(group?: string, now = Date.now()): Promise<void> {
    const until = await this.penaltyUntil();
    if (until > now)
      throw new RetryLaterError(Math.ceil((until - now) / 1000), 'RingCentral rate-limit penalty in force');
    if (!group) return;
    const groupUntil = await this.readUntil(`group-${group}`);
    if (groupUntil > now)
      throw new RetryLaterError(Math.ceil((groupUntil - now) / 1000), `RingCentral ${group} group window used up`);
  }

  /** X-Rate-Limit-Remaining reached 0: nobody calls this group until its window turns over. */
  async exhaustGroup(group: string, windowSeconds: number, now = Date.now()): Promise<void> {
    await this.table.upsertEntity(
      { partitionKey: PARTITION, rowKey: `group-${group}`, until: new Date(now + windowSeconds * 1000).toISOString() },
      'Replace',
    );
  }

  private async readUntil(row: string): Promise<number> {
    try {
      const entity = await this.table.getEntity<{ until: string }>(PARTITION, row);
      return Date.parse(entity.until) || 0;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }

  async penaltyUntil(): Promise<number> {
    return this.readUntil(ROW);
  }

  /** Extends the penalty to at least now + seconds; never shortens one another worker wrote. */
  async enterPenalty(seconds: number, now = Date.now()): Promise<void> {
    const until = new Date(now + seconds * 1000).toISOString();
    for (let i = 0; i < 5; i++) {
      let etag: string | undefined;
      try {
        const row = await this.table.getEntity<{ until: string; penalties?: number }>(PARTITION, ROW);
        if (Date.parse(row.until) >= Date.parse(until)) return;
        etag = row.etag;
        await this.table.updateEntity(
          { partitionKey: PARTITION, rowKey: ROW, until, penalties: (row.penalties ?? 0) + 1 },
          'Merge',
          { etag },
        );
        return;
      } catch (err) {
        if (isNotFound(err)) {
          try {
            await this.table.createEntity({ partitionKey: PARTITION, rowKey: ROW, until, penalties: 1 });
            return;
          } catch (e) {
            if (!isConflict(e)) throw e;
          }
        } else if (!isPreconditionFailed(err)) throw err;
      }
    }
  }
}
