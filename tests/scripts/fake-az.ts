// A stand-in for the Azure CLI (`az`) and the Azure Developer CLI (`azd`) that the scripts under
// scripts/ call. Installed on PATH by tests/scripts/cli-sandbox.ts as two tiny shell wrappers.
// It keeps a small tenant in a JSON file (FAKE_AZ_STATE), so a second run sees what the first one
// did, answers as the real CLI does for the commands the scripts use (JSON output; `--display-name`
// a prefix match, as in az), appends every call's argv to FAKE_AZ_LOG, and refuses anything it
// does not know (including --query and -o tsv), so a script cannot pass by calling something the
// fake silently ignores.
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

export interface FakeApp {
  appId: string;
  id: string;
  displayName: string;
  requiredResourceAccess: Array<{ resourceAppId: string; resourceAccess: Array<{ id: string; type: string }> }>;
  passwordCredentials: Array<{ keyId: string; displayName: string; endDateTime: string }>;
}

export interface FakeTenant {
  tenantId: string;
  apps: FakeApp[];
  servicePrincipals: Array<{ id: string; appId: string; displayName: string }>;
  appRoleAssignments: Array<{ id: string; principalId: string; resourceId: string; appRoleId: string }>;
  vaults: Record<string, Record<string, string[]>>;
  restarts: string[];
  azdEnv: Record<string, string>;
  issuedPasswords: string[];
}

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export function emptyTenant(vault: string): FakeTenant {
  return {
    tenantId: '11111111-2222-3333-4444-555555555555',
    apps: [],
    servicePrincipals: [{ id: 'graph-sp-object-id', appId: GRAPH_APP_ID, displayName: 'Microsoft Graph' }],
    appRoleAssignments: [],
    vaults: { [vault]: {} },
    restarts: [],
    azdEnv: { AZURE_KEY_VAULT_NAME: vault },
    issuedPasswords: [],
  };
}

class Usage extends Error {}

function main(tool: string, argv: string[]): number {
  const statePath = process.env.FAKE_AZ_STATE!;
  appendFileSync(process.env.FAKE_AZ_LOG!, JSON.stringify([tool, ...argv]) + '\n');
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as FakeTenant;
  try {
    const out = tool === 'azd' ? azd(state, argv) : az(state, argv);
    writeFileSync(statePath, JSON.stringify(state, null, 2));
    if (out !== undefined) process.stdout.write(typeof out === 'string' ? out : JSON.stringify(out, null, 2) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`fake ${tool}: ${(err as Error).message}\n`);
    return err instanceof Usage ? 2 : 3;
  }
}

function azd(state: FakeTenant, argv: string[]): unknown {
  const [group, verb, name, value] = argv;
  if (group !== 'env') throw new Usage(`unsupported azd command: ${argv.join(' ')}`);
  if (verb === 'get-value') {
    if (!(name! in state.azdEnv)) throw new Error(`key '${name}' not found in the environment values`);
    return state.azdEnv[name!] + '\n';
  }
  if (verb === 'set' && name && value !== undefined) {
    state.azdEnv[name] = value;
    return undefined;
  }
  throw new Usage(`unsupported azd command: ${argv.join(' ')}`);
}

/** Splits `a b --x 1 --flag` into positionals and options; repeated values (--api-permissions a b) are kept. */
function parse(argv: string[]): { words: string[]; opts: Map<string, string[]> } {
  const words: string[] = [];
  const opts = new Map<string, string[]>();
  let current: string | undefined;
  for (const arg of argv) {
    if (arg.startsWith('-')) {
      current = arg === '-o' ? '--output' : arg;
      if (opts.has(current)) throw new Usage(`repeated option ${arg}`);
      opts.set(current, []);
    } else if (current) {
      opts.get(current)!.push(arg);
    } else {
      words.push(arg);
    }
  }
  return { words, opts };
}

function az(state: FakeTenant, argv: string[]): unknown {
  const { words, opts } = parse(argv);
  const one = (name: string): string => {
    const v = opts.get(name);
    if (!v || v.length !== 1) throw new Usage(`${words.join(' ')} needs exactly one value for ${name}`);
    return v[0]!;
  };
  if (opts.has('--query')) throw new Usage('--query is not supported by this fake; filter the JSON instead');
  const output = opts.get('--output')?.[0] ?? 'json';
  if (output !== 'json' && output !== 'none') throw new Usage(`--output ${output} is not supported by this fake`);
  const result = command(state, words.join(' '), one, opts);
  return output === 'none' || result === undefined ? undefined : result;
}

