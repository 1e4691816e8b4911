import type { IncomingMessage, ServerResponse } from 'node:http';
import type ApiError from '@rc-ex/core/definitions/ApiError';

/** RingCentral's REST error body: a top-level code and message, repeated in `errors[]`. */
export interface RingCentralErrorBody {
  errorCode: string;
  message: string;
  errors: ApiError[];
}

export function errorBody(errorCode: string, message: string): RingCentralErrorBody {
  return { errorCode, message, errors: [{ errorCode, message }] };
}

/** The OAuth endpoint's error body (RFC 6749 fields plus RingCentral's `errors[]`). */
export interface OAuthErrorBody {
  error: string;
  error_description: string;
  errors: ApiError[];
}

export function oauthErrorBody(error: string, errorCode: string, message: string): OAuthErrorBody {
  return { error, error_description: message, errors: [{ errorCode, message }] };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(payload.length),
  });
  res.end(payload);
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
