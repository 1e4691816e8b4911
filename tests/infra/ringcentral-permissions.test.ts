import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CAPTURE_SOURCES, SETTINGS } from '../../shared/config';
import { repoRoot } from '../support/repo-root';

// The RingCentral app permissions each capture source needs. They are set in the RingCentral
// Developer Console; infra/ringcentral-permissions.json is the one list, which the Bicep output
// RINGCENTRAL_APP_PERMISSIONS and scripts/setup-entra-app.sh read, and the docs name.
const read = (p: string) => readFileSync(resolve(repoRoot, p), 'utf8');
const permissions = JSON.parse(read('infra/ringcentral-permissions.json')) as {
  always: string[];
  bySource: Record<string, string[]>;
  purpose: Record<string, string>;
};
const allPermissions = [...new Set([...permissions.always, ...Object.values(permissions.bySource).flat()])];

test('every capture source, and only those, has its RingCentral app permissions listed', () => {
  assert.deepEqual(Object.keys(permissions.bySource), [...CAPTURE_SOURCES]);
  // The script's default (every source, in this order) is the setting's default.
  assert.equal(Object.keys(permissions.bySource).join(','), SETTINGS.CAPTURE_SOURCES.default);
});

test('the list names the permissions the sources call RingCentral with, each with its purpose', () => {
  assert.deepEqual(permissions.always, ['ReadAccounts']);
  assert.deepEqual(permissions.bySource.teammessaging, ['TeamMessaging']);
  assert.deepEqual(permissions.bySource.messages, ['ReadMessages']);
  assert.deepEqual(permissions.bySource.calls, ['ReadCallLog', 'ReadCallRecording']);
  assert.deepEqual(Object.keys(permissions.purpose).sort(), [...allPermissions].sort());
});

test('the Bicep and the Entra app script read that list', () => {
  const bicep = read('infra/main.bicep');
  assert.match(bicep, /loadJsonContent\('ringcentral-permissions\.json'\)/);
  assert.match(bicep, /^output RINGCENTRAL_APP_PERMISSIONS string = /m);
  assert.match(bicep, /captureSourceList = map\(split\(captureSources, ','\)/, 'the output follows captureSources');
  assert.match(read('scripts/setup-entra-app.sh'), /infra\/ringcentral-permissions\.json/);
});

test('docs/deploy.md and the README name every RingCentral app permission', () => {
  for (const doc of ['docs/deploy.md', 'README.md']) {
    const text = read(doc);
    for (const p of allPermissions) assert.ok(text.includes(`\`${p}\``), `${doc} names \`${p}\``);
  }
});
