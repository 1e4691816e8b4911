import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { startMicrosoftDoubles, type MicrosoftDoubles } from '../../dev/doubles/graph/microsoft-doubles';
import { createGraphClient } from '../../shared/mailbox/graph-client';
import { GraphAttachments, safeAttachmentName, UPLOAD_CHUNK_BYTES } from '../../shared/mailbox/graph-attachments';
import { RetryLaterError } from '../../shared/errors';
import { uploadRequest, type UploadHttp } from '../../shared/mailbox/upload-http';
import { generatedFile } from './fixtures/generated-file';

const MB = 1024 * 1024;
const ALICE = {
  id: 'a1a1a1a1-0000-4000-8000-00000000000a',
  mail: 'alice@contoso.example',
  userPrincipalName: 'alice@contoso.example',
  displayName: 'Alice',
};
const TARGET = { mailbox: ALICE.mail, userId: ALICE.id };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The production upload client, recording what goes to the upload host and letting a test act before a given PUT. */
function recordingFetch(beforePut?: (n: number) => void) {
  const calls: Array<{ method: string; headers: Record<string, string> }> = [];
  let puts = 0;
  const http: UploadHttp = (url, init) => {
    if (init.method === 'PUT') beforePut?.(++puts);
    calls.push({
      method: init.method,
      headers: Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    });
    return uploadRequest(url, init);
  };
  return { http, calls };
}

