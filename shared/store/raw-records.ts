import type { ArchiveBlobs } from './archive-blobs';
import { CONTAINERS } from './names';
import { blobSegment } from './keys';
import type { ExportFolder } from '../ringcentral/export-records';

const CACHE_MS = 60_000;

/** Latest stored version of context records (chats, people), with a short process cache. */
export class RawRecords {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown | undefined> }>();

  constructor(private readonly blobs: ArchiveBlobs) {}

  latest<T>(folder: ExportFolder, id: string): Promise<T | undefined> {
    const key = `${folder}/${id}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value as Promise<T | undefined>;
    const value = this.load<T>(folder, id).catch((err) => {
      this.cache.delete(key);
      throw err;
    });
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  private async load<T>(folder: ExportFolder, id: string): Promise<T | undefined> {
    // Version names are encoded ISO times of one format, so the largest name is the newest.
    const names = await this.blobs.listNames(CONTAINERS.raw, `${folder}/${blobSegment(id)}/`);
    if (!names.length) return undefined;
    names.sort();
    return this.blobs.getJson<T>(CONTAINERS.raw, names[names.length - 1]);
  }
}
