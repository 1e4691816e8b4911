// Preloaded (`node -r`) into the Azurite process only. Azurite keeps queue messages and blob
// extents in LokiJS collections, and removes them through LokiJS's batch path, which marks every
// binary index dirty, so the next look-up re-sorts the whole collection. Azurite calls that path on
// every queue operation (its expired-message sweep removes an empty batch), and once per deleted
// message: with a few thousand messages queued, each queue call cost a full sort, and Azurite, not
// the archiver, set the pace of every local run (profiled: 45% of its CPU in index rebuilds).
//
// This routes empty and one-document batches through LokiJS's own single-document removal, which
// updates the indexes in place. What is stored and returned is unchanged; only the cost is.
import path from 'node:path';

interface LokiCollection {
  data: object[];
  remove(doc: object): void;
  removeBatch(batch: Array<object | number>): void;
  removeBatchByPositions(positions: number[]): void;
  get(id: number): object | null;
}

const azuriteDir = path.dirname(require.resolve('azurite/package.json'));
const Loki = require(require.resolve('lokijs', { paths: [azuriteDir] })) as { Collection: { prototype: LokiCollection } };
const proto = Loki.Collection.prototype;

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
