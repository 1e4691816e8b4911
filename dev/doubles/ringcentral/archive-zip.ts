import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';

export interface ZipEntry {
  path: string;
  size: number;
  open(): Readable;
}

/** A zip ready to stream, entries stored (not deflated) so its size is known before the first byte. */
export interface PreparedZip {
  size: number;
  open(): NodeJS.ReadableStream;
}

/** Builds a stored zip of `entries`, each read only when yazl reaches it; measures the size once up front. */
export async function prepareZip(entries: ZipEntry[], mtime: Date): Promise<PreparedZip> {
  const build = (): { zip: ZipFile; size: Promise<number> } => {
    const zip = new ZipFile();
    for (const entry of entries) {
      zip.addReadStreamLazy(entry.path, { compress: false, mtime, size: entry.size }, (cb) => cb(null, entry.open()));
    }
    const size = new Promise<number>((resolve) =>
      (zip.end as (o: object, cb: (size: number) => void) => void)({}, resolve),
    );
    return { zip, size };
  };
  const probe = build();
  const size = await probe.size;
  (probe.zip.outputStream as Readable).destroy();
  return { size, open: () => build().zip.outputStream };
}
