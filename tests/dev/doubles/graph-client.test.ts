import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  FileUpload,
  LargeFileUploadTask,
  StreamUpload,
  RetryHandlerOptions,
  type Client,
  type GraphError,
} from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { startMicrosoftDoubles, type MicrosoftDoubles } from '../../../dev/doubles/graph/microsoft-doubles';

const GUID = '{6f1c3e2a-8b5d-4c1e-9a7f-2d3b4c5e6f70}';
const ITEM_ID_PROP = `String ${GUID} Name RingCentralItemId`;
const ALICE = {
  id: 'a1a1a1a1-0000-4000-8000-00000000000a',
  mail: 'alice@contoso.example',
  userPrincipalName: 'alice@contoso.onmicrosoft.example',
  displayName: 'Alice',
  proxyAddresses: ['SMTP:alice@contoso.example', 'smtp:al@contoso.example'],
};
const BOB = {
  id: 'b2b2b2b2-0000-4000-8000-00000000000b',
  mail: 'bob@contoso.example',
  userPrincipalName: 'bob@contoso.example',
  displayName: 'Bob',
};

function recipe(itemId: string, received: string, sent: string): MicrosoftGraph.Message {
  return {
    subject: 'Hello from RingCentral',
    body: { contentType: 'html', content: '<p>hi</p>' },
    from: { emailAddress: { address: BOB.mail, name: 'Bob' } },
    toRecipients: [{ emailAddress: { address: ALICE.mail, name: 'Alice' } }],
    internetMessageHeaders: [{ name: 'X-RingCentral-Post-Id', value: itemId }],
    singleValueExtendedProperties: [
      { id: 'Integer 0x0E07', value: '1' },
      { id: 'SystemTime 0x0E06', value: received },
      { id: 'SystemTime 0x0039', value: sent },
      { id: 'String 0x001A', value: 'IPM.Note.RingCentral.Post' },
      { id: ITEM_ID_PROP, value: itemId },
    ],
  };
}

const noRetry = (): RetryHandlerOptions[] => [new RetryHandlerOptions(0, 0)];

