import { PassThrough, Readable } from 'node:stream';
import * as yauzl from 'yauzl';
import { JSONParser, TokenType } from '@streamparser/json';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ContainerName } from '../store/names';

/**
 * Reads a dataset zip straight out of Blob storage with ranged reads: yauzl needs random
 * access (the central directory sits at the end), and ranges keep memory flat at any zip size.
 */
class BlobRangeReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly container: ContainerName,
    private readonly name: string,
  ) {
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

export interface DatasetEntry {
  fileName: string;
  uncompressedSize: number;
}

export class DatasetZip {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    readonly entries: yauzl.Entry[],
  ) {}

  static async open(blobs: ArchiveBlobs, container: ContainerName, name: string): Promise<DatasetZip> {
    const size = await blobs.size(container, name);
    const zip = await yauzl.fromRandomAccessReaderPromise(new BlobRangeReader(blobs, container, name), size, {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
    });
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

  /**
   * The records of one `{ "records": [...] }` file, one at a time. A file holds up to 10,000
   * records and, with long posts, many MB, so it is parsed as it streams out of the zip: memory
   * holds one zip chunk's worth of records, never the file.
   * Throws DatasetFileError when the JSON is malformed or truncated or has no records array.
   */
  async *records(entry: yauzl.Entry, options: { bareArray?: boolean } = {}): AsyncGenerator<unknown> {
    let parser: JSONParser | undefined;
    let ready: unknown[] = [];
    let failure: Error | undefined;
    let depth = 0;
    let lastKeyAtTop: unknown;
    let sawRecordsArray = false;
    // The message-store report's files are documented only as a picture: a bare array is read as
    // the records too when the caller allows it. The shape is known from the first byte.
    const start = (first: number) => {
      const bare = options.bareArray === true && first === 0x5b;
      if (bare) sawRecordsArray = true;
      const p = new JSONParser({ paths: [bare ? '$.*' : '$.records.*'], keepStack: false });
      p.onValue = ({ value }) => {
        ready.push(value);
      };
      p.onError = (err) => {
        failure ??= err;
      };
      p.onToken = ({ token, value }) => {
        if (depth === 1 && token === TokenType.STRING) lastKeyAtTop = value;
        if (depth === 1 && token === TokenType.LEFT_BRACKET && lastKeyAtTop === 'records') sawRecordsArray = true;
        if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) depth++;
        if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) depth--;
      };
      return p;
    };
    const stream = await this.zip.openReadStreamPromise(entry);
    try {
      for await (const chunk of stream) {
        const bytes = chunk as Buffer;
        if (!parser) {
          const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
          if (first === undefined) continue;
          parser = start(first);
        }
        if (parser.isEnded)
          throw new DatasetFileError(`${entry.fileName} is not valid JSON: data after the end of the document`);
        parser.write(bytes);
        const batch = ready;
        ready = [];
        yield* batch;
        if (failure) throw new DatasetFileError(`${entry.fileName} is not valid JSON: ${failure.message}`);
      }
      if (!parser) throw new DatasetFileError(`${entry.fileName} is empty`);
      if (!parser.isEnded) parser.end();
      if (failure) throw new DatasetFileError(`${entry.fileName} is not valid JSON: ${failure.message}`);
      yield* ready;
      if (!sawRecordsArray) throw new DatasetFileError(`${entry.fileName} has no records array`);
    } finally {
      stream.destroy();
    }
  }

  /** The bytes of one entry, streamed out of the zip. */
  async open(entry: yauzl.Entry): Promise<Readable> {
    return this.zip.openReadStreamPromise(entry);
  }

  close(): void {
    this.zip.close();
  }
}

/** A record file in the zip that cannot be read as `{ "records": [...] }`. */
export class DatasetFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetFileError';
  }
}
