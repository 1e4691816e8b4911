import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CliSandbox, commandOf, isMutation, type Call } from './cli-sandbox';
import { emptyTenant, GRAPH_APP_ID, type FakeTenant } from './fake-az';

// scripts/setup-entra-app.sh against a fake `az`/`azd` that records every call (tests/scripts/fake-az.ts).
const SCRIPT = 'scripts/setup-entra-app.sh';
const VAULT = 'kv-test';
const NAME = 'RingCentral archiver';
const MAIL_READ_WRITE = 'e2a3a72e-5f79-4c64-b1b1-878b674786c9';
const USER_READ_ALL = 'df021288-bdef-4463-88db-98f22de89214';

function withSandbox(tenant: FakeTenant, body: (s: CliSandbox) => void): void {
  const sandbox = new CliSandbox(tenant);
  try {
    body(sandbox);
  } finally {
    sandbox.dispose();
  }
}

const mutations = (calls: Call[]) => calls.filter(isMutation);
const mentions = (calls: Call[], text: string) => calls.filter((c) => c.some((a) => a.includes(text)));

function grantedRoles(t: FakeTenant, appName = NAME): string[] {
  const app = t.apps.find((a) => a.displayName === appName)!;
  const sp = t.servicePrincipals.find((s) => s.appId === app.appId)!;
  return t.appRoleAssignments
    .filter((a) => a.principalId === sp.id)
    .map((a) => a.appRoleId)
    .sort();
}

function requestedRoles(t: FakeTenant, appName = NAME): string[] {
  const app = t.apps.find((a) => a.displayName === appName)!;
  return app.requiredResourceAccess
    .filter((r) => r.resourceAppId === GRAPH_APP_ID)
    .flatMap((r) => r.resourceAccess.map((x) => x.id))
    .sort();
}

function existingApp(t: FakeTenant, displayName: string): string {
  const appId = randomUUID();
  t.apps.push({ appId, id: randomUUID(), displayName, requiredResourceAccess: [], passwordCredentials: [] });
  t.servicePrincipals.push({ id: randomUUID(), appId, displayName });
  return appId;
}

test('by default only User.Read.All is requested and granted: no call touches tenant-wide Mail.ReadWrite', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    const run = s.run(SCRIPT);
    assert.equal(run.status, 0, run.stderr);
    const t = s.tenant;
    assert.equal(t.apps.length, 1);
    assert.deepEqual(requestedRoles(t), [USER_READ_ALL]);
    assert.deepEqual(grantedRoles(t), [USER_READ_ALL]);
    assert.deepEqual(mentions(run.calls, MAIL_READ_WRITE), [], 'no call names the Mail.ReadWrite role');
    const posts = run.calls.filter((c) => c[1] === 'rest' && c.includes('POST'));
    assert.equal(posts.length, 1);
    assert.match(posts[0]!.join(' '), new RegExp(USER_READ_ALL));
    assert.match(run.stdout, /no mailbox access yet/);
    // The client secret reached Key Vault, through a file: never on a command line or in the output.
    assert.equal(t.issuedPasswords.length, 1);
    assert.deepEqual(t.vaults[VAULT]!['graph-client-secret'], t.issuedPasswords);
    assert.deepEqual(mentions(run.calls, t.issuedPasswords[0]!), []);
    assert.ok(!run.stdout.includes(t.issuedPasswords[0]!) && !run.stderr.includes(t.issuedPasswords[0]!));
    assert.equal(t.azdEnv.GRAPH_CLIENT_ID, t.apps[0]!.appId);
    assert.equal(t.azdEnv.GRAPH_TENANT_ID, t.tenantId);
  });
});

test('a second run finds everything in place and changes nothing', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    assert.equal(s.run(SCRIPT).status, 0);
    const before = s.tenant;
    const again = s.run(SCRIPT);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(mutations(again.calls), []);
    assert.deepEqual(s.tenant, before);
    assert.match(again.stdout, /already holds a client secret; kept/);
  });
});

test('--tenant-wide-mail is the only way to the tenant-wide Mail.ReadWrite grant, and says so', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    const run = s.run(SCRIPT, ['--tenant-wide-mail']);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(grantedRoles(s.tenant), [MAIL_READ_WRITE, USER_READ_ALL].sort());
    assert.deepEqual(requestedRoles(s.tenant), [MAIL_READ_WRITE, USER_READ_ALL].sort());
    assert.match(run.stdout, /granted tenant-wide: the app can write to every mailbox/);
    // And a later run without the flag warns about the grant instead of silently keeping it.
    const later = s.run(SCRIPT);
    assert.equal(later.status, 0);
    assert.deepEqual(mutations(later.calls), []);
    assert.match(later.stderr, /tenant-wide Mail\.ReadWrite grant/);
  });
});

test('the app is matched by its exact name: a name that only starts the same is not reused', () => {
  const t = emptyTenant(VAULT);
  const other = existingApp(t, `${NAME} (staging)`);
  withSandbox(t, (s) => {
    const run = s.run(SCRIPT);
    assert.equal(run.status, 0, run.stderr);
    const created = s.tenant.apps.find((a) => a.displayName === NAME)!;
    assert.ok(created && created.appId !== other);
    assert.deepEqual(mentions(run.calls.filter(isMutation), other), [], 'nothing was done to the other app');
    assert.equal(s.tenant.azdEnv.GRAPH_CLIENT_ID, created.appId);
  });
});

test('an exact match is reused even when a longer name is listed first', () => {
  const t = emptyTenant(VAULT);
  existingApp(t, `${NAME} (staging)`);
  const mine = existingApp(t, NAME);
  withSandbox(t, (s) => {
    const run = s.run(SCRIPT);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(s.tenant.apps.length, 2, 'no app created');
    assert.equal(s.tenant.azdEnv.GRAPH_CLIENT_ID, mine);
    assert.match(run.stdout, new RegExp(`found app registration '${NAME}' \\(${mine}\\)`));
  });
});

