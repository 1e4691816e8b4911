import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export interface RangedBody {
  totalSize: number;
  contentType: string;
  fileName?: string;
  /** A stream of bytes [start, end], end inclusive. */
  open(start: number, end: number): Readable;
}

export interface SendOptions {
  headers: Record<string, string>;
  /** Cut the connection after this many body bytes (the truncation fault). */
  truncateAfter?: number;
  onBytes: (count: number) => void;
}

/** Serves media as RingCentral does: whole (200) or one `Range: bytes=` range (206), streamed. */
export async function serveRanged(
  req: IncomingMessage,
  res: ServerResponse,
  body: RangedBody,
  options: SendOptions,
): Promise<void> {
  const total = body.totalSize;
  const range = parseRange(req.headers.range, total);
  const common: Record<string, string> = {
    ...options.headers,
    'Accept-Ranges': 'bytes',
    'Content-Type': body.contentType,
    ...(body.fileName ? { 'Content-Disposition': `attachment; filename="${body.fileName.replace(/"/g, '')}"` } : {}),
  };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...common, 'Content-Range': `bytes */${total}`, 'Content-Length': '0' });
    res.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: total - 1 };
  const length = Math.max(0, end - start + 1);
  res.writeHead(range ? 206 : 200, {
    ...common,
    'Content-Length': String(length),
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${total}` } : {}),
  });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  await pump(body.open(start, end), res, options);
}

/** One `bytes=s-e`, `bytes=s-` or `bytes=-n` range; several ranges are answered whole, like many servers do. */
export function parseRange(
  header: string | undefined,
  total: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, total - Number(m[2]));
    end = total - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? total - 1 : Math.min(Number(m[2]), total - 1);
  }
  if (start >= total || start > end) return 'unsatisfiable';
  return { start, end };
}

/** Bytes [start, end] of a stream that can only be read from the beginning (a dataset zip). */
export function sliceStream(source: NodeJS.ReadableStream, start: number, end: number): Readable {
  return Readable.from(
    (async function* () {
      let offset = 0;
      try {
        for await (const raw of source as AsyncIterable<Buffer>) {
          const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
          const from = Math.max(0, start - offset);
          const to = Math.min(chunk.length, end - offset + 1);
          if (to > from) yield chunk.subarray(from, to);
          offset += chunk.length;
          if (offset > end) return;
        }
      } finally {
        (source as Readable).destroy?.();
      }
    })(),
    { objectMode: false },
  );
}

async function pump(source: Readable, res: ServerResponse, options: SendOptions): Promise<void> {
  let sent = 0;
  const stop = () => source.destroy();
  res.once('close', stop);
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (res.destroyed) return;
      if (options.truncateAfter !== undefined && sent + chunk.length > options.truncateAfter) {
        const piece = chunk.subarray(0, options.truncateAfter - sent);
        options.onBytes(piece.length);
        // Destroy only once the partial body has been flushed, so the client sees exactly that many bytes.
        await new Promise<void>((resolve) => res.write(piece, () => resolve()));
        res.socket?.destroy();
        res.destroy();
        return;
      }
      sent += chunk.length;
      options.onBytes(chunk.length);
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
    res.end();
  } finally {
    res.off('close', stop);
    source.destroy();
  }
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
