/** A request as the Graph handlers see it, whether it came over the wire or out of a $batch. */
export interface GraphCall {
  method: string;
  /** Decoded path segments after the version, e.g. ['users', 'a@b.c', 'mailFolders', 'inbox']. */
  segments: string[];
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface GraphReply {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialisable value, raw bytes, or nothing. */
  body?: unknown;
}

export class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerCode?: string,
  ) {
    super(message);
  }
}

export function errorReply(error: GraphHttpError, requestId: string): GraphReply {
  return {
    status: error.status,
    headers: { ...error.headers, 'request-id': requestId, 'client-request-id': requestId },
    body: {
      error: {
        code: error.code,
        message: error.message,
        innerError: {
          ...(error.innerCode ? { code: error.innerCode } : {}),
          date: new Date().toISOString().replace(/\.\d+Z$/, ''),
          'request-id': requestId,
          'client-request-id': requestId,
        },
      },
    },
  };
}

export function badRequest(message: string, code = 'BadRequest'): GraphHttpError {
  return new GraphHttpError(400, code, message);
}

export function itemNotFound(): GraphHttpError {
  return new GraphHttpError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

/** The parts of a Graph path the router found, handed to each handler. */
export interface PathParts {
  user: string;
  /** Folder reference (id or well-known name); undefined means the mailbox root. */
  folder?: string;
  message?: string;
  attachment?: string;
}
