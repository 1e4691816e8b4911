import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Debian's Chromium, which the browser test drives (a browser download of its own cannot be had here). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_PACKAGES = ['chromium', 'fonts-dejavu-core'];

export interface ChromiumFacts {
  installed: boolean;
  root: boolean;
  aptGet: boolean;
}

export type ChromiumStep = { kind: 'ready' } | { kind: 'install' } | { kind: 'stop'; message: string };

/**
 * What `npm test` does about Chromium before it starts: nothing when it is there; install it when it
 * can (as root, with apt-get); otherwise stop with one line that names the package and the command,
 * rather than let the browser test fail later with a spawn error that names neither.
 */
export function chromiumStep(facts: ChromiumFacts): ChromiumStep {
  if (facts.installed) return { kind: 'ready' };
  if (facts.root && facts.aptGet) return { kind: 'install' };
  return {
    kind: 'stop',
    message: `npm test needs Debian's chromium (${CHROMIUM}): sudo apt-get install ${CHROMIUM_PACKAGES.join(' ')}`,
  };
}

export function chromiumFacts(): ChromiumFacts {
  const onPath = (name: string) =>
    (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
  return { installed: existsSync(CHROMIUM), root: process.getuid?.() === 0, aptGet: onPath('apt-get') };
}

/** Returns an error line when Chromium is still missing, or undefined once it is there. */
export function ensureChromium(facts: ChromiumFacts = chromiumFacts()): string | undefined {
  const step = chromiumStep(facts);
  if (step.kind === 'ready') return undefined;
  if (step.kind === 'stop') return step.message;
  console.log(`Installing Debian's ${CHROMIUM_PACKAGES.join(' ')} for the browser test (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...CHROMIUM_PACKAGES],
  ]) {
    const run = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (run.status !== 0) break;
  }
  return existsSync(CHROMIUM)
    ? undefined
    : `npm test needs Debian's chromium (${CHROMIUM}), and apt-get install ${CHROMIUM_PACKAGES.join(' ')} did not install it`;
}
