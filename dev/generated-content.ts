import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

// Deterministic file bytes for the demo organisation and the doubles: both sides compute the same
// content from (file id, size), so a test can check a download byte for byte without storing it.

const CONTENT_BLOCK = 64 * 1024;

/**
 * The bytes of a generated file, from (file id, size) alone, so even a multi-GB file never sits in
 * memory. `start`/`end` are byte offsets, `end` inclusive (as in HTTP Range and fs.createReadStream).
 */
export function fileContentStream(fileId: string, size: number, start = 0, end = size - 1): Readable {
  const last = Math.min(end, size - 1);
  return Readable.from(
    (function* () {
      let offset = start;
      while (offset <= last) {
        const blockIndex = Math.floor(offset / CONTENT_BLOCK);
        const block = contentBlock(fileId, size, blockIndex);
        const from = offset - blockIndex * CONTENT_BLOCK;
        const to = Math.min(block.length, last - blockIndex * CONTENT_BLOCK + 1);
        yield block.subarray(from, to);
        offset += to - from;
      }
    })(),
    { objectMode: false },
  );
}

function contentBlock(fileId: string, size: number, blockIndex: number): Buffer {
  const seed = createHash('sha256').update(`${fileId}\0${size}\0${blockIndex}`).digest();
  const words = new Uint32Array(CONTENT_BLOCK / 4);
  // xorshift32 seeded per block: cheap enough for multi-MB files and random-access by block.
  let x = seed.readUInt32LE(0) || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer);
}
