import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './cli-sandbox';

// scripts/scope-mailboxes.ps1 run by a real PowerShell 7 (.ci/pwsh.sh restores the PowerShell .NET
// tool from NuGet when pwsh is not installed) against stand-ins for the Exchange Online cmdlets
// (tests/scripts/exchange-stub.ps1) that keep the organisation in a JSON file and log every call.
const APP_ID = '71487acd-ec93-476d-bd0e-6c8b31831053';
const SP_OBJECT_ID = '6233fba6-0198-4277-892f-9275bf728bcc';
const FILTER = "CustomAttribute1 -eq 'RingCentralArchive'";
const SCOPE = 'RingCentral archiver mailboxes';
const ROLE = 'Application Mail.ReadWrite';

interface Org {
  servicePrincipals: Array<Record<string, string>>;
  scopes: Array<Record<string, string>>;
  assignments: Array<Record<string, string>>;
  selects: Record<string, string[]>;
}
interface CmdletCall {
  cmdlet: string;
  params: Record<string, string>;
}

let pwsh: string;
before(() => {
  pwsh = execFileSync('bash', [path.join(repoRoot, '.ci/pwsh.sh')], { encoding: 'utf8', timeout: 300_000 }).trim();
});

function emptyOrg(): Org {
  // Exchange stores the filter in parentheses; these are the mailboxes it selects.
  return {
    servicePrincipals: [],
    scopes: [],
    assignments: [],
    selects: { [`(${FILTER})`]: ['alice@contoso.example', 'bob@contoso.example'] },
  };
}

class ExchangeSandbox {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'exo-'));
  private readonly statePath = path.join(this.dir, 'org.json');
  private readonly logPath = path.join(this.dir, 'calls.jsonl');
  constructor(org: Org) {
    writeFileSync(this.statePath, JSON.stringify(org));
    writeFileSync(this.logPath, '');
  }
  get org(): Org {
    const o = JSON.parse(readFileSync(this.statePath, 'utf8')) as Org;
    // ConvertTo-Json writes a one-element array as an object and an empty one as null.
    for (const k of ['servicePrincipals', 'scopes', 'assignments'] as const)
      o[k] = o[k] == null ? [] : Array.isArray(o[k]) ? o[k] : [o[k] as unknown as Record<string, string>];
    return o;
  }
  run(args: Record<string, string> = {}): { status: number | null; out: string; calls: CmdletCall[] } {
    const before = this.calls().length;
    const r = spawnSync(
      pwsh,
      [
        '-NoProfile',
        '-NonInteractive',
        '-File',
        path.join(repoRoot, 'tests/scripts/exchange-stub.ps1'),
        '-Script',
        path.join(repoRoot, 'scripts/scope-mailboxes.ps1'),
        '-StatePath',
        this.statePath,
        '-LogPath',
        this.logPath,
        '-ArgsJson',
        JSON.stringify({
          AppId: APP_ID,
          ServicePrincipalObjectId: SP_OBJECT_ID,
          RecipientRestrictionFilter: FILTER,
          ...args,
        }),
      ],
      {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
      },
    );
    return { status: r.status, out: `${r.stdout}\n${r.stderr}`, calls: this.calls().slice(before) };
  }
  calls(): CmdletCall[] {
    return readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CmdletCall);
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const writes = (calls: CmdletCall[]) =>
  calls.filter((c) => /^(New|Set|Remove|Add)-/.test(c.cmdlet)).map((c) => c.cmdlet);

function withExchange(org: Org, body: (s: ExchangeSandbox) => void): void {
  const s = new ExchangeSandbox(org);
  try {
    body(s);
  } finally {
    s.dispose();
  }
}

test('first run: service principal, scope and one role assignment within the scope; the test mailbox is in scope', () => {
  withExchange(emptyOrg(), (s) => {
    const run = s.run({ TestMailbox: 'alice@contoso.example', TestOutsideMailbox: 'ceo@contoso.example' });
    assert.equal(run.status, 0, run.out);
    assert.deepEqual(writes(run.calls), [
      'New-ServicePrincipal',
      'New-ManagementScope',
      'New-ManagementRoleAssignment',
    ]);
    const assign = run.calls.find((c) => c.cmdlet === 'New-ManagementRoleAssignment')!;
    assert.deepEqual(assign.params, { App: SP_OBJECT_ID, Role: ROLE, CustomResourceScope: SCOPE });
    assert.deepEqual(
      s.org.assignments.map((a) => [a.RoleAssignee, a.CustomResourceScope]),
      [[SP_OBJECT_ID, SCOPE]],
    );
    assert.match(run.out, /OK: alice@contoso\.example is in scope/);
    assert.match(run.out, /OK: ceo@contoso\.example is out of scope/);
  });
});

