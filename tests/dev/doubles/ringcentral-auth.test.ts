import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import RingCentral from '@rc-ex/core';
import type RestException from '@rc-ex/core/RestException';
import { generateOrganisation } from '../../../dev/demo-org';
import { startRingCentralDouble, type RingCentralDouble } from '../../../dev/doubles/ringcentral/server';

const credentials = { clientId: 'auth-client', clientSecret: 'auth-secret', jwt: 'header.auth-claims.signature' };
const org = generateOrganisation({
  seed: 3,
  members: 4,
  posts: 20,
  from: new Date('2025-01-01T00:00:00Z'),
  to: new Date('2025-01-02T00:00:00Z'),
});
const window = { timeFrom: '2025-01-01T00:00:00Z', timeTo: '2025-01-02T00:00:00Z' };

/** The status and body a call was refused with; fails the test if the call succeeded. */
async function failure(call: Promise<unknown>): Promise<{ status?: number; data: Record<string, unknown> }> {
  try {
    await call;
  } catch (err) {
    const response = (err as RestException).response;
    return { status: response?.status, data: (response?.data ?? {}) as Record<string, unknown> };
  }
  throw new Error('expected the call to be refused');
}

describe('RingCentral double: OAuth and bearer tokens', () => {
  let double: RingCentralDouble;
  before(async () => {
    // The suite logs in more often than the default Auth limit (5 a minute) allows.
    double = await startRingCentralDouble({ org, ...credentials, rateLimits: { Auth: 100 } });
  });
  after(() => double.close());

  it('issues a token for the JWT bearer grant with the documented lifetimes', async () => {
    const rc = new RingCentral({ server: double.url, ...credentials });
    const token = await rc.authorize({ jwt: credentials.jwt });
    assert.equal(token.token_type, 'bearer');
    assert.equal(token.expires_in, 3600);
    assert.equal(token.refresh_token_expires_in, 604800);
    assert.ok(token.access_token && token.refresh_token);
    assert.equal(double.stats.byGroup.Auth, 1);
  });

  it('answers a wrong client secret with 401 invalid_client and a wrong JWT with 400 invalid_grant', async () => {
    const wrongSecret = await failure(
      new RingCentral({ server: double.url, ...credentials, clientSecret: 'nope' }).authorize({ jwt: credentials.jwt }),
    );
    assert.equal(wrongSecret.status, 401);
    assert.equal(wrongSecret.data.error, 'invalid_client');
    assert.match(String((wrongSecret.data.errors as Array<{ errorCode: string }>)[0].errorCode), /^OAU-/);
    const wrongJwt = await failure(
      new RingCentral({ server: double.url, ...credentials }).authorize({ jwt: 'other.jwt.value' }),
    );
    assert.equal(wrongJwt.status, 400);
    assert.equal(wrongJwt.data.error, 'invalid_grant');
  });

  it('refreshes a token pair and retires the old one', async () => {
    const rc = new RingCentral({ server: double.url, ...credentials });
    const first = await rc.authorize({ jwt: credentials.jwt });
    const second = await rc.refresh();
    assert.notEqual(second.access_token, first.access_token);
    await rc.teamMessaging().v1().dataExport().list();
    const old = new RingCentral({ server: double.url, ...credentials, token: first });
    const refused = await failure(old.teamMessaging().v1().dataExport().list());
    assert.equal(refused.status, 401);
    assert.equal(refused.data.errorCode, 'TokenInvalid');
    const reused = await failure(old.refresh(first.refresh_token));
    assert.equal(reused.status, 400);
  });

  it('requires a bearer token on API and media requests', async () => {
    const noHeader = await fetch(`${double.url}/team-messaging/v1/data-export`);
    assert.equal(noHeader.status, 401);
    assert.equal(((await noHeader.json()) as { errorCode: string }).errorCode, 'AGW-401');
    const bogus = await fetch(`${double.url}/team-messaging/v1/data-export`, {
      method: 'POST',
      headers: { Authorization: 'Bearer forged', 'Content-Type': 'application/json' },
      body: JSON.stringify(window),
    });
    assert.equal(bogus.status, 401);
    assert.equal(((await bogus.json()) as { errorCode: string }).errorCode, 'TokenInvalid');
    assert.equal(double.stats.tasksCreated, 0);
    const file = org.files[0];
    const media = await fetch(`${double.mediaUrl}/file/${file.id}`);
    assert.equal(media.status, 401);
    await media.body?.cancel();

    const rc = new RingCentral({ server: double.url, ...credentials });
    await rc.authorize({ jwt: credentials.jwt });
    const withQueryToken = await fetch(`${double.mediaUrl}/file/${file.id}?access_token=${rc.token!.access_token}`);
    assert.equal(withQueryToken.status, 200, 'media also accepts access_token in the query');
    assert.equal((await withQueryToken.arrayBuffer()).byteLength, file.size);
  });

  it('answers expired access tokens with 401 until the client refreshes', async () => {
    const rc = new RingCentral({ server: double.url, ...credentials });
    await rc.authorize({ jwt: credentials.jwt });
    double.expireAccessTokens();
    const expired = await failure(rc.teamMessaging().v1().dataExport().list());
    assert.equal(expired.status, 401);
    assert.equal(expired.data.errorCode, 'TokenExpired');
    await rc.refresh();
    const list = await rc.teamMessaging().v1().dataExport().list();
    assert.ok(Array.isArray(list.tasks));
  });
});
