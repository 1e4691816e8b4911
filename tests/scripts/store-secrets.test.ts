import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliSandbox, commandOf, isMutation } from './cli-sandbox';
import { emptyTenant } from './fake-az';

// scripts/store-secrets.sh (the azd postprovision hook) against a fake `az` that records every call.
const SCRIPT = 'scripts/store-secrets.sh';
const VAULT = 'kv-test';
const app = { AZURE_KEY_VAULT_NAME: VAULT, AZURE_FUNCTION_APP_NAME: 'func-archiver-x', AZURE_RESOURCE_GROUP: 'rg-x' };
const values = {
  RINGCENTRAL_CLIENT_SECRET: 'rc-secret-Ω-1',
  RINGCENTRAL_JWT: 'eyJ.rc.jwt-2',
  GRAPH_CLIENT_SECRET: 'graph-secret-3',
};

function withSandbox(body: (s: CliSandbox) => void): void {
  const sandbox = new CliSandbox(emptyTenant(VAULT));
  try {
    body(sandbox);
  } finally {
    sandbox.dispose();
  }
}

test("it stores only its own variables, never AZURE_CLIENT_SECRET (the deployer's secret in CI)", () => {
  withSandbox((s) => {
    const run = s.run(SCRIPT, [], {
      ...app,
      RINGCENTRAL_JWT: values.RINGCENTRAL_JWT,
      AZURE_CLIENT_SECRET: 'deployer-own-secret',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(s.tenant.vaults[VAULT], { 'ringcentral-jwt': [values.RINGCENTRAL_JWT] });
    assert.match(run.stdout, /GRAPH_CLIENT_SECRET not set in the azd environment; skipped/);
    assert.ok(!JSON.stringify(s.allCalls()).includes('deployer-own-secret'));
    assert.deepEqual(s.tenant.restarts, ['rg-x/func-archiver-x']);
  });
});

test('values go to Key Vault through a file: never on a command line or in the output', () => {
  withSandbox((s) => {
    const run = s.run(SCRIPT, [], { ...app, ...values });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(s.tenant.vaults[VAULT], {
      'ringcentral-client-secret': [values.RINGCENTRAL_CLIENT_SECRET],
      'ringcentral-jwt': [values.RINGCENTRAL_JWT],
      'graph-client-secret': [values.GRAPH_CLIENT_SECRET],
    });
    for (const v of Object.values(values)) {
      assert.ok(!JSON.stringify(run.calls).includes(v), 'not in argv');
      assert.ok(!run.stdout.includes(v) && !run.stderr.includes(v), 'not in output');
    }
  });
});

test('a second run with the same values writes nothing and does not restart the app; a changed value is written', () => {
  withSandbox((s) => {
    assert.equal(s.run(SCRIPT, [], { ...app, ...values }).status, 0);
    const before = s.tenant;
    const again = s.run(SCRIPT, [], { ...app, ...values });
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.calls.filter(isMutation), []);
    assert.deepEqual(s.tenant, before);
    const rotated = s.run(SCRIPT, [], { ...app, ...values, RINGCENTRAL_JWT: 'eyJ.rotated' });
    assert.deepEqual(rotated.calls.filter(isMutation).map(commandOf), ['keyvault secret set', 'functionapp restart']);
    assert.deepEqual(s.tenant.vaults[VAULT]!['ringcentral-jwt'], [values.RINGCENTRAL_JWT, 'eyJ.rotated']);
  });
});
