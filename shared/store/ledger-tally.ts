import type { TableClient, TransactionAction } from '@azure/data-tables';
import { isNotFound, isConflict, isPreconditionFailed } from './storage-errors';

/** Counts by group ("all", "day:2026-11-20", "kind:post") and bucket ("delivered", "captured", …). */
export type Tally = Record<string, Record<string, number>>;

/** One row leaving (-1) or entering (+1) a bucket, counted in each of its groups. */
export interface TallyMove {
  groups: string[];
  bucket: string;
  delta: 1 | -1;
}

/** Tally rows sort after every ledger row key (which never start with '~'). */
export const TALLY_ROW_PREFIX = '~tally|';
const SHARDS = 4;
const MAX_TRIES = 30;

export function addTally(into: Tally, from: Tally): Tally {
  for (const [group, buckets] of Object.entries(from)) {
    const target = (into[group] ??= {});
    for (const [bucket, n] of Object.entries(buckets)) target[bucket] = (target[bucket] ?? 0) + n;
  }
  return into;
}

function applyMoves(tally: Tally, moves: TallyMove[]): Tally {
  for (const { groups, bucket, delta } of moves) {
    for (const group of groups) {
      const buckets = (tally[group] ??= {});
      buckets[bucket] = (buckets[bucket] ?? 0) + delta;
    }
  }
  return tally;
}

/** A row's change of bucket as moves; nothing when it stays where it was. */
export function movesBetween(
  before: { groups: string[]; bucket: string } | undefined,
  after: { groups: string[]; bucket: string } | undefined,
): TallyMove[] {
  if (before && after && before.bucket === after.bucket && before.groups.join('\n') === after.groups.join('\n'))
    return [];
  return [...(before ? [{ ...before, delta: -1 as const }] : []), ...(after ? [{ ...after, delta: 1 as const }] : [])];
}

/**
 * Ledger rows and the counts of their partition, written together. Each partition keeps its counts
 * in a few tally rows beside its ledger rows, and every change of a row's bucket is made in the same
 * entity-group transaction as the tally move: a retry, a replay or a crash can neither repeat nor
 * lose a count, because the count moves exactly when the row does. The shards spread concurrent
 * writers of one partition; their sum is the partition's tally.
 */
export class TalliedPartition {
  constructor(private readonly table: TableClient) {}

  /**
   * Submits `actions` (all in `partitionKey`) with the tally moves. A failure of the caller's own
   * actions (a 409 on a create, a 412 on an ETag) is thrown as it came; a conflict on the tally
   * row is retried on another shard.
   */
  async write(partitionKey: string, actions: TransactionAction[], moves: TallyMove[]): Promise<void> {
    if (!moves.length) {
      if (actions.length) await this.table.submitTransaction(actions);
      return;
    }
    for (let tries = 0; ; tries++) {
      const rowKey = `${TALLY_ROW_PREFIX}${Math.floor(Math.random() * SHARDS)}`;
      const current = await this.read(partitionKey, rowKey);
      const tally = JSON.stringify(applyMoves(current?.tally ?? {}, moves));
      const tallyAction: TransactionAction = current
        ? ['update', { partitionKey, rowKey, tally }, 'Replace', { etag: current.etag }]
        : ['create', { partitionKey, rowKey, tally }];
      try {
        await this.table.submitTransaction([...actions, tallyAction]);
        return;
      } catch (err) {
        if ((!isConflict(err) && !isPreconditionFailed(err)) || tries >= MAX_TRIES) throw err;
        // Which part failed? If the tally row is as it was, it was the caller's row.
        const now = await this.read(partitionKey, rowKey);
        if ((now?.etag ?? '') === (current?.etag ?? '')) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * (tries + 1)));
      }
    }
  }

  /** The partition's counts: the sum of its tally rows. */
  async tally(partitionKey: string): Promise<Tally> {
    const rows = this.table.listEntities<{ tally?: string }>({
      queryOptions: {
        filter: `PartitionKey eq '${partitionKey.replace(/'/g, "''")}' and RowKey ge '${TALLY_ROW_PREFIX}' and RowKey lt '~tally}'`,
        select: ['tally'],
      },
    });
    const sum: Tally = {};
    for await (const row of rows) if (row.tally) addTally(sum, JSON.parse(row.tally) as Tally);
    return sum;
  }

  private async read(partitionKey: string, rowKey: string): Promise<{ etag: string; tally: Tally } | undefined> {
    try {
      const row = await this.table.getEntity<{ tally?: string }>(partitionKey, rowKey);
      return { etag: row.etag, tally: row.tally ? (JSON.parse(row.tally) as Tally) : {} };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** The groups a row is counted in: everything, its UTC day (when it has a time) and its kind. */
export function tallyGroups(itemTime: string | undefined, kind?: string): string[] {
  const t = itemTime ? Date.parse(itemTime) : NaN;
  return [
    'all',
    ...(Number.isNaN(t) ? [] : [`day:${new Date(t).toISOString().slice(0, 10)}`]),
    ...(kind ? [`kind:${kind}`] : []),
  ];
}
