import { resolve } from 'node:path';

// Compiled tests run from dist/tests/support/, three folders below the checkout.
export const repoRoot = resolve(__dirname, '..', '..', '..');

/** A compiled file of the checkout, e.g. compiled('functions/mappings.js') → <repo>/dist/functions/mappings.js. */
export function compiled(path: string): string {
  return resolve(repoRoot, 'dist', path);
}
