import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SETTINGS, type SettingSpec } from '../../shared/config';
import { CONTAINERS, QUEUES, TABLES } from '../../shared/store/names';
import { repoRoot } from '../support/repo-root';

function bicepAppSettingNames(): string[] {
  const bicep = readFileSync(resolve(repoRoot, 'infra/app/archiver.bicep'), 'utf8');
  const start = bicep.indexOf('appSettings: [');
  assert.ok(start > 0, 'infra/app/archiver.bicep has an appSettings array');
  let depth = 0;
  let end = start;
  for (let i = bicep.indexOf('[', start); i < bicep.length; i++) {
    if (bicep[i] === '[') depth++;
    if (bicep[i] === ']' && --depth === 0) {
      end = i;
      break;
    }
  }
  return [...bicep.slice(start, end).matchAll(/name:\s*'([A-Za-z0-9_]+)'/g)].map((m) => m[1]);
}

test('every setting the config reads is set by the Bicep or has a documented default', () => {
  const inBicep = new Set(bicepAppSettingNames());
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[string, SettingSpec]>) {
    const covered = inBicep.has(name) || spec.default !== undefined || spec.optional || spec.localOnly;
    assert.ok(covered, `${name} is required but infra/app/archiver.bicep does not set it`);
    if (spec.secret && !spec.localOnly)
      assert.ok(inBicep.has(name), `secret ${name} must come from Key Vault in the Bicep`);
  }
  // The identity-based storage connection replaces the connection string in Azure.
  for (const name of [
    'AzureWebJobsStorage__blobServiceUri',
    'AzureWebJobsStorage__queueServiceUri',
    'AzureWebJobsStorage__tableServiceUri',
    'AzureWebJobsStorage__credential',
    'AzureWebJobsStorage__clientId',
  ]) {
    assert.ok(inBicep.has(name), name);
  }
});

test('the Bicep sets no setting the config does not know', () => {
  const unknown = bicepAppSettingNames().filter((n) => !(n in SETTINGS));
  assert.deepEqual(unknown, []);
});

test('secrets in the Bicep are Key Vault references, never values', () => {
  const bicep = readFileSync(resolve(repoRoot, 'infra/app/archiver.bicep'), 'utf8');
  for (const name of ['RINGCENTRAL_CLIENT_SECRET', 'RINGCENTRAL_JWT', 'GRAPH_CLIENT_SECRET']) {
    const at = bicep.indexOf(`name: '${name}'`);
    assert.ok(at > 0, name);
    assert.match(
      bicep.slice(at, at + 300),
      /@Microsoft\.KeyVault\(SecretUri=/,
      `${name} must be a Key Vault reference`,
    );
  }
});

test('infra provisions exactly the containers, queues and tables the code uses', () => {
  const names = JSON.parse(readFileSync(resolve(repoRoot, 'infra/storage-names.json'), 'utf8')) as {
    containers: string[];
    queues: string[];
    tables: string[];
  };
  assert.deepEqual([...names.containers].sort(), Object.values(CONTAINERS).sort());
  assert.deepEqual([...names.queues].sort(), Object.values(QUEUES).sort());
  assert.deepEqual([...names.tables].sort(), Object.values(TABLES).sort());
});

test('MAILBOX_TARGET in the Bicep offers exactly the config values that work in Azure', () => {
  const bicep = readFileSync(resolve(repoRoot, 'infra/main.bicep'), 'utf8');
  const allowed = /@allowed\(\[([^\]]*)\]\)\s*\n(?:@description\([^\n]*\)\s*\n)?param mailboxTarget string/.exec(bicep);
  assert.ok(allowed, 'param mailboxTarget has @allowed');
  const values = [...allowed[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
  // eml-folder writes to the local file system, which is read-only on Flex Consumption.
  assert.deepEqual(values, ['eml-blob', 'graph']);
  for (const value of values)
    assert.ok(SETTINGS.MAILBOX_TARGET.description.includes(`'${value}'`), `config documents ${value}`);
});

test('every Bicep parameter azd should fill is mapped in main.parameters.json, maximumInstanceCount included', () => {
  const parameters = JSON.parse(readFileSync(resolve(repoRoot, 'infra/main.parameters.json'), 'utf8')) as {
    parameters: Record<string, { value: string }>;
  };
  assert.equal(parameters.parameters.maximumInstanceCount?.value, '${MAXIMUM_INSTANCE_COUNT=40}');
  const bicep = readFileSync(resolve(repoRoot, 'infra/main.bicep'), 'utf8');
  const declared = [...bicep.matchAll(/^param (\w+) /gm)].map((m) => m[1]!);
  // resourceGroupName stays at its default (rg-<env>); everything else is an azd env variable.
  const unmapped = declared.filter((p) => !(p in parameters.parameters) && p !== 'resourceGroupName');
  assert.deepEqual(unmapped, []);
  for (const name of Object.keys(parameters.parameters))
    assert.ok(declared.includes(name), `${name} is not a parameter of main.bicep`);
});

test('CAPTURE_SOURCES is an app setting with the config default in the Bicep, main.parameters.json and the sample', () => {
  const expected = SETTINGS.CAPTURE_SOURCES.default;
  assert.ok(bicepAppSettingNames().includes('CAPTURE_SOURCES'), 'infra/app/archiver.bicep sets CAPTURE_SOURCES');
  const bicep = readFileSync(resolve(repoRoot, 'infra/main.bicep'), 'utf8');
  assert.equal(/^param captureSources string = '([^']*)'/m.exec(bicep)?.[1], expected, 'param captureSources default');
  assert.match(bicep, /CAPTURE_SOURCES: captureSources\b/, 'main.bicep passes captureSources to the app');
  const parameters = JSON.parse(readFileSync(resolve(repoRoot, 'infra/main.parameters.json'), 'utf8')) as {
    parameters: Record<string, { value: string }>;
  };
  assert.equal(parameters.parameters.captureSources?.value, `\${CAPTURE_SOURCES=${expected}}`);
  const sample = JSON.parse(readFileSync(resolve(repoRoot, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  assert.equal(sample.Values.CAPTURE_SOURCES, expected);
});