describe('GraphAttachments against the Graph double with the archiver Graph client', { timeout: 240_000 }, () => {
  let doubles: MicrosoftDoubles;
  let graphSettings: {
    baseUrl: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
    authorityHost: string;
  };
  let graph: Client;
  let messageId: string;

  before(async () => {
    doubles = await startMicrosoftDoubles({ users: [ALICE], limits: { maxMessageBytes: 150 * MB } });
    graphSettings = {
      baseUrl: doubles.graph.url,
      tenantId: doubles.tenantId,
      clientId: doubles.clientId,
      clientSecret: doubles.clientSecret,
      authorityHost: doubles.identity.url,
    };
    graph = createGraphClient(graphSettings);
  });
  after(() => doubles.close());
  beforeEach(async () => {
    doubles.graph.reset();
    const created = (await graph
      .api(`/users/${ALICE.id}/messages`)
      .post({ subject: 'with files', body: { contentType: 'text', content: 'x' } })) as MicrosoftGraph.Message;
    messageId = created.id!;
  });

  const stored = () => doubles.graph.mailbox(ALICE.mail).messages.find((m) => m.id === messageId)!.attachments;

  for (const [label, size, via] of [
    ['0 B', 0, 'post'],
    ['2.9 MB', Math.round(2.9 * MB), 'post'],
    ['3.1 MB', Math.round(3.1 * MB), 'uploadSession'],
    ['30 MB', 30 * MB, 'uploadSession'],
  ] as const) {
    it(`stores ${label} with identical bytes (${via})`, async () => {
      const recorder = recordingFetch();
      const attachments = new GraphAttachments(graph, { http: recorder.http });
      const file = generatedFile(`file-${size}.bin`, size, size + 7);
      await attachments.add(TARGET, messageId, file);

      const [attachment, ...others] = stored();
      assert.equal(others.length, 0);
      assert.equal(attachment!.via, via);
      assert.equal(attachment!.bytes.length, size);
      assert.equal(sha256(attachment!.bytes), file.sha256());
      // The file's identity travels with it, whichever way it was sent.
      assert.deepEqual(await attachments.list(TARGET, messageId), [
        { name: `file-${size}.bin`, size, contentId: file.contentId },
      ]);
      if (via === 'uploadSession') {
        const puts = recorder.calls.filter((c) => c.method === 'PUT');
        assert.equal(puts.length, Math.ceil(size / UPLOAD_CHUNK_BYTES));
        assert.ok(
          puts.every(
            (c) =>
              c.headers['authorization'] === undefined && /^bytes \d+-\d+\/\d+$/.test(c.headers['content-range'] ?? ''),
          ),
        );
        assert.deepEqual(file.opens, [0], 'the source is streamed once, from the start');
      }
    });
  }

  it('proves the double would refuse a chunk PUT with a token (so the uploads above sent none)', async () => {
    const session = (await graph
      .api(`/users/${ALICE.id}/messages/${encodeURIComponent(messageId)}/attachments/createUploadSession`)
      .post({
        AttachmentItem: { attachmentType: 'file', name: 'x.bin', size: 4 * MB },
      })) as MicrosoftGraph.UploadSession;
    const res = await fetch(session.uploadUrl!, {
      method: 'PUT',
      headers: { Authorization: 'Bearer abc', 'Content-Range': `bytes 0-9/${4 * MB}` },
      body: Buffer.alloc(10),
    });
    assert.equal(res.status, 401);
  });

  it('resumes after a connection reset in the middle of an upload session', async () => {
    const size = 12 * MB + 123;
    const recorder = recordingFetch((n) => {
      if (n === 3)
        doubles.graph.faults.inject({
          kind: 'reset',
          match: { method: 'PUT', pathIncludes: '/upload/sessions/' },
          count: 1,
        });
    });
    const file = generatedFile('reset.bin', size, 99);
    await new GraphAttachments(graph, { http: recorder.http }).add(TARGET, messageId, file);

    assert.equal(doubles.graph.stats.faultsFired, 1);
    assert.ok((doubles.graph.stats.requests['upload.get'] ?? 0) >= 1, 'asked the session where to resume');
    const [attachment] = stored();
    assert.equal(sha256(attachment!.bytes), file.sha256());
    assert.equal(recorder.calls.filter((c) => c.method === 'PUT').length, Math.ceil(size / UPLOAD_CHUNK_BYTES) + 1);
  });

  it('resumes from NextExpectedRanges when a chunk was stored but its answer was lost', async () => {
    const size = 10 * MB;
    const recorder = recordingFetch((n) => {
      if (n === 2)
        doubles.graph.faults.inject({
          kind: 'lostResponse',
          match: { method: 'PUT', pathIncludes: '/upload/sessions/' },
          count: 1,
        });
    });
    const file = generatedFile('lost.bin', size, 5);
    await new GraphAttachments(graph, { http: recorder.http }).add(TARGET, messageId, file);

    const [attachment] = stored();
    assert.equal(sha256(attachment!.bytes), file.sha256());
    // The stored chunk is not sent again (the session would answer 416): every chunk went once.
    assert.equal(recorder.calls.filter((c) => c.method === 'PUT').length, Math.ceil(size / UPLOAD_CHUNK_BYTES));
    assert.ok((doubles.graph.stats.requests['upload.get'] ?? 0) >= 1, 'asked the session where to resume');
  });

  it('accepts an upload whose final answer was lost once the attachment is listed', async () => {
    const size = 4 * MB;
    const recorder = recordingFetch((n) => {
      if (n === 2)
        doubles.graph.faults.inject({
          kind: 'lostResponse',
          match: { method: 'PUT', pathIncludes: '/upload/sessions/' },
          count: 1,
        });
    });
    const file = generatedFile('last.bin', size, 6);
    await new GraphAttachments(graph, { http: recorder.http }).add(TARGET, messageId, file);
    assert.equal(stored().length, 1);
    assert.equal(sha256(stored()[0]!.bytes), file.sha256());
  });

  it('turns a long Retry-After on a chunk into RetryLaterError', async () => {
    doubles.graph.faults.inject({
      kind: '503',
      match: { method: 'PUT', pathIncludes: '/upload/sessions/' },
      retryAfterSeconds: 30,
      count: 1,
    });
    const err = await new GraphAttachments(graph)
      .add(TARGET, messageId, generatedFile('busy.bin', 5 * MB, 1))
      .catch((e: unknown) => e);
    assert.ok(err instanceof RetryLaterError, String(err));
    assert.equal(err.delaySeconds, 30);
    assert.equal(stored().length, 0);
  });

  it('turns a long Retry-After on the small POST into RetryLaterError', async () => {
    doubles.graph.faults.inject({
      kind: '429',
      match: { method: 'POST', pathIncludes: '/attachments' },
      retryAfterSeconds: 20,
    });
    const err = await new GraphAttachments(graph)
      .add(TARGET, messageId, generatedFile('small.bin', 1000, 1))
      .catch((e: unknown) => e);
    assert.ok(err instanceof RetryLaterError, String(err));
    assert.equal(err.delaySeconds, 20);
  });

  it('uploads awkward names, small and large, and gives empty or dot-only names a safe one', async () => {
    const attachments = new GraphAttachments(graph);
    const awkward = 'a/b\\c:d*e?f"g<h>i|j.txt';
    await attachments.add(TARGET, messageId, generatedFile(awkward, 100, 1, 'text/plain'));
    await attachments.add(TARGET, messageId, generatedFile(`big ${awkward}`, Math.round(3.1 * MB), 2));
    await attachments.add(TARGET, messageId, generatedFile('...', 0, 3));
    await attachments.add(TARGET, messageId, generatedFile('', 10, 4));
    await attachments.add(
      TARGET,
      messageId,
      generatedFile('evil\r\nContent-Type: x\u0000.pdf', 10, 5, 'text/html\r\nX: y'),
    );
    assert.deepEqual(
      stored().map((a) => [a.name, a.contentType]),
      [
        [awkward, 'text/plain'],
        [`big ${awkward}`, 'application/octet-stream'],
        ['attachment', 'application/octet-stream'],
        ['attachment', 'application/octet-stream'],
        ['evil Content-Type: x .pdf', 'application/octet-stream'],
      ],
    );
  });

  it('sanitises names without changing ordinary ones', () => {
    assert.equal(safeAttachmentName('Résumé 2024 (final) 😀.docx'), 'Résumé 2024 (final) 😀.docx');
    assert.equal(safeAttachmentName(' .. '), 'attachment');
    assert.equal(safeAttachmentName('bad\ud800name'), 'bad\ufffdname');
    const long = safeAttachmentName(`${'x'.repeat(400)}.pdf`);
    assert.equal(long.length, 255);
    assert.ok(long.endsWith('.pdf'));
  });

  it('keeps memory bounded: RSS growth does not follow the file size (measured in a separate process)', async () => {
    const growthFor = async (size: number): Promise<number> => {
      doubles.graph.reset(); // the 150 MB / 5 min upload budget is per mailbox
      const created = (await graph
        .api(`/users/${ALICE.id}/messages`)
        .post({ subject: 'big', body: { contentType: 'text', content: 'x' } })) as MicrosoftGraph.Message;
      messageId = created.id!;
      const child = path.join(__dirname, 'fixtures', 'upload-child.js');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', child, JSON.stringify({ graph: graphSettings, target: TARGET, messageId, size, seed: 42 })],
        { env: process.env },
      );
      const { baseline, peak } = JSON.parse(stdout) as { baseline: number; peak: number };
      assert.equal(sha256(stored()[0]!.bytes), generatedFile('big.bin', size, 42).sha256());
      console.log(
        `RSS growth while uploading ${size / MB} MB: ${((peak - baseline) / MB).toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB)`,
      );
      return peak - baseline;
    };
    const small = await growthFor(30 * MB);
    const large = await growthFor(120 * MB);
    assert.ok(large < 60 * MB, `RSS grew by ${large} bytes for 120 MB`);
    assert.ok(large < small + 20 * MB, `growth rose from ${small} to ${large} bytes with 4x the file`);
  });
});
