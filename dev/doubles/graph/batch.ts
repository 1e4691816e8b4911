/**
 * JSON batching: up to 20 requests; each runs through the same handlers and rules (throttling
 * included), so the batch can answer 200 while a request inside it got 429. Outlook executes at
 * most 4 requests of a batch at once; dependsOn makes the requests run in order.
 */
import { badRequest, type GraphReply } from './http-types';

export interface BatchRequestItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

const MAX_BATCH_REQUESTS = 20;
const PARALLEL_PER_BATCH = 4;

export async function runBatch(
  input: unknown,
  runOne: (item: BatchRequestItem) => Promise<GraphReply>,
): Promise<GraphReply> {
  const requests = (input as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) throw badRequest('Invalid batch payload format.');
  if (requests.length > MAX_BATCH_REQUESTS)
    throw badRequest(`Number of batch requests exceeds the maximum of ${MAX_BATCH_REQUESTS}.`);
  const items = requests as BatchRequestItem[];
  const ids = new Set<string>();
  for (const item of items) {
    if (typeof item?.id !== 'string' || typeof item.method !== 'string' || typeof item.url !== 'string') {
      throw badRequest('Each batch request needs id, method and url.');
    }
    if (ids.has(item.id)) throw badRequest(`Duplicate batch request id '${item.id}'.`);
    ids.add(item.id);
  }

  const replies = new Map<string, GraphReply>();
  if (items.some((i) => i.dependsOn?.length)) {
    for (const item of items) {
      const failedDependency = (item.dependsOn ?? []).some((d) => (replies.get(d)?.status ?? 424) >= 400);
      replies.set(
        item.id,
        failedDependency
          ? { status: 424, body: { error: { code: 'FailedDependency', message: 'A dependent request failed.' } } }
          : await runOne(item),
      );
    }
  } else {
    let nextIndex = 0;
    const worker = async (): Promise<void> => {
      while (nextIndex < items.length) {
        const item = items[nextIndex++]!;
        replies.set(item.id, await runOne(item));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PER_BATCH, items.length) }, worker));
  }

  return {
    status: 200,
    body: {
      responses: items.map((item) => {
        const reply = replies.get(item.id)!;
        return {
          id: item.id,
          status: reply.status,
          headers: { 'Content-Type': 'application/json', ...(reply.headers ?? {}) },
          ...(reply.body === undefined
            ? {}
            : { body: Buffer.isBuffer(reply.body) ? reply.body.toString('base64') : reply.body }),
        };
      }),
    },
  };
}
