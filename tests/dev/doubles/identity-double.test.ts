import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { ensureDevCertificate } from '../../../dev/certs';
import { startIdentityDouble, type IdentityDouble } from '../../../dev/doubles/identity/server';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const SECRET = 'correct-horse';

describe('identity double', () => {
  let idp: IdentityDouble;

  before(async () => {
    const cert = await ensureDevCertificate('.local/certs');
    idp = await startIdentityDouble({
      tls: cert,
      tenantId: TENANT,
      clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }],
    });
  });
  after(() => idp.close());

  it('issues a token to ClientSecretCredential that verifyToken accepts', async () => {
    const credential = new ClientSecretCredential(TENANT, CLIENT_ID, SECRET, {
      authorityHost: idp.url,
      disableInstanceDiscovery: true,
    });
    const token = await credential.getToken('https://graph.microsoft.com/.default');
    assert.ok(token.token.split('.').length === 3, 'token is JWT-shaped');
    assert.ok(token.expiresOnTimestamp > Date.now() + 50 * 60 * 1000);
    const verified = idp.verifyToken(`Bearer ${token.token}`);
    assert.deepEqual(
      { appId: verified?.appId, tenantId: verified?.tenantId, audience: verified?.audience },
      { appId: CLIENT_ID, tenantId: TENANT, audience: 'https://graph.microsoft.com' },
    );
    assert.equal(idp.stats.tokensIssued, 1);
  });

  it('rejects a wrong secret with invalid_client', async () => {
    const credential = new ClientSecretCredential(TENANT, CLIENT_ID, 'wrong', {
      authorityHost: idp.url,
      disableInstanceDiscovery: true,
    });
    await assert.rejects(credential.getToken('https://graph.microsoft.com/.default'), /AADSTS7000215|invalid_client/);
  });

  it('rejects a tampered or foreign token', async () => {
    const res = await fetch(`${idp.url}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: SECRET,
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    assert.equal(res.status, 200);
    const { access_token } = (await res.json()) as { access_token: string };
    assert.ok(idp.verifyToken(access_token));
    const [h, p, s] = access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, appid: 'someone-else' })).toString('base64url');
    assert.equal(idp.verifyToken(`${h}.${forged}.${s}`), null);
    assert.equal(idp.verifyToken('not-a-token'), null);
  });

  it('requires a /.default scope for client credentials', async () => {
    const res = await fetch(`${idp.url}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: SECRET,
        scope: 'Mail.ReadWrite',
      }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_scope');
    assert.deepEqual(body.error_codes, [1002012]);
  });
});
