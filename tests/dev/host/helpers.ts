import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';

/**
 * A throwaway repo root whose package.json `main` globs the compiled fixture functions, plus a
 * host.json like the project's. Tests shorten retries with the host's `hostJson` override option.
 */
export function fixtureRepo(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'host-fixture-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const functionsDir = path.join(__dirname, 'fixtures', 'functions');
  const main = `${path.relative(root, functionsDir).split(path.sep).join('/')}/*.js`;
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'fixture', main }));
  writeFileSync(
    path.join(root, 'host.json'),
    JSON.stringify({
      version: '2.0',
      extensions: {
        queues: { batchSize: 16, newBatchThreshold: 8, maxDequeueCount: 5, visibilityTimeout: '00:00:10' },
      },
    }),
  );
  return root;
}

export const FUNCTION_KEY = 'fixture-function-key';
export const ADMIN_KEY = 'fixture-admin-key';

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export { until } from '../../support/until';

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A raw GET that exposes chunks as they arrive, to tell streaming from buffering. */
export function openStream(
  url: string,
): Promise<{ status: number; chunks: AsyncIterator<Buffer>; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => resolve({ status: res.statusCode ?? 0, chunks: res[Symbol.asyncIterator](), res }))
      .on('error', reject);
  });
}

/** Settings for the fixture functions: fresh queue names, a storage connection, and overrides. */
export function fixtureSettings(
  connectionString: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    AzureWebJobsStorage: connectionString,
    RECORD_QUEUE: uniqueName('record'),
    FAILING_QUEUE: uniqueName('failing'),
    ...overrides,
  };
}
