import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import RingCentral from '@rc-ex/core';
import { fileContentStream, generateOrganisation } from '../../../dev/demo-org';
import { startRingCentralDouble, type RingCentralDouble } from '../../../dev/doubles/ringcentral/server';

const credentials = { clientId: 'media-client', clientSecret: 'media-secret', jwt: 'header.media-claims.signature' };
const SIZE = 50 * 1024 * 1024;
const org = generateOrganisation({
  seed: 11,
  members: 4,
  posts: 30,
  filesRatio: 0,
  largeFiles: [{ sizeBytes: SIZE }],
  from: new Date('2025-01-01T00:00:00Z'),
  to: new Date('2025-01-02T00:00:00Z'),
});

async function sha256(
  body: ReadableStream<Uint8Array> | NodeJS.ReadableStream,
): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hex: hash.digest('hex'), bytes };
}

describe('RingCentral double: file content on the media host', () => {
  let double: RingCentralDouble;
  let auth: Record<string, string>;
  let uri: string;
  const file = org.files.find((f) => f.size === SIZE)!;

  before(async () => {
    double = await startRingCentralDouble({ org, ...credentials });
    const rc = new RingCentral({ server: double.url, ...credentials });
    await rc.authorize({ jwt: credentials.jwt });
    auth = { Authorization: `Bearer ${rc.token!.access_token}` };
    // The contentUri as a dataset would carry it.
    uri = file.contentUri.replace('{MEDIA}', double.mediaUrl);
  });
  after(() => double.close());

  it('downloads a 50 MB file in two Range halves that hash like the whole', async () => {
    const expected = await sha256(fileContentStream(file.id, file.size));
    assert.equal(expected.bytes, SIZE);

    const whole = await fetch(uri, { headers: auth });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(SIZE));
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(await sha256(whole.body!), expected);

    const half = SIZE / 2;
    const first = await fetch(uri, { headers: { ...auth, Range: `bytes=0-${half - 1}` } });
    assert.equal(first.status, 206);
    assert.equal(first.headers.get('content-range'), `bytes 0-${half - 1}/${SIZE}`);
    const second = await fetch(uri, { headers: { ...auth, Range: `bytes=${half}-` } });
    assert.equal(second.status, 206);
    assert.equal(second.headers.get('content-range'), `bytes ${half}-${SIZE - 1}/${SIZE}`);
    assert.equal(second.headers.get('content-length'), String(half));
    const hash = createHash('sha256');
    for (const part of [first, second])
      for await (const chunk of part.body! as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    assert.equal(hash.digest('hex'), expected.hex);
  });

  it('answers an unsatisfiable range with 416 and a missing file with 404', async () => {
    const res = await fetch(uri, { headers: { ...auth, Range: `bytes=${SIZE}-` } });
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('content-range'), `bytes */${SIZE}`);
    const missing = await fetch(`${double.mediaUrl}/file/000`, { headers: auth });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });

  it('serves media only on the media host name', async () => {
    const onApiHost = await fetch(uri.replace(double.mediaUrl, double.url), { headers: auth });
    assert.equal(onApiHost.status, 404);
    await onApiHost.body?.cancel();
  });

  it('truncates a file download mid-body, and the resumed Range completes it', async () => {
    double.faults.truncateNextDownload(3 * 1024 * 1024 + 17, `/file/${file.id}`);
    const res = await fetch(uri, { headers: auth });
    assert.equal(res.status, 200);
    const hash = createHash('sha256');
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of res.body! as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          received += chunk.length;
        }
      })(),
    );
    assert.equal(received, 3 * 1024 * 1024 + 17);
    const rest = await fetch(uri, { headers: { ...auth, Range: `bytes=${received}-` } });
    assert.equal(rest.status, 206);
    for await (const chunk of rest.body! as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    assert.equal(hash.digest('hex'), (await sha256(fileContentStream(file.id, file.size))).hex);
    assert.ok(double.stats.bytesServed >= 2 * SIZE);
    assert.ok(double.stats.byKind.file >= 5);
  });
});
