import { PassThrough, Readable } from 'node:stream';
import * as yauzl from 'yauzl';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ContainerName } from '../store/names';

/**
 * Reads a dataset zip straight out of Blob storage with ranged reads: yauzl needs random
 * access (the central directory sits at the end), and ranges keep memory flat at any zip size.
 */
class BlobRangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly blobs: ArchiveBlobs, private readonly container: ContainerName, private readonly name: string) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    if (end <= start) {
      out.end();
      return out;
    }
    this.blobs.readRange(this.container, this.name, start, end - start).then(
      (stream) => (stream as Readable).on('error', (err) => out.destroy(err)).pipe(out),
      (err) => out.destroy(err),
    );
    return out;
  }
}

export interface DatasetEntry { fileName: string; uncompressedSize: number }

export class DatasetZip {
  private constructor(private readonly zip: yauzl.ZipFile, readonly entries: yauzl.Entry[]) {}

  static async open(blobs: ArchiveBlobs, container: ContainerName, name: string): Promise<DatasetZip> {
    const size = await blobs.size(container, name);
    const zip = await yauzl.fromRandomAccessReaderPromise(new BlobRangeReader(blobs, container, name), size, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
    const entries: yauzl.Entry[] = [];
    for await (const entry of zip.eachEntry()) entries.push(entry);
    return new DatasetZip(zip, entries);
  }

  /** Entries of one export folder in file order: posts/posts_1.json, posts/posts_2.json, … */
  entriesOf(folder: string): yauzl.Entry[] {
    const pattern = new RegExp(`^(?:.*/)?${folder}/${folder}_(\\d+)\\.json$`, 'i');
    return this.entries
      .filter((e) => pattern.test(e.fileName))
      .sort((a, b) => Number(pattern.exec(a.fileName)![1]) - Number(pattern.exec(b.fileName)![1]));
  }

  /** Every record folder in the zip (`<name>/<name>_<n>.json`), known or not. */
  folders(): string[] {
    const found = new Set<string>();
    for (const e of this.entries) {
      const m = /^(?:.*\/)?([^/]+)\/([^/]+)_\d+\.json$/i.exec(e.fileName);
      if (m && m[1].toLowerCase() === m[2].toLowerCase()) found.add(m[1]);
    }
    return [...found];
  }

  entry(fileName: string): yauzl.Entry | undefined {
    return this.entries.find((e) => e.fileName === fileName || e.fileName.endsWith(`/${fileName}`));
  }

  /** One record file holds at most 10,000 records (a few MB), so it is parsed whole. */
  async readJson(entry: yauzl.Entry): Promise<unknown> {
    const stream = await this.zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }

  close(): void {
    this.zip.close();
  }
}