function command(state: FakeTenant, cmd: string, one: (name: string) => string, opts: Map<string, string[]>): unknown {
  const app = (id: string): FakeApp => {
    const found = state.apps.find((a) => a.appId === id || a.id === id);
    if (!found) throw new Error(`Resource '${id}' does not exist`);
    return found;
  };
  switch (cmd) {
    case 'account show':
      return { id: 'subscription-id', tenantId: state.tenantId, user: { name: 'admin@contoso.example', type: 'user' } };
    case 'ad app list': {
      const prefix = one('--display-name');
      return state.apps.filter((a) => a.displayName.toLowerCase().startsWith(prefix.toLowerCase()));
    }
    case 'ad app create': {
      const created: FakeApp = {
        appId: randomUUID(),
        id: randomUUID(),
        displayName: one('--display-name'),
        requiredResourceAccess: [],
        passwordCredentials: [],
      };
      if (one('--sign-in-audience') !== 'AzureADMyOrg') throw new Usage('unexpected sign-in audience');
      state.apps.push(created);
      return created;
    }
    case 'ad app show':
      return app(one('--id'));
    case 'ad sp list': {
      const m = /^appId eq '([^']+)'$/.exec(one('--filter'));
      if (!m) throw new Usage('unsupported --filter');
      return state.servicePrincipals.filter((s) => s.appId === m[1]);
    }
    case 'ad sp create': {
      const a = app(one('--id'));
      if (state.servicePrincipals.some((s) => s.appId === a.appId)) throw new Error('service principal already exists');
      const sp = { id: randomUUID(), appId: a.appId, displayName: a.displayName };
      state.servicePrincipals.push(sp);
      return sp;
    }
    case 'ad sp show': {
      const id = one('--id');
      const sp = state.servicePrincipals.find((s) => s.appId === id || s.id === id);
      if (!sp) throw new Error(`Resource '${id}' does not exist`);
      return sp;
    }
    case 'ad app permission add': {
      const a = app(one('--id'));
      const api = one('--api');
      let entry = a.requiredResourceAccess.find((r) => r.resourceAppId === api);
      if (!entry) a.requiredResourceAccess.push((entry = { resourceAppId: api, resourceAccess: [] }));
      for (const p of opts.get('--api-permissions') ?? []) {
        const [id, type] = p.split('=');
        if (!entry.resourceAccess.some((x) => x.id === id)) entry.resourceAccess.push({ id: id!, type: type! });
      }
      return undefined;
    }
    case 'ad app permission delete': {
      const a = app(one('--id'));
      const api = one('--api');
      const remove = new Set(opts.get('--api-permissions') ?? []);
      for (const r of a.requiredResourceAccess)
        if (r.resourceAppId === api) r.resourceAccess = r.resourceAccess.filter((x) => !remove.has(x.id));
      return undefined;
    }
    case 'ad app credential reset': {
      const a = app(one('--id'));
      if (!opts.has('--append')) throw new Usage('credential reset without --append would delete the secret in use');
      const years = Number(one('--years'));
      const password = `fake-secret-${randomUUID()}`;
      state.issuedPasswords.push(password);
      a.passwordCredentials.push({
        keyId: randomUUID(),
        displayName: one('--display-name'),
        endDateTime: new Date(Date.now() + years * 365 * 86_400_000 + a.passwordCredentials.length).toISOString(),
      });
      return { appId: a.appId, password, tenant: state.tenantId };
    }
    case 'rest':
      return rest(state, one('--method').toUpperCase(), one('--url'), opts.get('--body')?.[0]);
    case 'keyvault secret list': {
      const vault = state.vaults[one('--vault-name')];
      if (!vault) throw new Error('vault not found');
      // Like az: names and ids, never values.
      return Object.keys(vault).map((name) => ({
        name,
        id: `https://${one('--vault-name')}.vault.azure.net/secrets/${name}`,
      }));
    }
    case 'keyvault secret show': {
      const versions = state.vaults[one('--vault-name')]?.[one('--name')];
      if (!versions?.length)
        throw new Error(`(SecretNotFound) A secret with (name/id) ${one('--name')} was not found in this key vault.`);
      return {
        name: one('--name'),
        value: versions[versions.length - 1],
        id: `https://${one('--vault-name')}.vault.azure.net/secrets/${one('--name')}/${versions.length}`,
      };
    }
    case 'keyvault secret set': {
      const vault = state.vaults[one('--vault-name')];
      if (!vault) throw new Error('vault not found');
      if (opts.has('--value')) throw new Usage('--value puts the secret on the command line');
      const value = readFileSync(one('--file'), 'utf8');
      (vault[one('--name')] ??= []).push(value);
      return {
        id: `https://${one('--vault-name')}.vault.azure.net/secrets/${one('--name')}/${vault[one('--name')]!.length}`,
      };
    }
    case 'functionapp restart':
      state.restarts.push(`${one('--resource-group')}/${one('--name')}`);
      return undefined;
    default:
      throw new Usage(`unsupported az command: ${cmd}`);
  }
}

function rest(state: FakeTenant, method: string, url: string, body?: string): unknown {
  const m =
    /^https:\/\/graph\.microsoft\.com\/v1\.0\/servicePrincipals\/([^/]+)\/(appRoleAssignments|appRoleAssignedTo)(?:\/([^/]+))?$/.exec(
      url,
    );
  if (!m) throw new Usage(`unsupported az rest url: ${url}`);
  const [, spId, collection, assignmentId] = m;
  if (method === 'GET' && collection === 'appRoleAssignments' && !assignmentId) {
    return { value: state.appRoleAssignments.filter((a) => a.principalId === spId) };
  }
  if (method === 'POST' && collection === 'appRoleAssignedTo' && body) {
    const b = JSON.parse(body) as { principalId: string; resourceId: string; appRoleId: string };
    if (b.principalId !== spId) throw new Error('principalId must be the service principal in the URL');
    if (state.appRoleAssignments.some((a) => a.principalId === spId && a.appRoleId === b.appRoleId))
      throw new Error('Permission being assigned already exists on the object');
    const created = { id: randomUUID(), ...b };
    state.appRoleAssignments.push(created);
    return created;
  }
  if (method === 'DELETE' && collection === 'appRoleAssignments' && assignmentId) {
    state.appRoleAssignments = state.appRoleAssignments.filter((a) => a.id !== assignmentId);
    return undefined;
  }
  throw new Usage(`unsupported az rest ${method} ${url}`);
}

if (require.main === module) process.exitCode = main(process.argv[2]!, process.argv.slice(3));
