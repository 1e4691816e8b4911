import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import RingCentral from '@rc-ex/core';
import type RestException from '@rc-ex/core/RestException';
import type { RestResponse } from '@rc-ex/core/types';
import { generateOrganisation } from '../../../dev/demo-org';
import { startRingCentralDouble } from '../../../dev/doubles/ringcentral/server';

const credentials = { clientId: 'rl-client', clientSecret: 'rl-secret', jwt: 'header.rl-claims.signature' };
const org = generateOrganisation({
  seed: 5,
  members: 4,
  posts: 20,
  from: new Date('2025-01-01T00:00:00Z'),
  to: new Date('2025-01-02T00:00:00Z'),
});
async function refusal(call: Promise<unknown>): Promise<RestResponse> {
  try {
    await call;
  } catch (err) {
    return (err as RestException).response;
  }
  throw new Error('expected the call to be refused');
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RingCentral double: rate limits and penalties', () => {
  it('sends rate-limit headers, 429 CMN-301 over the limit, and restarts the penalty on every request during it', async () => {
    const double = await startRingCentralDouble({
      org,
      ...credentials,
      rateLimits: { Medium: 3 },
      windowMs: 1000,
      penaltyMs: 400,
    });
    try {
      const rc = new RingCentral({ server: double.url, ...credentials });
      await rc.authorize({ jwt: credentials.jwt });
      const list = () =>
        fetch(`${double.url}/team-messaging/v1/data-export`, {
          headers: { Authorization: `Bearer ${rc.token!.access_token}` },
        });
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await list();
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-rate-limit-group'), 'Medium');
        assert.equal(res.headers.get('x-rate-limit-limit'), '3');
        assert.equal(res.headers.get('x-rate-limit-window'), '1');
        remaining.push(res.headers.get('x-rate-limit-remaining')!);
        await res.body?.cancel();
      }
      assert.deepEqual(remaining, ['2', '1', '0']);

      const over = await refusal(rc.teamMessaging().v1().dataExport().list());
      assert.equal(over?.status, 429);
      assert.deepEqual(over?.data, {
        errorCode: 'CMN-301',
        message: 'Request rate exceeded',
        errors: [{ errorCode: 'CMN-301', message: 'Request rate exceeded' }],
      });
      assert.equal(over?.headers['retry-after'], '1');
      assert.equal(double.stats.penaltiesStarted, 1);

      // Knock every 150 ms for 1.2 s: each knock restarts the 400 ms penalty, so all stay refused,
      // although the 1 s window itself has long emptied.
      for (let i = 0; i < 8; i++) {
        await sleep(150);
        const res = await list();
        assert.equal(res.status, 429, `knock ${i} refused`);
        await res.body?.cancel();
      }
      assert.equal(double.stats.requestsDuringPenalty, 8);
      assert.equal(double.stats.penaltiesStarted, 1);

      await sleep(500);
      const afterPenalty = await list();
      assert.equal(afterPenalty.status, 200, 'quiet for longer than the penalty: allowed again');
      assert.equal(double.stats.responses429, 9);

      const token = await fetch(`${double.url}/restapi/oauth/token`, { method: 'POST' });
      assert.equal(token.headers.get('x-rate-limit-group'), 'Auth', 'groups are independent');
      await token.body?.cancel();
    } finally {
      await double.close();
    }
  });

  it('limits the Auth group: too many logins get 429', async () => {
    const double = await startRingCentralDouble({ org, ...credentials, rateLimits: { Auth: 2 }, penaltyMs: 60_000 });
    try {
      for (let i = 0; i < 2; i++)
        await new RingCentral({ server: double.url, ...credentials }).authorize({ jwt: credentials.jwt });
      const third = await refusal(
        new RingCentral({ server: double.url, ...credentials }).authorize({ jwt: credentials.jwt }),
      );
      assert.equal(third?.status, 429);
      assert.equal(third?.headers['retry-after'], '60');
    } finally {
      await double.close();
    }
  });

  it('injects 429, 503, connection resets and slow answers on matching paths', async () => {
    const double = await startRingCentralDouble({ org, ...credentials });
    try {
      const rc = new RingCentral({ server: double.url, ...credentials });
      await rc.authorize({ jwt: credentials.jwt });
      const auth = { Authorization: `Bearer ${rc.token!.access_token}` };
      const url = `${double.url}/team-messaging/v1/data-export`;

      double.faults.inject({ kind: '503', count: 2, match: '/data-export' });
      assert.equal((await fetch(url, { headers: auth })).status, 503);
      assert.equal((await fetch(url, { headers: auth })).status, 503);
      assert.equal((await fetch(url, { headers: auth })).status, 200);

      double.faults.inject({ kind: '429', retryAfterSeconds: 7 });
      const limited = await fetch(url, { headers: auth });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '7');
      assert.equal(double.stats.penaltiesStarted, 0, 'an injected 429 starts no penalty');

      double.faults.inject({ kind: 'reset', match: /data-export$/ });
      await assert.rejects(fetch(url, { headers: auth }));

      double.faults.inject({ kind: 'slow', delayMs: 300 });
      const started = Date.now();
      assert.equal((await fetch(url, { headers: auth })).status, 200);
      assert.ok(Date.now() - started >= 290);

      double.faults.inject({ kind: '503', match: '/file/' });
      assert.equal((await fetch(url, { headers: auth })).status, 200, 'a fault for another path leaves this one alone');
      double.faults.clear();
      const file = org.files[0];
      assert.equal((await fetch(`${double.mediaUrl}/file/${file.id}`, { headers: auth })).status, 200);
    } finally {
      await double.close();
    }
  });
});
