import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of host.json this host honours, with the Azure defaults filled in. */
export interface HostConfig {
  routePrefix: string;
  functionTimeoutMs: number | undefined;
  queues: {
    batchSize: number;
    newBatchThreshold: number;
    maxDequeueCount: number;
    visibilityTimeoutMs: number;
    maxPollingIntervalMs: number;
    messageEncoding: 'base64' | 'none';
  };
}

/** A host.json-shaped object; deep-merged over the file, so tests can shorten retries without a fixture file. */
export type HostJsonOverrides = { [key: string]: unknown };

export function readHostConfig(repoRoot: string, overrides?: HostJsonOverrides): HostConfig {
  const file = path.join(repoRoot, 'host.json');
  const fromFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const json = deepMerge(fromFile, overrides ?? {});
  const extensions = (json.extensions ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const queues = extensions.queues ?? {};
  const http = extensions.http ?? {};

  const batchSize = Math.min(32, Math.max(1, Number(queues.batchSize ?? 16)));
  const encoding = String(queues.messageEncoding ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none') throw new Error(`host.json: unknown messageEncoding ${encoding}`);
  return {
    routePrefix: typeof http.routePrefix === 'string' ? http.routePrefix.replace(/^\/+|\/+$/g, '') : 'api',
    functionTimeoutMs: typeof json.functionTimeout === 'string' ? parseTimeSpan(json.functionTimeout) : undefined,
    queues: {
      batchSize,
      // Azure's default is batchSize/2 per core; one local worker stands for one small instance.
      newBatchThreshold: Number(queues.newBatchThreshold ?? Math.floor(batchSize / 2)),
      maxDequeueCount: Number(queues.maxDequeueCount ?? 5),
      visibilityTimeoutMs: parseTimeSpan(String(queues.visibilityTimeout ?? '00:00:00')),
      maxPollingIntervalMs: parseTimeSpan(String(queues.maxPollingInterval ?? '00:01:00')),
      messageEncoding: encoding,
    },
  };
}

/** .NET TimeSpan text as host.json uses it: `[d.]hh:mm:ss[.fff]`. */
export function parseTimeSpan(text: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!match) throw new Error(`not a TimeSpan: ${text}`);
  const [, days, hours, minutes, seconds, fraction] = match;
  const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  return (((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + ms;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(value) && isPlainObject(current) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
