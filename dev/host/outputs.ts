import type { InvocationContext, FunctionOutput } from '@azure/functions';
import { resolveSetting } from './ncrontab';
import { encodeBase64, queueClient, resolveConnection } from './storage';

const createdQueues = new Set<string>();

/**
 * Storage queue output bindings (`output.storageQueue` in `extraOutputs` or as `return`), written
 * after the handler succeeds, as the Azure host does. Other output types are not supported locally.
 */
export async function writeOutputs(
  context: InvocationContext,
  returnValue: unknown,
  settings: Record<string, string>,
  messageEncoding: 'base64' | 'none',
): Promise<void> {
  const outputs: Array<[FunctionOutput, unknown]> = context.options.extraOutputs.map((o) => [
    o,
    context.extraOutputs.get(o),
  ]);
  const ret = context.options.return;
  if (ret && ret.type !== 'http') outputs.push([ret, returnValue]);
  for (const [output, value] of outputs) {
    if (value === undefined || value === null) continue;
    if (output.type !== 'queue') throw new Error(`local host: output binding type "${output.type}" is not supported`);
    const queue = queueClient(
      resolveConnection(settings, output.connection as string | undefined),
      resolveSetting(String(output.queueName), settings),
    );
    if (!createdQueues.has(queue.url)) {
      await queue.createIfNotExists();
      createdQueues.add(queue.url);
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      const text = typeof item === 'string' ? item : JSON.stringify(item);
      await queue.sendMessage(messageEncoding === 'base64' ? encodeBase64(text) : text);
    }
  }
}
