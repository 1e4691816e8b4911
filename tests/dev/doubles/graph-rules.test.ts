import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { startMicrosoftDoubles, type MicrosoftDoubles } from '../../../dev/doubles/graph/microsoft-doubles';

const ALICE = {
  id: 'a1a1a1a1-0000-4000-8000-00000000000a',
  mail: 'alice@contoso.example',
  userPrincipalName: 'alice@contoso.example',
  displayName: 'Alice',
};
const SHARED = {
  id: 'c3c3c3c3-0000-4000-8000-00000000000c',
  mail: 'onprem@contoso.example',
  userPrincipalName: 'onprem@contoso.example',
  displayName: 'On-prem',
  hasMailbox: false,
};
const MB = 1024 * 1024;

interface GraphErrorBody {
  error: { code: string; message: string };
}

describe('Graph double rules over raw HTTP', { timeout: 60_000 }, () => {
  let doubles: MicrosoftDoubles;
  let token: string;

  const graph = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; json: any }> => {
    const res = await fetch(`${doubles.graph.url}/v1.0${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  const createInInbox = async (body: MicrosoftGraph.Message): Promise<MicrosoftGraph.Message> => {
    const res = await graph('POST', `/users/${ALICE.mail}/mailFolders/inbox/messages`, body);
    assert.equal(res.status, 201, JSON.stringify(res.json));
    return res.json as MicrosoftGraph.Message;
  };
  const nonDraft: MicrosoftGraph.Message = {
    subject: 's',
    singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }],
  };

  before(async () => {
    doubles = await startMicrosoftDoubles({
      users: [ALICE, SHARED],
      limits: { requestsPerWindow: 50, uploadBytesPerWindow: 20 * MB },
    });
    token = (await doubles.credential().getToken('https://graph.microsoft.com/.default')).token;
  });
  after(() => doubles.close());
  beforeEach(() => doubles.graph.reset());

  it('answers 401 InvalidAuthenticationToken without a token or with a foreign one', async () => {
    const missing = await fetch(`${doubles.graph.url}/v1.0/users/${ALICE.id}/mailFolders/inbox`);
    assert.equal(missing.status, 401);
    assert.equal(((await missing.json()) as GraphErrorBody).error.code, 'InvalidAuthenticationToken');
    const forged = await graph('GET', `/users/${ALICE.id}/mailFolders/inbox`, undefined, {
      Authorization: `Bearer ${token.slice(0, -2)}xx`,
    });
    assert.equal(forged.status, 401);
    const ok = await graph('GET', `/users/${ALICE.id}/mailFolders/inbox`);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.displayName, 'Inbox');
  });

  it('rejects non-X internet message headers and unknown properties', async () => {
    const header = await graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, {
      subject: 's',
      internetMessageHeaders: [{ name: 'References', value: '<a@b>' }],
    });
    assert.equal(header.status, 400);
    assert.equal(header.json.error.code, 'InvalidInternetMessageHeader');
    const typo = await graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, {
      subject: 's',
      singleValueExtendedProperty: [],
    });
    assert.equal(typo.status, 400);
    assert.equal(typo.json.error.code, 'RequestBodyRead');
    assert.equal(doubles.graph.messagesIn(ALICE.mail, 'Inbox').length, 0);
  });

  it('refuses bodies over 4 MB with 413', async () => {
    const res = await graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, {
      subject: 'big',
      body: { contentType: 'text', content: 'x'.repeat(4 * MB) },
    });
    assert.equal(res.status, 413);
    assert.equal(doubles.graph.messagesIn(ALICE.mail, 'Inbox').length, 0);
  });

  it('answers MailboxNotEnabledForRESTAPI for a user without a mailbox, and ErrorInvalidUser for a stranger', async () => {
    const noMailbox = await graph('GET', `/users/${SHARED.mail}/mailFolders/inbox/childFolders`);
    assert.equal(noMailbox.status, 404);
    assert.equal(noMailbox.json.error.code, 'MailboxNotEnabledForRESTAPI');
    const stranger = await graph('GET', '/users/nobody@contoso.example/mailFolders/inbox');
    assert.equal(stranger.status, 404);
    assert.equal(stranger.json.error.code, 'ErrorInvalidUser');
  });

  it('adds small attachments by POST and refuses upload sessions under 3 MB', async () => {
    const message = await createInInbox(nonDraft);
    const path = `/users/${ALICE.id}/messages/${encodeURIComponent(message.id!)}/attachments`;
    const added = await graph('POST', path, {
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: 'a.txt',
      contentType: 'text/plain',
      contentBytes: Buffer.from('hello').toString('base64'),
    });
    assert.equal(added.status, 201);
    assert.equal(added.json.size, 5);
    const listed = await graph('GET', path);
    assert.deepEqual(
      listed.json.value.map((a: MicrosoftGraph.FileAttachment) => [
        a.name,
        a.size,
        Buffer.from(a.contentBytes!, 'base64').toString(),
      ]),
      [['a.txt', 5, 'hello']],
    );
    const tooSmall = await graph('POST', `${path}/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name: 'small.bin', size: MB },
    });
    assert.equal(tooSmall.status, 400);
    assert.equal(tooSmall.json.error.code, 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
  });

  it('enforces the upload-session rules: no Authorization, in order, at most 4 MB a chunk', async () => {
    const message = await createInInbox(nonDraft);
    const size = 5 * MB;
    const session = await graph(
      'POST',
      `/users/${ALICE.id}/messages/${encodeURIComponent(message.id!)}/attachments/createUploadSession`,
      {
        AttachmentItem: { attachmentType: 'file', name: 'f.bin', size },
      },
    );
    assert.equal(session.status, 201);
    assert.deepEqual(session.json.nextExpectedRanges, ['0-']);
    const uploadUrl = session.json.uploadUrl as string;
    assert.ok(new URL(uploadUrl).hostname === 'localhost');
    const content = Buffer.alloc(size, 7);
    const put = (start: number, end: number, headers: Record<string, string> = {}) =>
      fetch(uploadUrl, {
        method: 'PUT',
        headers: {
          'Content-Range': `bytes ${start}-${end}/${size}`,
          'Content-Type': 'application/octet-stream',
          ...headers,
        },
        body: content.subarray(start, end + 1),
      });

    const withAuth = await put(0, MB - 1, { Authorization: `Bearer ${token}` });
    assert.equal(withAuth.status, 401);
    const outOfOrder = await put(MB, 2 * MB - 1);
    assert.equal(outOfOrder.status, 416);
    assert.deepEqual(((await outOfOrder.json()) as { NextExpectedRanges: string[] }).NextExpectedRanges, ['0']);
    const tooBig = await put(0, 4 * MB);
    assert.equal(tooBig.status, 413);
    const first = await put(0, 3 * MB - 1);
    assert.equal(first.status, 200);
    assert.deepEqual(((await first.json()) as { NextExpectedRanges: string[] }).NextExpectedRanges, [String(3 * MB)]);
    const last = await put(3 * MB, size - 1);
    assert.equal(last.status, 201);
    assert.match(last.headers.get('location') ?? '', /Attachments\('/);
    const [stored] = doubles.graph.messagesIn(ALICE.mail, 'Inbox');
    assert.ok(stored?.attachments[0]?.bytes.equals(content));
  });

  it('lets a PATCH change flags on a sent item but not its body, and never un-drafts a draft', async () => {
    const sent = await createInInbox(nonDraft);
    const read = await graph('PATCH', `/users/${ALICE.id}/messages/${encodeURIComponent(sent.id!)}`, {
      isRead: false,
      categories: ['RC'],
    });
    assert.equal(read.status, 200);
    assert.equal(read.json.isRead, false);
    const body = await graph('PATCH', `/users/${ALICE.id}/messages/${encodeURIComponent(sent.id!)}`, {
      body: { contentType: 'text', content: 'changed' },
    });
    assert.equal(body.status, 400);
    const draft = await createInInbox({ subject: 'draft' });
    const flags = await graph('PATCH', `/users/${ALICE.id}/messages/${encodeURIComponent(draft.id!)}`, {
      singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }],
    });
    assert.equal(flags.status, 200);
    assert.equal(flags.json.isDraft, true);
  });

  it('injects 503 with Retry-After a set number of times, and lost responses after the write', async () => {
    doubles.graph.faults.inject({
      kind: '503',
      count: 1,
      retryAfterSeconds: 2,
      match: { method: 'GET', pathIncludes: 'childFolders' },
    });
    const failed = await graph('GET', `/users/${ALICE.id}/mailFolders/inbox/childFolders`);
    assert.equal(failed.status, 503);
    assert.equal(failed.headers.get('retry-after'), '2');
    assert.equal((await graph('GET', `/users/${ALICE.id}/mailFolders/inbox/childFolders`)).status, 200);

    doubles.graph.faults.inject({
      kind: 'lostResponse',
      count: 1,
      match: { method: 'POST', mailbox: ALICE.userPrincipalName },
    });
    await assert.rejects(graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, nonDraft));
    assert.equal(doubles.graph.messagesIn(ALICE.mail, 'Inbox').length, 1, 'the create happened');
    assert.equal(doubles.graph.stats.faultsFired, 2);
  });

  it('resets the connection before the write when asked', async () => {
    const fault = doubles.graph.faults.inject({
      kind: 'reset',
      count: 1,
      match: { pathIncludes: '/mailFolders/inbox/messages' },
    });
    await assert.rejects(graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, nonDraft));
    assert.equal(fault.fired, 1);
    assert.equal(doubles.graph.messagesIn(ALICE.mail, 'Inbox').length, 0, 'nothing was written');
    assert.equal((await graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, nonDraft)).status, 201);
  });

  it('throttles on the sliding request budget and the upload-byte budget', async () => {
    // 50 requests per window in this double.
    for (let i = 0; i < 50; i++) assert.equal((await graph('GET', `/users/${ALICE.id}/mailFolders/inbox`)).status, 200);
    const over = await graph('GET', `/users/${ALICE.id}/mailFolders/inbox`);
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) > 500, 'waits for the 10-minute window to slide');
    doubles.graph.reset();

    // 20 MB of upload per window: six 3.5 MB bodies do not fit.
    const chunk = { subject: 'u', body: { contentType: 'text', content: 'y'.repeat(3.5 * MB) } };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await graph('POST', `/users/${ALICE.id}/mailFolders/inbox/messages`, chunk)).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429]);
    assert.equal(doubles.graph.stats.throttledBy.UploadBytes, 1);
  });

  it('runs $batch requests through the same handlers and reports each status', async () => {
    const res = await graph('POST', '/$batch', {
      requests: [
        {
          id: '1',
          method: 'POST',
          url: `/users/${ALICE.id}/mailFolders/inbox/childFolders`,
          headers: { 'Content-Type': 'application/json' },
          body: { displayName: 'RingCentral' },
        },
        {
          id: '2',
          method: 'POST',
          url: `/users/${ALICE.id}/mailFolders/inbox/childFolders`,
          headers: { 'Content-Type': 'application/json' },
          body: { displayName: 'RingCentral' },
          dependsOn: ['1'],
        },
        { id: '3', method: 'GET', url: '/users/nobody@contoso.example/mailFolders/inbox', dependsOn: ['2'] },
      ],
    });
    assert.equal(res.status, 200);
    const byId = Object.fromEntries(
      res.json.responses.map((r: { id: string; status: number; body: GraphErrorBody }) => [r.id, r]),
    );
    assert.equal(byId['1'].status, 201);
    assert.equal(byId['2'].status, 409);
    assert.equal(byId['2'].body.error.code, 'ErrorFolderExists');
    assert.equal(byId['3'].status, 424);
    const tooMany = await graph('POST', '/$batch', {
      requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: `/users/${ALICE.id}` })),
    });
    assert.equal(tooMany.status, 400);
  });

  it('answers 400 for an unparseable filter and for /me with an app token', async () => {
    const bad = await graph(
      'GET',
      `/users/${ALICE.id}/mailFolders/inbox/messages?$filter=${encodeURIComponent("subject startswith 'x'")}`,
    );
    assert.equal(bad.status, 400);
    const me = await graph('GET', '/me/messages');
    assert.equal(me.status, 400);
  });

  it('lists attachments as the base type: contentId only with its type cast, and in no promised order', async () => {
    const message = await createInInbox(nonDraft);
    for (const [name, size] of [
      ['small.txt', 10],
      ['large.txt', 30],
    ] as const) {
      const res = await graph('POST', `/users/${ALICE.id}/messages/${message.id}/attachments`, {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name,
        contentId: `id-${name}`,
        contentBytes: Buffer.alloc(size, 1).toString('base64'),
      });
      assert.equal(res.status, 201);
    }
    const plain = await graph('GET', `/users/${ALICE.id}/messages/${message.id}/attachments?$select=name,contentId`);
    assert.equal(plain.status, 400);
    assert.equal(plain.json.error.code, 'RequestBroker--ParseUri');
    const cast = await graph(
      'GET',
      `/users/${ALICE.id}/messages/${message.id}/attachments?$select=name,size,microsoft.graph.fileAttachment/contentId`,
    );
    assert.equal(cast.status, 200);
    assert.deepEqual(
      cast.json.value.map((a: { name: string; contentId: string; contentBytes?: string }) => [
        a.name,
        a.contentId,
        a.contentBytes,
      ]),
      [
        ['large.txt', 'id-large.txt', undefined],
        ['small.txt', 'id-small.txt', undefined],
      ],
    );
  });
});
