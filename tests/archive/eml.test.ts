import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { composeEml, messageIdOf } from '../../shared/archive/eml';
import { renderPost } from '../../shared/archive/render-post';
import type { Participant } from '../../shared/archive/people-directory';

async function toBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

const alice: Participant = {
  id: '1',
  guest: false,
  person: { id: '1', firstName: 'Ålice', lastName: 'Ärcher', email: 'alice@contoso.example' },
};
const bob: Participant = {
  id: '2',
  guest: false,
  person: { id: '2', firstName: 'Bob', lastName: 'Baker', email: 'bob@contoso.example' },
};
const gina: Participant = {
  id: '9',
  guest: true,
  person: { id: '9', firstName: 'Gina', email: 'gina@partner.example' },
};

test('the .eml archive copy parses back with the same headers, addresses, date and bodies', async () => {
  const message = renderPost(
    {
      id: 'p1',
      chatId: 'c1',
      creator: { id: '1' },
      creationTime: '2026-11-20T10:15:00.000Z',
      lastModifiedTime: '2026-11-20T10:15:00.000Z',
      text: 'Héllo 👋 <b>team</b>\nline two',
    },
    '2026-11-20T10:15:00.000Z',
    {
      chat: {
        id: 'c1',
        Type: 'Team',
        name: 'Ünïcode — team',
        creationTime: '2026-01-01T00:00:00Z',
        lastModifiedTime: '2026-01-01T00:00:00Z',
      },
      creator: alice,
      members: [alice, bob],
      guests: [gina],
    },
  );
  const parsed = await simpleParser(await toBuffer(composeEml(message)));
  assert.equal(parsed.subject, message.subject);
  assert.equal(parsed.messageId, messageIdOf(message.itemKey));
  assert.equal(parsed.date?.toISOString(), '2026-11-20T10:15:00.000Z');
  assert.deepEqual(
    parsed.from?.value.map((a) => [a.name, a.address]),
    [['Ålice Ärcher', 'alice@contoso.example']],
  );
  const to = Array.isArray(parsed.to) ? parsed.to.flatMap((t) => t.value) : (parsed.to?.value ?? []);
  assert.deepEqual(
    to.map((a) => a.address),
    ['alice@contoso.example', 'bob@contoso.example'],
  );
  const cc = Array.isArray(parsed.cc) ? parsed.cc.flatMap((t) => t.value) : (parsed.cc?.value ?? []);
  assert.deepEqual(
    cc.map((a) => a.address),
    ['gina@partner.example'],
  );
  assert.equal(parsed.text?.trim(), message.text.trim());
  assert.equal(parsed.html, message.html);
  assert.equal(parsed.headers.get('x-ringcentral-chat-id'), 'c1');
  assert.equal(parsed.headers.get('x-ringcentral-item-key'), message.itemKey);
});

test('attachments are streamed into the .eml and come back byte for byte', async () => {
  const message = renderPost(
    {
      id: 'p2',
      chatId: 'c1',
      creator: { id: '1' },
      creationTime: '2026-11-20T10:15:00.000Z',
      lastModifiedTime: '2026-11-20T10:15:00.000Z',
      text: 'file',
    },
    '2026-11-20T10:15:00.000Z',
    { creator: alice, members: [alice], guests: [] },
  );
  const bytes = Buffer.alloc(300_000, 7);
  const parsed = await simpleParser(
    await toBuffer(
      composeEml(message, [{ filename: 'report "final".pdf', contentType: 'application/pdf', content: bytes }]),
    ),
  );
  assert.equal(parsed.attachments.length, 1);
  assert.equal(parsed.attachments[0].filename, 'report "final".pdf');
  assert.ok(parsed.attachments[0].content.equals(bytes));
});
