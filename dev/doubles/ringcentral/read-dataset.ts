import yauzl from 'yauzl';

/** Unzips a downloaded dataset into path -> bytes; for tests and inspecting the double's output. */
export function unzipDataset(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, archive) => {
      if (err || !archive) return reject(err ?? new Error('no archive'));
      const entries = new Map<string, Buffer>();
      archive.on('error', reject);
      archive.on('end', () => resolve(entries));
      archive.on('entry', (entry: yauzl.Entry) => {
        archive.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) return reject(streamErr ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            archive.readEntry();
          });
        });
      });
      archive.readEntry();
    });
  });
}

export function recordsOf<T = Record<string, unknown>>(entries: Map<string, Buffer>, folder: string): T[] {
  return [...entries.keys()]
    .filter((name) => name.startsWith(`${folder}/`))
    .sort((a, b) => Number(/_(\d+)\.json$/.exec(a)?.[1]) - Number(/_(\d+)\.json$/.exec(b)?.[1]))
    .flatMap((name) => (JSON.parse(entries.get(name)!.toString('utf8')) as { records: T[] }).records);
}
