import http from 'node:http';
import https from 'node:https';

export interface UploadReply {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

/** One request to a pre-authenticated upload URL. */
export type UploadHttp = (
  url: string,
  init: {
    method: 'PUT' | 'GET';
    headers?: Record<string, string>;
    body?: Uint8Array;
    timeoutMs: number;
    signal?: AbortSignal;
  },
) => Promise<UploadReply>;

/**
 * Plain node:https rather than fetch: fetch copies every request body (undici's extractBody),
 * which doubles the garbage of a chunked upload; here the chunk buffer is written as it is. No
 * Authorization header is ever added: the upload URL carries its own token.
 */
export const uploadRequest: UploadHttp = (url, init) =>
  new Promise<UploadReply>((resolve, reject) => {
    const target = new URL(url);
    const body = init.body;
    const request = (target.protocol === 'http:' ? http : https).request(
      target,
      {
        method: init.method,
        headers: { ...init.headers, ...(body ? { 'Content-Length': String(body.byteLength) } : {}) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('error', reject);
        res.on('end', () => {
          const headers = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            headers: {
              get: (name) => {
                const value = headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
              },
            },
            text: Buffer.concat(parts).toString('utf8'),
          });
        });
      },
    );
    request.setTimeout(init.timeoutMs, () =>
      request.destroy(Object.assign(new Error(`no answer within ${init.timeoutMs} ms`), { name: 'TimeoutError' })),
    );
    if (init.signal) {
      const abandon = (): void => {
        request.destroy(init.signal!.reason instanceof Error ? init.signal!.reason : new Error('request abandoned'));
      };
      if (init.signal.aborted) abandon();
      else init.signal.addEventListener('abort', abandon, { once: true });
      request.on('close', () => init.signal!.removeEventListener('abort', abandon));
    }
    request.on('error', reject);
    request.end(body);
  });
