// Preloaded (`node -r`) into the Azurite process only. Azurite keeps queue messages and blob
// extents in LokiJS collections, and removes them through LokiJS's batch path, which marks every
// binary index dirty, so the next look-up re-sorts the whole collection. Azurite calls that path on
// every queue operation (its expired-message sweep removes an empty batch), and once per deleted
// message: with a few thousand messages queued, each queue call cost a full sort, and Azurite, not
// the archiver, set the pace of every local run (profiled: 45% of its CPU in index rebuilds).
//
// This routes empty and one-document batches through LokiJS's own single-document removal, which
// updates the indexes in place.
//
// Second, LokiJS uses an index only for the first clause of a query, and Azurite's queries start
// with the account name, which every document shares: each blob, message or entity look-up
// scanned the whole store. Clauses are reordered so that the most selective indexed equality
// (a message id, a blob name, a row key) comes first; an implicit AND does not depend on order.
//
// Third, every queue operation first sweeps the queue for expired messages, a scan of the whole
// queue; messages get an index on their expiry time, which the reordering puts first. A batch
// update (a dequeue of 16) rebuilt every index too, and is now done one document at a time.
//
// What is stored and returned is unchanged; only the cost is. That holds for the Azurite and LokiJS
// versions it was written for (azurite-versions.ts); on others it warns and patches nothing.
import path from 'node:path';
import { indexPatchMismatch, installedAzuriteVersions } from './azurite-versions';

interface LokiCollection {
  data: object[];
  binaryIndices: Record<string, unknown>;
  update(doc: object | object[]): void;
  remove(doc: object): void;
  removeBatch(batch: Array<object | number>): void;
  removeBatchByPositions(positions: number[]): void;
  get(id: number): object | null;
}

const mismatch = indexPatchMismatch(installedAzuriteVersions());
if (mismatch) console.warn(mismatch);
else patchLoki();

function patchLoki(): void {
  const azuriteDir = path.dirname(require.resolve('azurite/package.json'));
  const Loki = require(require.resolve('lokijs', { paths: [azuriteDir] })) as {
    Collection: { prototype: LokiCollection };
    Resultset: { prototype: { collection: LokiCollection; find(query: unknown, firstOnly?: boolean): unknown } };
    prototype: { addCollection(name: string, options?: { indices?: string[] }): LokiCollection };
  };
  const proto = Loki.Collection.prototype;

  // Azurite's indexed fields, most selective first; the account name stays last. An indexed range
  // (expiry before now) goes after the one-document equalities and before the wide ones.
  const SELECTIVE = [
    'messageId',
    'name',
    'blobName',
    'id',
    'RowKey',
    'PartitionKey',
    '(indexed range)',
    'queueName',
    'containerName',
    'table',
  ];
  const rank = (query: Record<string, unknown>, key: string, indexed: Record<string, unknown>): number => {
    const value = query[key];
    const equality = value === null || typeof value !== 'object' || value instanceof Date;
    if (!equality) return key in indexed ? SELECTIVE.indexOf('(indexed range)') : SELECTIVE.length;
    const at = SELECTIVE.indexOf(key);
    return at >= 0 ? at : SELECTIVE.length;
  };
  const find = Loki.Resultset.prototype.find;
  Loki.Resultset.prototype.find = function (this: { collection: LokiCollection }, query: unknown, firstOnly?: boolean) {
    if (query && typeof query === 'object' && !Array.isArray(query)) {
      const q = query as Record<string, unknown>;
      const keys = Object.keys(q);
      if (keys.length > 1 && !keys.some((k) => k.startsWith('$'))) {
        const indexed = this.collection.binaryIndices;
        const ordered = [...keys].sort((a, b) => rank(q, a, indexed) - rank(q, b, indexed));
        if (ordered.some((k, i) => k !== keys[i])) query = Object.fromEntries(ordered.map((k) => [k, q[k]]));
      }
    }
    return find.call(this, query, firstOnly);
  };

  const batchByPositions = proto.removeBatchByPositions;
  proto.removeBatchByPositions = function (this: LokiCollection, positions: number[]) {
    if (positions.length === 0) return;
    if (positions.length === 1) {
      const doc = this.data[positions[0]!];
      if (doc) return this.remove(doc);
    }
    return batchByPositions.call(this, positions);
  };

  const batch = proto.removeBatch;
  proto.removeBatch = function (this: LokiCollection, docs: Array<object | number>) {
    if (docs.length === 0) return;
    if (docs.length === 1) {
      const only = docs[0]!;
      const doc = typeof only === 'number' ? this.get(only) : only;
      if (doc) return this.remove(doc);
      return;
    }
    return batch.call(this, docs);
  };

  const update = proto.update;
  proto.update = function (this: LokiCollection, doc: object | object[]) {
    if (Array.isArray(doc) && doc.length <= 32) {
      for (const one of doc) update.call(this, one);
      return;
    }
    return update.call(this, doc);
  };

  // Azurite's queue message collection (LokiQueueMetadataStore), created at start-up.
  const addCollection = Loki.prototype.addCollection;
  Loki.prototype.addCollection = function (this: unknown, name: string, options?: { indices?: string[] }) {
    if (name === '$MESSAGES_COLLECTION$' && options?.indices)
      options = { ...options, indices: [...options.indices, 'expirationTime'] };
    return addCollection.call(this, name, options);
  };
}
