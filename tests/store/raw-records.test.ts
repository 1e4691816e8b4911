import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArchiveBlobs } from '../../shared/store/archive-blobs';
import { RawRecords } from '../../shared/store/raw-records';

/** A stub of the blob port: every record has two versions; counts the look-ups. */
function stubBlobs(): { blobs: ArchiveBlobs; lists: number } {
  const state = { lists: 0 };
  const blobs = {
    async listNames(_container: string, prefix: string): Promise<string[]> {
      state.lists += 1;
      return [`${prefix}2026-01-02T00%3A00%3A00.000Z.json`, `${prefix}2026-01-01T00%3A00%3A00.000Z.json`];
    },
    async getJson<T>(_container: string, name: string): Promise<T> {
      return { name } as T;
    },
  } as unknown as ArchiveBlobs;
  return {
    blobs,
    get lists() {
      return state.lists;
    },
  };
}

describe('RawRecords process cache', () => {
  it('returns the newest version and reads each record once while it is cached', async () => {
    const stub = stubBlobs();
    const raw = new RawRecords(stub.blobs);
    const first = await raw.latest<{ name: string }>('posts', '42');
    assert.equal(first?.name, 'posts/42/2026-01-02T00%3A00%3A00.000Z.json');
    await raw.latest('posts', '42');
    assert.equal(stub.lists, 1);
  });

  it('stays within its bound however many records a worker meets', async () => {
    const stub = stubBlobs();
    const raw = new RawRecords(stub.blobs, 500);
    for (let i = 0; i < 5_000; i++) await raw.latest('posts', String(i));
    assert.ok(raw.cachedEntries <= 500 && raw.cachedEntries >= 400, `${raw.cachedEntries} entries`);
    // The newest stay cached; the oldest were dropped and are read again.
    await raw.latest('posts', '4999');
    assert.equal(stub.lists, 5_000);
    await raw.latest('posts', '0');
    assert.equal(stub.lists, 5_001);
  });
});
