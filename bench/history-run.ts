import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { HistoryResult } from './history-worker';

export type { HistoryResult } from './history-worker';

/** Runs bench/history-worker.js in its own process and returns its JSON. */
export function runHistory(opts: {
  items: number;
  mailboxes: number;
  trustBundle: string;
  log: (line: string) => void;
}): Promise<HistoryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(__dirname, 'history-worker.js'), String(opts.items), String(opts.mailboxes)],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: opts.trustBundle },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      const lines = err.split('\n');
      err = lines.pop() ?? '';
      for (const line of lines)
        if (line.startsWith('history:')) opts.log(`  ${line}`);
        else if (line.trim()) opts.log(`  [history] ${line}`);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`history worker exited with ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as HistoryResult);
      } catch {
        reject(new Error(`history worker printed no JSON: ${last.slice(0, 300)}`));
      }
    });
  });
}
