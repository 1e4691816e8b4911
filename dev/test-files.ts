import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The compiled test files that `npm test` runs: every `*.test.js` under each target (a file is
 * taken as given), sorted as Node 20's `node --test <dir>` sorted them. The runner is handed files,
 * not folders, because from Node 21 on `node --test` reads its arguments as file globs and a folder
 * matches no test file.
 */
export function testFiles(targets: readonly string[]): string[] {
  const files = new Set<string>();
  for (const target of targets) {
    if (!statSync(target).isDirectory()) {
      files.add(target);
      continue;
    }
    for (const entry of readdirSync(target, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.test.js')) files.add(path.join(entry.parentPath, entry.name));
    }
  }
  return [...files].sort();
}