test('a second run changes nothing (the filter Exchange re-formatted is recognised as the same)', () => {
  withExchange(emptyOrg(), (s) => {
    assert.equal(s.run().status, 0);
    const before = s.org;
    const again = s.run();
    assert.equal(again.status, 0, again.out);
    assert.deepEqual(writes(again.calls), []);
    assert.deepEqual(s.org, before);
  });
});

test('an existing assignment is found by its assignee (the object id), whatever its display name', () => {
  const org = emptyOrg();
  org.servicePrincipals.push({
    AppId: APP_ID,
    ObjectId: SP_OBJECT_ID,
    DisplayName: 'Archiver (made in the portal)',
    Name: SP_OBJECT_ID,
    Identity: SP_OBJECT_ID,
  });
  org.scopes.push({ Name: SCOPE, RecipientFilter: `(${FILTER})` });
  org.assignments.push({
    Name: 'a1',
    Identity: 'a1',
    Role: ROLE,
    RoleAssignee: SP_OBJECT_ID,
    RoleAssigneeName: 'Archiver (made in the portal)',
    RoleAssigneeType: 'ServicePrincipal',
    CustomResourceScope: SCOPE,
  });
  withExchange(org, (s) => {
    const run = s.run();
    assert.equal(run.status, 0, run.out);
    assert.deepEqual(writes(run.calls), []);
    assert.equal(s.org.assignments.length, 1);
  });
});

test("another app's assignment under the same display name does not count as ours", () => {
  const other = 'aaaaaaaa-0000-0000-0000-000000000000';
  const org = emptyOrg();
  org.servicePrincipals.push({
    AppId: 'bbbbbbbb-0000-0000-0000-000000000000',
    ObjectId: other,
    DisplayName: 'RingCentral archiver',
    Name: other,
    Identity: other,
  });
  org.assignments.push({
    Name: 'theirs',
    Identity: 'theirs',
    Role: ROLE,
    RoleAssignee: other,
    RoleAssigneeName: 'RingCentral archiver',
    RoleAssigneeType: 'ServicePrincipal',
    CustomResourceScope: 'Their scope',
  });
  withExchange(org, (s) => {
    const run = s.run();
    assert.equal(run.status, 0, run.out);
    assert.deepEqual(writes(run.calls), [
      'New-ServicePrincipal',
      'New-ManagementScope',
      'New-ManagementRoleAssignment',
    ]);
    assert.deepEqual(s.org.assignments.map((a) => a.RoleAssignee).sort(), [other, SP_OBJECT_ID].sort());
    assert.equal(
      s.org.assignments.find((a) => a.Name === 'theirs')!.CustomResourceScope,
      'Their scope',
      'theirs untouched',
    );
  });
});

test('our assignment with another scope is moved into ours, not duplicated', () => {
  const org = emptyOrg();
  org.servicePrincipals.push({
    AppId: APP_ID,
    ObjectId: SP_OBJECT_ID,
    DisplayName: 'RingCentral archiver',
    Name: SP_OBJECT_ID,
    Identity: SP_OBJECT_ID,
  });
  org.assignments.push({
    Name: 'old',
    Identity: 'old',
    Role: ROLE,
    RoleAssignee: SP_OBJECT_ID,
    RoleAssigneeName: 'RingCentral archiver',
    RoleAssigneeType: 'ServicePrincipal',
    CustomResourceScope: 'Everyone',
  });
  withExchange(org, (s) => {
    const run = s.run();
    assert.equal(run.status, 0, run.out);
    assert.deepEqual(writes(run.calls), ['New-ManagementScope', 'Set-ManagementRoleAssignment']);
    assert.deepEqual(
      s.org.assignments.map((a) => a.CustomResourceScope),
      [SCOPE],
    );
  });
});

test('a changed filter is applied; a test mailbox outside the scope fails the run', () => {
  withExchange(emptyOrg(), (s) => {
    assert.equal(s.run().status, 0);
    const changed = s.run({ RecipientRestrictionFilter: "CustomAttribute1 -eq 'Archive2'" });
    assert.equal(changed.status, 0, changed.out);
    assert.deepEqual(writes(changed.calls), ['Set-ManagementScope']);
    const outside = s.run({
      RecipientRestrictionFilter: "CustomAttribute1 -eq 'Archive2'",
      TestMailbox: 'alice@contoso.example',
    });
    assert.equal(outside.status, 1, outside.out);
    assert.match(outside.out, /alice@contoso\.example is NOT in scope/);
  });
});

test('a service principal that points at another object id stops the run before any change', () => {
  const org = emptyOrg();
  org.servicePrincipals.push({
    AppId: APP_ID,
    ObjectId: 'cccccccc-0000-0000-0000-000000000000',
    DisplayName: 'x',
    Name: 'x',
    Identity: 'x',
  });
  withExchange(org, (s) => {
    const run = s.run();
    assert.equal(run.status, 1);
    assert.match(run.out, /Check -ServicePrincipalObjectId/);
    assert.deepEqual(writes(run.calls), []);
  });
});