describe('Graph double with the real v3 Graph client', { timeout: 60_000 }, () => {
  let doubles: MicrosoftDoubles;
  let client: Client;
  let folderId: string;

  before(async () => {
    doubles = await startMicrosoftDoubles({ users: [ALICE, BOB] });
    client = doubles.graphClient();
  });
  after(() => doubles.close());
  beforeEach(async () => {
    doubles.graph.reset();
    const folder = (await client
      .api(`/users/${ALICE.mail}/mailFolders/inbox/childFolders`)
      .post({ displayName: 'RingCentral' })) as MicrosoftGraph.MailFolder;
    folderId = folder.id!;
  });

  it('makes a plain JSON create a draft, whatever isDraft and receivedDateTime say', async () => {
    const created = (await client.api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`).post({
      subject: 'plain',
      isDraft: false,
      receivedDateTime: '2020-01-01T00:00:00Z',
      body: { contentType: 'text', content: 'x' },
    })) as MicrosoftGraph.Message;
    assert.equal(created.isDraft, true);
    assert.notEqual(created.receivedDateTime, '2020-01-01T00:00:00Z');
    const [stored] = doubles.graph.messagesIn(ALICE.mail, 'Inbox/RingCentral');
    assert.equal(stored?.isDraft, true);
    assert.equal(stored?.subject, 'plain');
  });

  it('makes the extended-property recipe a dated, read, non-draft item', async () => {
    const created = (await client
      .api(`/users/${ALICE.userPrincipalName}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .post(recipe('post-1:1', '2024-03-01T10:00:00Z', '2024-03-01T09:59:58Z'))) as MicrosoftGraph.Message;
    assert.equal(created.isDraft, false);
    assert.equal(created.receivedDateTime, '2024-03-01T10:00:00Z');
    assert.equal(created.sentDateTime, '2024-03-01T09:59:58Z');
    assert.equal(created.isRead, true);
    assert.equal(
      (created as Record<string, unknown>)['singleValueExtendedProperties'],
      undefined,
      'not returned unless expanded',
    );
    const [stored] = doubles.graph.messagesIn(ALICE.id);
    assert.deepEqual(stored?.internetMessageHeaders, [{ name: 'X-RingCentral-Post-Id', value: 'post-1:1' }]);
    assert.equal(stored?.singleValueExtendedProperties.find((p) => p.id === ITEM_ID_PROP)?.value, 'post-1:1');
    assert.equal(stored?.from?.emailAddress?.address, BOB.mail);
  });

  it('keeps mfUnsent: flags with 0x8 still make a draft', async () => {
    const body = recipe('post-2:1', '2024-03-01T10:00:00Z', '2024-03-01T10:00:00Z');
    body.singleValueExtendedProperties![0] = { id: 'Integer 0x0E07', value: String(0x8 | 0x1) };
    const created = (await client
      .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .post(body)) as MicrosoftGraph.Message;
    assert.equal(created.isDraft, true);
  });

  it('finds an item by its named extended property, and expands just that property', async () => {
    await client
      .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .post(recipe('post-3:1', '2024-03-02T10:00:00Z', '2024-03-02T10:00:00Z'));
    await client
      .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .post(recipe('post-4:1', '2024-03-02T11:00:00Z', '2024-03-02T11:00:00Z'));
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${ITEM_ID_PROP}' and ep/value eq 'post-3:1')`;
    const found = (await client
      .api(
        `/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages?$select=id&$top=2&$filter=${encodeURIComponent(filter)}`,
      )
      .get()) as { value: MicrosoftGraph.Message[] };
    assert.equal(found.value.length, 1);
    assert.deepEqual(
      Object.keys(found.value[0]!).filter((k) => !k.startsWith('@')),
      ['id'],
    );

    const none = (await client
      .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .select('id')
      .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${ITEM_ID_PROP}' and ep/value eq 'post-9:1')`)
      .get()) as { value: unknown[] };
    assert.equal(none.value.length, 0);

    const expanded = (await client
      .api(`/users/${ALICE.id}/messages/${encodeURIComponent(found.value[0]!.id!)}`)
      .expand(`singleValueExtendedProperties($filter=id eq '${ITEM_ID_PROP}')`)
      .get()) as MicrosoftGraph.Message;
    assert.deepEqual(expanded.singleValueExtendedProperties, [{ id: ITEM_ID_PROP, value: 'post-3:1' }]);
  });

  it('answers ErrorFolderExists to the loser of a folder-creation race', async () => {
    const attempts = await Promise.allSettled([
      client.api(`/users/${BOB.id}/mailFolders/inbox/childFolders`).post({ displayName: 'RingCentral' }),
      client.api(`/users/${BOB.mail}/mailFolders/inbox/childFolders`).post({ displayName: 'RingCentral' }),
    ]);
    const rejected = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal((rejected[0]!.reason as GraphError).code, 'ErrorFolderExists');
    assert.equal((rejected[0]!.reason as GraphError).statusCode, 409);
    const lookup = (await client
      .api(`/users/${BOB.id}/mailFolders/inbox/childFolders`)
      .filter("displayName eq 'RingCentral'")
      .select('id')
      .get()) as { value: MicrosoftGraph.MailFolder[] };
    assert.equal(lookup.value.length, 1);
  });

  it('throttles the fifth concurrent request to one mailbox with 429 and Retry-After', async () => {
    doubles.graph.faults.inject({ kind: 'slow', delayMs: 150, match: { method: 'POST', mailbox: ALICE.mail } });
    const attempts = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        client
          .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
          .middlewareOptions(noRetry())
          .post(recipe(`post-c${i}:1`, '2024-03-03T10:00:00Z', '2024-03-03T10:00:00Z')),
      ),
    );
    const rejected = attempts
      .filter((a): a is PromiseRejectedResult => a.status === 'rejected')
      .map((a) => a.reason as GraphError);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.statusCode, 429);
    assert.equal(rejected[0]!.code, 'ApplicationThrottled');
    assert.equal(rejected[0]!.headers?.get('Retry-After'), '1');
    const stats = doubles.graph.stats;
    assert.equal(stats.maxConcurrency[ALICE.mail], 4);
    assert.equal(stats.throttledBy.MailboxConcurrency, 1);
    assert.equal(doubles.graph.messagesIn(ALICE.mail).length, 4);
  });

  it('uploads a 10 MB attachment through LargeFileUploadTask byte for byte', async () => {
    const created = (await client
      .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .post(recipe('post-5:1', '2024-03-04T10:00:00Z', '2024-03-04T10:00:00Z'))) as MicrosoftGraph.Message;
    const content = randomBytes(10 * 1024 * 1024 + 123);
    const session = await LargeFileUploadTask.createUploadSession(
      client,
      `/users/${ALICE.id}/messages/${encodeURIComponent(created.id!)}/attachments/createUploadSession`,
      {
        AttachmentItem: {
          attachmentType: 'file',
          name: 'big.bin',
          size: content.length,
          contentType: 'application/octet-stream',
        },
      },
    );
    assert.match(session.url, /^https:\/\/localhost:\d+\/upload\//);
    const ranges: string[] = [];
    const task = new LargeFileUploadTask(client, new FileUpload(content, 'big.bin', content.length), session, {
      rangeSize: 10 * 320 * 1024,
      uploadEventHandlers: { progress: (range) => ranges.push(`${range?.minValue}-${range?.maxValue}`) },
    });
    const result = await task.upload();
    assert.match(result.location ?? '', /Attachments\('/);
    assert.equal(ranges.length, 4);
    const [stored] = doubles.graph.messagesIn(ALICE.mail);
    assert.equal(stored?.attachments.length, 1);
    assert.equal(stored?.attachments[0]?.via, 'uploadSession');
    assert.ok(stored?.attachments[0]?.bytes.equals(content), 'attachment bytes are identical');
    assert.equal(stored?.hasAttachments, true);
    assert.equal(doubles.graph.stats.requests['upload.put'], 4);
  });

  it('accepts a streamed upload (StreamUpload) as well', async () => {
    const created = (await client
      .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
      .post(recipe('post-6:1', '2024-03-04T10:00:00Z', '2024-03-04T10:00:00Z'))) as MicrosoftGraph.Message;
    const content = randomBytes(7 * 1024 * 1024 + 5);
    const session = await LargeFileUploadTask.createUploadSession(
      client,
      `/users/${ALICE.mail}/messages/${encodeURIComponent(created.id!)}/attachments/createUploadSession`,
      { AttachmentItem: { attachmentType: 'file', name: 'streamed.bin', size: content.length } },
    );
    // StreamUpload reads with read(n), which needs a byte stream: an object-mode stream never completes a slice.
    const stream = Readable.from(
      (function* () {
        for (let offset = 0; offset < content.length; offset += 64 * 1024)
          yield content.subarray(offset, offset + 64 * 1024);
      })(),
      { objectMode: false },
    );
    await new LargeFileUploadTask(client, new StreamUpload(stream, 'streamed.bin', content.length), session, {
      rangeSize: 10 * 320 * 1024,
    }).upload();
    const [stored] = doubles.graph.messagesIn(ALICE.mail);
    assert.ok(stored?.attachments[0]?.bytes.equals(content));
  });

  it('pages a plain listing through @odata.nextLink', async () => {
    for (let i = 0; i < 5; i++) {
      await client
        .api(`/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages`)
        .post(recipe(`post-p${i}:1`, `2024-03-0${i + 1}T10:00:00Z`, `2024-03-0${i + 1}T10:00:00Z`));
    }
    const seen: string[] = [];
    let pageUrl: string | undefined =
      `/users/${ALICE.id}/mailFolders/${encodeURIComponent(folderId)}/messages?$top=2&$select=id,receivedDateTime`;
    let pages = 0;
    while (pageUrl) {
      const pageBody = (await client.api(pageUrl).get()) as {
        value: MicrosoftGraph.Message[];
        '@odata.nextLink'?: string;
      };
      seen.push(...pageBody.value.map((m) => m.receivedDateTime!));
      pageUrl = pageBody['@odata.nextLink'];
      pages += 1;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...seen].sort().reverse(), 'newest first');
    assert.equal(new Set(seen).size, 5);
  });

  it('resolves a participant by mail, UPN or proxy address', async () => {
    const lookup = async (address: string): Promise<MicrosoftGraph.User[]> =>
      (
        (await client
          .api('/users')
          .header('ConsistencyLevel', 'eventual')
          .query({ $count: 'true' })
          .filter(
            `mail eq '${address}' or userPrincipalName eq '${address}' or proxyAddresses/any(p:p eq 'smtp:${address}')`,
          )
          .select('id,mail,userPrincipalName')
          .get()) as { value: MicrosoftGraph.User[] }
      ).value;
    assert.deepEqual(
      (await lookup('AL@contoso.example')).map((u) => u.id),
      [ALICE.id],
    );
    assert.deepEqual(
      (await lookup('bob@contoso.example')).map((u) => u.id),
      [BOB.id],
    );
    assert.deepEqual(
      (await lookup('nobody@contoso.example')).map((u) => u.id),
      [],
    );
    const user = (await client.api(`/users/${ALICE.userPrincipalName}`).get()) as MicrosoftGraph.User;
    assert.equal(user.id, ALICE.id);
  });
});
