import type { ArchiveBlobs } from './archive-blobs';
import { CONTAINERS } from './names';
import { blobSegment } from './keys';

const CACHE_MS = 60_000;
// Bounded, because a worker lives for hours: the keys include every parent post a reply refers
// to, and a full export made an unbounded cache the largest thing in the heap.
const DEFAULT_MAX_ENTRIES = 2_000;

/** Latest stored version of context records (chats, people), with a short, bounded process cache. */
export class RawRecords {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown | undefined> }>();

  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** Entries in the process cache (for tests). */
  get cachedEntries(): number {
    return this.cache.size;
  }

  latest<T>(folder: string, id: string): Promise<T | undefined> {
    const key = `${folder}/${id}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value as Promise<T | undefined>;
    const value = this.load<T>(folder, id).catch((err) => {
      this.cache.delete(key);
      throw err;
    });
    this.cache.delete(key);
    this.cache.set(key, { at: Date.now(), value });
    if (this.cache.size > this.maxEntries) this.evict();
    return value;
  }

  /** Drops expired entries, then the oldest, down to nine tenths of the bound. */
  private evict(): void {
    const now = Date.now();
    for (const [key, entry] of this.cache) if (now - entry.at >= CACHE_MS) this.cache.delete(key);
    for (const key of this.cache.keys()) {
      if (this.cache.size <= this.maxEntries * 0.9) break;
      this.cache.delete(key);
    }
  }

  /** The stored version just before `version`, if any: what an edit or deletion refers back to. */
  async previousVersion(folder: string, id: string, version: string): Promise<string | undefined> {
    const prefix = `${blobSegment(folder)}/${blobSegment(id)}/`;
    const current = `${prefix}${blobSegment(version)}.json`;
    const earlier = (await this.blobs.listNames(CONTAINERS.raw, prefix)).filter((n) => n < current).sort();
    const name = earlier[earlier.length - 1];
    return name ? decodeURIComponent(name.slice(prefix.length, -'.json'.length)) : undefined;
  }

  private async load<T>(folder: string, id: string): Promise<T | undefined> {
    // Version names are encoded ISO times of one format, so the largest name is the newest.
    const names = await this.blobs.listNames(CONTAINERS.raw, `${blobSegment(folder)}/${blobSegment(id)}/`);
    if (!names.length) return undefined;
    names.sort();
    return this.blobs.getJson<T>(CONTAINERS.raw, names[names.length - 1]);
  }
}
