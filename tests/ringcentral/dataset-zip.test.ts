import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import yazl from 'yazl';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { StorageAccount } from '../../shared/store/storage-account';
import { ArchiveBlobs } from '../../shared/store/archive-blobs';
import { CONTAINERS } from '../../shared/store/names';
import { DatasetFileError, DatasetZip } from '../../shared/ringcentral/dataset-zip';

// Record files are read as they stream out of a zip in Blob storage (Azurite): a posts file of
// tens of MB never sits in memory whole, and a bad file is named in the error.

let azurite: RunningAzurite;
let blobs: ArchiveBlobs;

before(async () => {
  azurite = await startAzurite({ inMemory: true, silent: true });
  const account = new StorageAccount({ connectionString: azurite.connectionString });
  await account.ensureCreated();
  blobs = new ArchiveBlobs(account);
});

after(async () => {
  await azurite?.stop();
});

/** A zip whose entries are produced by generators, so the test never builds a file in memory either. */
async function storeZip(name: string, files: Record<string, () => Iterable<string>>): Promise<DatasetZip> {
  const zip = new yazl.ZipFile();
  for (const [fileName, content] of Object.entries(files)) zip.addReadStream(Readable.from(content()), fileName);
  zip.end();
  const out = new PassThrough();
  zip.outputStream.pipe(out);
  await blobs.putStream(CONTAINERS.exports, name, out, 'application/zip');
  return DatasetZip.open(blobs, CONTAINERS.exports, name);
}

function* bigPosts(count: number, textBytes: number): Iterable<string> {
  yield '{"records":[';
  const filler = 'ledger forecast rollout '.repeat(Math.ceil(textBytes / 24)).slice(0, textBytes);
  for (let i = 0; i < count; i++)
    yield `${i ? ',' : ''}{"id":"p${i}","chatId":"c1","text":"${filler}","creationTime":"2026-11-01T00:00:00Z"}`;
  yield ']}';
}

test('a 60 MB posts file is read record by record with bounded heap', async () => {
  const zip = await storeZip('big.zip', { 'posts/posts_1.json': () => bigPosts(6000, 10_000) });
  const entry = zip.entriesOf('posts')[0]!;
  assert.ok(entry.uncompressedSize > 60_000_000, `uncompressed ${entry.uncompressedSize}`);
  global.gc?.();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  let count = 0;
  let lastId = '';
  for await (const record of zip.records(entry)) {
    count++;
    lastId = (record as { id: string }).id;
    if (count % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
  }
  zip.close();
  assert.equal(count, 6000);
  assert.equal(lastId, 'p5999');
  // The whole file parsed at once would hold > 60 MB of strings; streaming holds a chunk's worth.
  assert.ok(peak < 40 * 1024 * 1024, `heap grew ${Math.round(peak / 1048576)} MB`);
});

test('records before a malformed spot are yielded, then the file is named in the error', async () => {
  const zip = await storeZip('broken.zip', {
    'posts/posts_1.json': () => ['{"records":[{"id":"a"},{"id":"b"},{"id": oops}]}'],
  });
  const seen: string[] = [];
  await assert.rejects(
    async () => {
      for await (const r of zip.records(zip.entriesOf('posts')[0]!)) seen.push((r as { id: string }).id);
    },
    (err: unknown) => err instanceof DatasetFileError && /posts\/posts_1\.json is not valid JSON/.test(err.message),
  );
  assert.deepEqual(seen, ['a', 'b']);
  zip.close();
});

test('a truncated file, a file without a records array and trailing data are errors; an empty array is not', async () => {
  const zip = await storeZip('shapes.zip', {
    'posts/posts_1.json': () => ['{"records":[{"id":"a"},'],
    'chats/chats_1.json': () => ['{"items":[{"id":"c"}],"note":"records"}'],
    'notes/notes_1.json': () => ['{"records":[]}'],
    'tasks/tasks_1.json': () => ['{"records":[{"id":"t"}]}{"records":[]}'],
  });
  const drain = async (folder: string) => {
    const out: unknown[] = [];
    for await (const r of zip.records(zip.entriesOf(folder)[0]!)) out.push(r);
    return out;
  };
  await assert.rejects(drain('posts'), /posts_1\.json is not valid JSON/);
  await assert.rejects(drain('chats'), /chats_1\.json has no records array/);
  assert.deepEqual(await drain('notes'), []);
  await assert.rejects(drain('tasks'), /tasks_1\.json is not valid JSON/);
  zip.close();
});
