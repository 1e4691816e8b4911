import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FakeTenant } from './fake-az';

export { repoRoot } from '../support/repo-root';
import { repoRoot } from '../support/repo-root';

/** Every az/azd call a script made, as argv arrays (first element: 'az' or 'azd'). */
export type Call = string[];

/** The command words of a call, up to its first option: 'ad app credential reset'. */
export function commandOf(call: Call): string {
  const words: string[] = [];
  for (const arg of call.slice(1)) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  return words.join(' ');
}

/** Calls that change something in the tenant, the vault, the app or the azd environment. */
export function isMutation(call: Call): boolean {
  const [tool, ...argv] = call;
  const cmd = commandOf(call);
  if (tool === 'azd') return argv[0] === 'env' && argv[1] === 'set';
  if (argv[0] === 'rest') return argv[argv.indexOf('--method') + 1]?.toUpperCase() !== 'GET';
  return /^(ad app create|ad sp create|ad app permission (add|delete|grant|admin-consent)|ad app credential (reset|delete)|ad app update|keyvault secret (set|delete)|functionapp restart)/.test(
    cmd,
  );
}

/** A PATH with fake `az` and `azd` (tests/scripts/fake-az.ts) over a tenant kept in a JSON file. */
export class CliSandbox {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'cli-sandbox-'));
  private readonly bin = path.join(this.dir, 'bin');
  private readonly statePath = path.join(this.dir, 'tenant.json');
  private readonly logPath = path.join(this.dir, 'calls.jsonl');

  constructor(tenant: FakeTenant) {
    mkdirSync(this.bin);
    const fake = path.join(__dirname, 'fake-az.js');
    for (const tool of ['az', 'azd']) {
      writeFileSync(path.join(this.bin, tool), `#!/bin/sh\nexec "${process.execPath}" "${fake}" ${tool} "$@"\n`);
      chmodSync(path.join(this.bin, tool), 0o755);
    }
    this.tenant = tenant;
    writeFileSync(this.logPath, '');
  }

  get tenant(): FakeTenant {
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as FakeTenant;
  }

  set tenant(value: FakeTenant) {
    writeFileSync(this.statePath, JSON.stringify(value, null, 2));
  }

  /** Runs a script with only the fakes, node and the basic tools on PATH, and a clean environment. */
  run(
    script: string,
    args: string[] = [],
    env: Record<string, string> = {},
  ): { status: number | null; stdout: string; stderr: string; calls: Call[] } {
    const before = this.allCalls().length;
    const nodeDir = path.dirname(process.execPath);
    const result = spawnSync('bash', [path.join(repoRoot, script), ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: `${this.bin}:${nodeDir}:/usr/bin:/bin`,
        HOME: this.dir,
        FAKE_AZ_STATE: this.statePath,
        FAKE_AZ_LOG: this.logPath,
        ...env,
      },
    });
    return {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      calls: this.allCalls().slice(before),
    };
  }

  allCalls(): Call[] {
    return readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Call);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
