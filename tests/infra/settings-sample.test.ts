import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SETTINGS } from '../../shared/config';
import { repoRoot } from '../support/repo-root';

test('local.settings.sample.json lists exactly the settings the config schema reads', () => {
  const sample = JSON.parse(readFileSync(resolve(repoRoot, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  const hostOnly = new Set(['FUNCTIONS_WORKER_RUNTIME']);
  const sampleNames = Object.keys(sample.Values)
    .filter((n) => !hostOnly.has(n))
    .sort();
  assert.deepEqual(sampleNames, Object.keys(SETTINGS).sort());
});

test('the sample carries no secret values', () => {
  const sample = JSON.parse(readFileSync(resolve(repoRoot, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  for (const [name, spec] of Object.entries(SETTINGS)) {
    if ((spec as { secret?: boolean }).secret)
      assert.equal(sample.Values[name], '', `${name} must be empty in the sample`);
  }
});