test('two apps with exactly that name: it stops before changing anything', () => {
  const t = emptyTenant(VAULT);
  existingApp(t, NAME);
  existingApp(t, NAME);
  withSandbox(t, (s) => {
    for (const args of [[], ['--renew-secret']]) {
      const run = s.run(SCRIPT, args);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /2 app registrations are named exactly 'RingCentral archiver'/);
      assert.deepEqual(mutations(run.calls), []);
    }
  });
});

test('--renew-secret adds a secret version and restarts the app, and changes no permission', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    assert.equal(s.run(SCRIPT).status, 0);
    const before = s.tenant;
    const run = s.run(SCRIPT, ['--renew-secret'], {
      AZURE_FUNCTION_APP_NAME: 'func-archiver-x',
      AZURE_RESOURCE_GROUP: 'rg-x',
    });
    assert.equal(run.status, 0, run.stderr);
    const changed = mutations(run.calls).map(commandOf);
    assert.deepEqual(changed, ['ad app credential reset', 'keyvault secret set', 'functionapp restart']);
    const after = s.tenant;
    assert.deepEqual(after.appRoleAssignments, before.appRoleAssignments);
    assert.deepEqual(after.apps[0]!.requiredResourceAccess, before.apps[0]!.requiredResourceAccess);
    assert.deepEqual(after.servicePrincipals, before.servicePrincipals);
    assert.equal(after.vaults[VAULT]!['graph-client-secret']!.length, 2, 'a new version of the same secret');
    assert.equal(after.vaults[VAULT]!['graph-client-secret']![1], after.issuedPasswords[1]);
    assert.deepEqual(after.restarts, ['rg-x/func-archiver-x']);
    assert.match(run.stdout, /az ad app credential delete --id \S+ --key-id <key id>/);
    assert.deepEqual(mentions(run.calls, after.issuedPasswords[1]!), []);
    assert.ok(!run.stdout.includes(after.issuedPasswords[1]!));
  });
});

test('--renew-secret never creates an app, and refuses --tenant-wide-mail', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    const run = s.run(SCRIPT, ['--renew-secret']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /nothing to renew/);
    assert.deepEqual(mutations(run.calls), []);
    const both = s.run(SCRIPT, ['--renew-secret', '--tenant-wide-mail']);
    assert.equal(both.status, 2);
    assert.deepEqual(both.calls, []);
  });
});

test('remove-tenant-wide-mail-consent.sh removes the Mail.ReadWrite grant and request only, and a second run is a no-op', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    assert.equal(s.run(SCRIPT, ['--tenant-wide-mail']).status, 0);
    const appId = s.tenant.apps[0]!.appId;
    const run = s.run('scripts/remove-tenant-wide-mail-consent.sh', ['--app-id', appId]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(grantedRoles(s.tenant), [USER_READ_ALL]);
    assert.deepEqual(requestedRoles(s.tenant), [USER_READ_ALL]);
    const again = s.run('scripts/remove-tenant-wide-mail-consent.sh', ['--app-id', appId]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(mutations(again.calls), []);
    assert.match(again.stdout, /no tenant-wide Mail\.ReadWrite grant found/);
  });
});

// The RingCentral app's permissions live in the RingCentral Developer Console, not in Entra: the
// script prints them, from infra/ringcentral-permissions.json (the Bicep output reads the same file).
const RINGCENTRAL_PERMISSIONS = ['ReadAccounts', 'TeamMessaging', 'ReadMessages', 'ReadCallLog', 'ReadCallRecording'];

function printedPermissions(stdout: string): string[] {
  const at = stdout.indexOf('RingCentral app permissions for CAPTURE_SOURCES=');
  assert.ok(at >= 0, 'the script prints the RingCentral app permissions');
  return RINGCENTRAL_PERMISSIONS.filter((p) => new RegExp(`^\\s+${p}\\s`, 'm').test(stdout.slice(at)));
}

test('at its end it prints the RingCentral app permissions of every source by default', () => {
  withSandbox(emptyTenant(VAULT), (s) => {
    const run = s.run(SCRIPT);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /CAPTURE_SOURCES=teammessaging,messages,calls\./);
    assert.match(run.stdout, /RingCentral\s+Developer Console/);
    assert.deepEqual(printedPermissions(run.stdout), RINGCENTRAL_PERMISSIONS);
    assert.deepEqual(mentions(run.calls, 'ReadCallLog'), [], 'nothing is asked of Entra for them');
  });
});

test('the permissions printed follow CAPTURE_SOURCES from the azd environment, or the shell', () => {
  const t = emptyTenant(VAULT);
  t.azdEnv.CAPTURE_SOURCES = 'teammessaging';
  withSandbox(t, (s) => {
    const chats = s.run(SCRIPT);
    assert.equal(chats.status, 0, chats.stderr);
    assert.deepEqual(printedPermissions(chats.stdout), ['ReadAccounts', 'TeamMessaging']);
    const voice = s.run(SCRIPT, [], { CAPTURE_SOURCES: ' Calls, messages,faxes' });
    assert.equal(voice.status, 0, voice.stderr);
    assert.match(voice.stdout, /CAPTURE_SOURCES=messages,calls\./);
    assert.deepEqual(printedPermissions(voice.stdout), [
      'ReadAccounts',
      'ReadMessages',
      'ReadCallLog',
      'ReadCallRecording',
    ]);
    assert.match(voice.stderr, /unknown source\(s\): faxes/);
  });
});
