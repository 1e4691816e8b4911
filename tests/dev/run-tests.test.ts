import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumStep, CHROMIUM, type ChromiumFacts } from '../../dev/chromium';
import { testFiles } from '../../dev/test-files';

// `npm test` before it starts the runner: which files it hands to `node --test`, and what it does
// about a missing Chromium.

test('finds every *.test.js under a folder, at any depth, sorted, and nothing else', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'test-files-'));
  try {
    for (const file of [
      'unit/b.test.js',
      'unit/a.test.js',
      'e2e/deep/spine.test.js',
      'host/helpers.js',
      'host/fixtures/x.test.js.map',
      'z.test.js',
      'unit/a.test.ts',
    ]) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), '');
    }
    const found = testFiles([root]).map((f) => path.relative(root, f));
    assert.deepEqual(found, ['e2e/deep/spine.test.js', 'unit/a.test.js', 'unit/b.test.js', 'z.test.js']);
    // A file is passed as given, and a file named twice runs once.
    const given = path.join(root, 'host/helpers.js');
    assert.deepEqual(
      testFiles([given, path.join(root, 'unit'), path.join(root, 'unit/a.test.js')]).map((f) => path.relative(root, f)),
      ['host/helpers.js', 'unit/a.test.js', 'unit/b.test.js'],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing target is an error, not an empty run', () => {
  assert.throws(() => testFiles([path.join(os.tmpdir(), 'no-such-folder-for-run-tests')]), /ENOENT/);
});

test('Chromium: used when there, installed as root with apt-get, otherwise one line naming the package and the command', () => {
  const facts = (f: Partial<ChromiumFacts>): ChromiumFacts => ({ installed: false, root: false, aptGet: false, ...f });
  assert.deepEqual(chromiumStep(facts({ installed: true })), { kind: 'ready' });
  assert.deepEqual(chromiumStep(facts({ installed: true, root: true, aptGet: true })), { kind: 'ready' });
  assert.deepEqual(chromiumStep(facts({ root: true, aptGet: true })), { kind: 'install' });
  for (const f of [facts({}), facts({ root: true }), facts({ aptGet: true })]) {
    const step = chromiumStep(f);
    assert.equal(step.kind, 'stop');
    const message = (step as { message: string }).message;
    assert.ok(!message.includes('\n'), 'one line');
    assert.ok(message.includes(CHROMIUM));
    assert.match(message, /sudo apt-get install chromium\b/);
  }
});
