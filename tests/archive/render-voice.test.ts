import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { composeEml, messageIdOf } from '../../shared/archive/eml';
import type { ArchiveAttachment } from '../../shared/archive/archive-message';
import type { Participant } from '../../shared/archive/people-directory';
import { messageClassOf } from '../../shared/archive/render-frame';
import {
  formatDuration,
  normalisePhone,
  partyAddress,
  renderCall,
  renderVoiceMessage,
  type CallInput,
  type VoiceMessageInput,
  type VoiceParty,
} from '../../shared/archive/render-voice';
import { extendedPropertiesFor, PROPERTY_SET } from '../../shared/mailbox/mapi-properties';

const person = (id: string, firstName: string, lastName: string): Participant => ({
  id,
  guest: false,
  person: { id, firstName, lastName, email: `${firstName.toLowerCase()}@contoso.example` },
});
const ada = person('1001', 'Ada', 'Archer');
const ben = person('1002', 'Ben', 'Baker');
const cleo = person('1003', 'Cleo', 'Cole');
const dev = person('1004', 'Dev', 'Dahl');

const carla = { phoneNumber: '14155550123', name: 'Carla Customer', location: 'San Francisco, CA' };
const supplier = { phoneNumber: '+12125550188', location: 'New York, NY' };
const counsel = { phoneNumber: '13105550142', name: 'Outside Counsel', location: 'Los Angeles, CA' };
const adaLine = { phoneNumber: '16505550101', extensionId: '1001', name: 'Ada Archer' };
const benLine = { phoneNumber: '16505550102', extensionId: '1002', name: 'Ben Baker' };

const party = (role: VoiceParty['role'], p: Omit<VoiceParty, 'role'>): VoiceParty => ({ role, ...p });
const CARLA_ADDRESS = '+14155550123@phone.ringcentral.invalid';
const t0 = '2026-11-20T10:00:00.000Z';

function sms(overrides: Partial<VoiceMessageInput> = {}, record: Partial<VoiceMessageInput['record']> = {}) {
  const direction = record.direction ?? 'Inbound';
  const input: VoiceMessageInput = {
    kind: 'sms',
    version: t0,
    accountId: 'acc-1',
    owner: ada,
    record: {
      id: 9100000010,
      type: 'SMS',
      direction,
      creationTime: '2026-11-20T10:00:00Z',
      lastModifiedTime: '2026-11-20T10:05:00Z',
      conversationId: 7000001,
      messageStatus: direction === 'Inbound' ? 'Received' : 'Delivered',
      from: direction === 'Inbound' ? carla : adaLine,
      to: [direction === 'Inbound' ? adaLine : carla],
      attachments: [{ id: 9200000001, type: 'Text', contentType: 'text/plain' }],
      ...record,
    },
    from:
      direction === 'Inbound'
        ? party('from', carla)
        : party('from', { ...adaLine, extensionNumber: '101', participant: ada }),
    to: [direction === 'Inbound' ? party('to', { ...adaLine, participant: ada }) : party('to', carla)],
    text: 'Hi Ada, is the demo still on for Thursday?',
    ...overrides,
  };
  return { input, message: renderVoiceMessage(input) };
}

function lines(text: string): string[] {
  return text.split('\n');
}

test('an inbound SMS comes from the customer number and goes to the owner, with the number in subject, addresses and fields', () => {
  const { message: m } = sms();
  assert.equal(m.kind, 'sms');
  assert.equal(m.itemKey, `sms:9100000010:${t0}`);
  assert.equal(m.subject, '[RingCentral] SMS with +1 415 555 0123 (Carla Customer)');
  assert.deepEqual(m.from, { name: 'Carla Customer (+14155550123)', address: CARLA_ADDRESS });
  assert.deepEqual(m.to, [{ name: 'Ada Archer', address: 'ada@contoso.example' }]);
  assert.deepEqual(m.cc, []);
  assert.equal(m.sentAt, t0);
  assert.equal(m.change, 'new');
  assert.equal(messageClassOf(m.kind), 'IPM.Note.RingCentral.Sms');
  const text = lines(m.text);
  for (const line of [
    'Type: SMS',
    'From: Carla Customer (+14155550123) — San Francisco, CA',
    'To: Ada Archer (+16505550101) <ada@contoso.example>',
    'Direction: Inbound',
    'Status: Received',
    'Hi Ada, is the demo still on for Thursday?',
    `-- Archived from RingCentral SMS. sms 9100000010, version ${t0}.`,
  ])
    assert.ok(text.includes(line), line);
  assert.ok(m.html.includes('<div>Hi Ada, is the demo still on for Thursday?</div>'));
  assert.deepEqual(m.source, {
    accountId: 'acc-1',
    chatId: '7000001',
    itemId: '9100000010',
    version: t0,
    extensionId: '1001',
    conversationId: '7000001',
  });
  assert.deepEqual(m.conversation, { topic: '[RingCentral] SMS with +14155550123', chatId: '7000001' });
});

test('an outbound SMS comes from the owner and goes to the customer number, in the same conversation as the inbound ones', () => {
  const inbound = sms().message;
  // The outbound copy names the customer by number only: the topic must not depend on the name.
  const { message: m } = sms(
    { to: [party('to', { phoneNumber: '+14155550123' })], text: 'Yes - 10:00.' },
    {
      id: '9100000017',
      direction: 'Outbound',
      creationTime: '2026-11-20T10:06:00Z',
      smsDeliveryTime: '2026-11-20T10:06:04Z',
    },
  );
  assert.ok(lines(m.text).includes('Delivered: 2026-11-20T10:06:04.000Z'));
  assert.ok(!inbound.text.includes('Delivered:'), 'no delivery time, no field');
  assert.equal(m.subject, '[RingCentral] SMS with +1 415 555 0123');
  assert.deepEqual(m.from, { name: 'Ada Archer', address: 'ada@contoso.example' });
  assert.deepEqual(m.to, [{ name: '+14155550123', address: CARLA_ADDRESS }]);
  assert.equal(m.sentAt, '2026-11-20T10:06:00.000Z');
  assert.ok(lines(m.text).includes('Direction: Outbound'));
  assert.ok(lines(m.text).includes('Status: Delivered'));
  assert.ok(lines(m.text).includes('From: Ada Archer (+16505550101, ext. 101) <ada@contoso.example>'));
  assert.ok(lines(m.text).includes('To: +14155550123'));
  assert.equal(m.conversation.topic, inbound.conversation.topic);
  assert.equal(m.conversation.chatId, inbound.conversation.chatId);
  assert.notEqual(m.itemKey, inbound.itemKey);
});

test('an inbound SMS whose recipient is not recognised still lists the owner as a recipient', () => {
  const { message: m } = sms({ to: [party('to', { phoneNumber: '+16505550199', name: 'Main line' })] });
  assert.deepEqual(
    m.to.map((a) => a.address),
    ['+16505550199@phone.ringcentral.invalid', 'ada@contoso.example'],
  );
});

test('a group SMS names every other party, and its topic is the same from either side', () => {
  const inbound = sms({
    to: [party('to', { ...adaLine, participant: ada }), party('to', supplier)],
  }).message;
  const outbound = sms(
    { to: [party('to', supplier), party('to', carla)] },
    { direction: 'Outbound', creationTime: '2026-11-20T10:07:00Z' },
  ).message;
  assert.equal(inbound.subject, '[RingCentral] SMS with +1 415 555 0123 (Carla Customer), +1 212 555 0188');
  assert.equal(outbound.subject, '[RingCentral] SMS with +1 212 555 0188, +1 415 555 0123 (Carla Customer)');
  assert.equal(inbound.conversation.topic, '[RingCentral] SMS with +12125550188, +14155550123');
  assert.equal(outbound.conversation.topic, inbound.conversation.topic);
  assert.deepEqual(
    inbound.to.map((a) => a.address),
    ['ada@contoso.example', '+12125550188@phone.ringcentral.invalid'],
  );
});

test('an SMS with a picture is an MMS: its subject and type say so and the picture is listed', () => {
  const photo: ArchiveAttachment = {
    fileId: '9200000009',
    name: 'pallet.jpg',
    size: 48_213,
    contentType: 'image/jpeg',
    blob: 'voice/x/pallet.jpg',
    sha256: 'ab'.repeat(32),
  };
  const { message: m } = sms(
    { from: party('from', supplier), attachments: [photo], text: 'Photo of the damaged pallet' },
    {
      from: supplier,
      conversationId: 7000002,
      attachments: [
        { id: 9200000009, type: 'MmsAttachment', contentType: 'image/jpeg', fileName: 'pallet.jpg', size: 48_213 },
        { id: 9200000010, type: 'Text', contentType: 'text/plain' },
      ],
    },
  );
  assert.equal(m.subject, '[RingCentral] MMS with +1 212 555 0188');
  assert.ok(lines(m.text).includes('Type: MMS'));
  assert.ok(lines(m.text).includes('From: +12125550188 — New York, NY'));
  assert.ok(m.text.includes('Attachments: pallet.jpg (47.1 KB)'));
  assert.deepEqual(m.attachments, [photo]);
  assert.equal(m.conversation.topic, '[RingCentral] SMS with +12125550188');
  // A text-only SMS is not an MMS.
  assert.ok(lines(sms().message.text).includes('Type: SMS'));
});

test('hostile SMS text and names are escaped in HTML, kept out of headers, and subjects stay one line', () => {
  const hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
  const { message: m } = sms({
    text: hostile,
    from: party('from', { phoneNumber: '+14155550123', name: 'Eve\r\nBcc: victim@example.com <b>' }),
  });
  assert.ok(!m.html.includes('<script>'), 'no live script');
  assert.ok(!m.html.includes('<img'), 'no live img');
  assert.ok(
    m.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;'),
  );
  assert.ok(m.text.includes(hostile), 'the plain text keeps the message as written');
  assert.ok(!/[\r\n]/.test(m.subject));
  assert.ok(!/[\r\n]/.test(m.from.name));
  assert.equal(m.subject, '[RingCentral] SMS with +1 415 555 0123 (Eve Bcc: victim@example.com <b>)');
  for (const [name, value] of Object.entries(m.headers)) {
    assert.ok(!value.includes('script') && !value.includes('alert'), name);
    assert.ok(!/[\r\n]/.test(value), name);
  }
});

test('SMS headers carry the ids and nothing of the content', () => {
  const { message: m } = sms();
  assert.deepEqual(m.headers, {
    'X-RingCentral-Item-Key': `sms:9100000010:${t0}`,
    'X-RingCentral-Kind': 'sms',
    'X-RingCentral-Chat-Id': '7000001',
    'X-RingCentral-Item-Id': '9100000010',
    'X-RingCentral-Version': t0,
    'X-RingCentral-Account-Id': 'acc-1',
    'X-RingCentral-Extension-Id': '1001',
    'X-RingCentral-Conversation-Id': '7000001',
  });
  const values = Object.values(m.headers).join('\n');
  for (const content of ['Thursday', 'Carla', '4155550123']) assert.ok(!values.includes(content), content);
  // Without an account id there is no Account-Id header; the conversation object works too.
  const { message: bare } = sms({ accountId: undefined }, { conversationId: undefined, conversation: { id: 'c-77' } });
  assert.equal(bare.headers['X-RingCentral-Account-Id'], undefined);
  assert.equal(bare.headers['X-RingCentral-Conversation-Id'], 'c-77');
  assert.equal(bare.source.chatId, 'c-77');
  // No conversation at all: the message is its own conversation.
  const { message: alone } = sms({}, { conversationId: undefined });
  assert.equal(alone.source.chatId, '9100000010');
  assert.equal(alone.source.conversationId, undefined);
  assert.equal(alone.headers['X-RingCentral-Conversation-Id'], undefined);
});

test('a pager message between two extensions uses their mailboxes and extension numbers', () => {
  const m = renderVoiceMessage({
    kind: 'pager',
    version: '2026-11-20T20:00:00.000Z',
    owner: dev,
    record: {
      id: 9100000031,
      type: 'Pager',
      direction: 'Inbound',
      creationTime: '2026-11-20T20:00:00.000Z',
      conversationId: 7000003,
      messageStatus: 'Received',
      pgToDepartment: false,
    },
    from: party('from', { extensionNumber: '103', extensionId: '1003', name: 'Cleo Cole', participant: cleo }),
    to: [party('to', { extensionNumber: '104', extensionId: '1004', name: 'Dev Dahl', participant: dev })],
    text: 'Can you cover the 3pm customer call?',
  });
  assert.equal(m.subject, '[RingCentral] Pager message with Cleo Cole (ext. 103)');
  assert.equal(messageClassOf(m.kind), 'IPM.Note.RingCentral.Pager');
  assert.deepEqual(m.from, { name: 'Cleo Cole', address: 'cleo@contoso.example' });
  assert.deepEqual(m.to, [{ name: 'Dev Dahl', address: 'dev@contoso.example' }]);
  assert.ok(lines(m.text).includes('From: Cleo Cole (ext. 103) <cleo@contoso.example>'));
  assert.ok(lines(m.text).includes('Can you cover the 3pm customer call?'));
  assert.ok(m.text.endsWith(`-- Archived from RingCentral pager. pager 9100000031, version 2026-11-20T20:00:00.000Z.`));
  assert.equal(m.conversation.topic, '[RingCentral] Pager with ext. 103');
  assert.equal(m.headers['X-RingCentral-Conversation-Id'], '7000003');
});

test('a fax shows pages, resolution, direction and status; its pages travel as attachments', () => {
  const pages: ArchiveAttachment = {
    fileId: '9200000040',
    name: 'fax.pdf',
    size: 96_435,
    contentType: 'application/pdf',
    blob: 'voice/fax.pdf',
    sha256: 'cd'.repeat(32),
  };
  const input: VoiceMessageInput = {
    kind: 'fax',
    version: '2026-11-21T12:00:00.000Z',
    owner: ada,
    record: {
      id: 9100000038,
      type: 'Fax',
      direction: 'Inbound',
      creationTime: '2026-11-21T12:00:00.000Z',
      subject: 'Signed contract',
      faxPageCount: 3,
      faxResolution: 'High',
      messageStatus: 'Received',
      conversationId: 123,
    },
    from: party('from', counsel),
    to: [party('to', { ...adaLine, participant: ada })],
    attachments: [pages],
  };
  const m = renderVoiceMessage(input);
  assert.equal(m.subject, '[RingCentral] Fax from +1 310 555 0142 (Outside Counsel) — Signed contract');
  assert.equal(messageClassOf(m.kind), 'IPM.Note.RingCentral.Fax');
  assert.deepEqual(m.from, {
    name: 'Outside Counsel (+13105550142)',
    address: '+13105550142@phone.ringcentral.invalid',
  });
  assert.deepEqual(m.to, [{ name: 'Ada Archer', address: 'ada@contoso.example' }]);
  for (const line of [
    'Type: Fax',
    'Pages: 3',
    'Resolution: High',
    'Direction: Inbound',
    'Status: Received',
    'Attachments: fax.pdf (94.2 KB)',
  ])
    assert.ok(lines(m.text).includes(line), line);
  assert.deepEqual(m.attachments, [pages]);
  // A fax is its own conversation, whatever conversation id it carries.
  assert.equal(m.source.chatId, '9100000038');
  assert.equal(m.source.conversationId, undefined);
  assert.ok(m.text.endsWith('-- Archived from RingCentral fax. fax 9100000038, version 2026-11-21T12:00:00.000Z.'));

  const sent = renderVoiceMessage({
    ...input,
    record: {
      ...input.record,
      direction: 'Outbound',
      subject: undefined,
      faxPageCount: undefined,
      faxResolution: 'Low',
      messageStatus: 'SendingFailed',
      to: [{ phoneNumber: '13105550142', faxErrorCode: 'LineBusy' }],
    },
    from: party('from', { ...adaLine, participant: ada }),
    to: [party('to', counsel)],
  });
  assert.equal(sent.subject, '[RingCentral] Fax to +1 310 555 0142 (Outside Counsel)');
  assert.deepEqual(sent.from, { name: 'Ada Archer', address: 'ada@contoso.example' });
  assert.deepEqual(
    sent.to.map((a) => a.address),
    ['+13105550142@phone.ringcentral.invalid'],
  );
  for (const line of [
    'Pages: unknown',
    'Resolution: Low',
    'Status: SendingFailed',
    'Fax error: +13105550142: LineBusy',
  ])
    assert.ok(lines(sent.text).includes(line), line);
});

function voicemail(transcription: string | undefined, status: VoiceMessageInput['record']['vmTranscriptionStatus']) {
  return renderVoiceMessage({
    kind: 'voicemail',
    version: '2026-11-21T16:00:00.000Z',
    accountId: 'acc-1',
    owner: ada,
    record: {
      id: 9100000052,
      type: 'VoiceMail',
      direction: 'Inbound',
      creationTime: '2026-11-21T16:00:00.000Z',
      subject: 'Voice message from Outside Counsel',
      messageStatus: 'Received',
      vmTranscriptionStatus: status,
      attachments: [
        { id: 1, type: 'AudioRecording', contentType: 'audio/mpeg', size: 368_000, vmDuration: 23 },
        { id: 2, type: 'AudioTranscription', contentType: 'text/plain' },
      ],
    },
    from: party('from', counsel),
    to: [party('to', { ...adaLine, participant: ada })],
    transcription,
  });
}

test('a voicemail shows caller, duration and its transcription as the body', () => {
  const m = voicemail('Hi Ada, the contract is signed. <b>Call me</b> back.', 'Completed');
  assert.equal(m.subject, '[RingCentral] Voicemail from +1 310 555 0142 (Outside Counsel)');
  assert.equal(messageClassOf(m.kind), 'IPM.Note.RingCentral.Voicemail');
  assert.equal(m.from.address, '+13105550142@phone.ringcentral.invalid');
  assert.deepEqual(
    m.to.map((a) => a.address),
    ['ada@contoso.example'],
  );
  assert.equal(m.sentAt, '2026-11-21T16:00:00.000Z');
  for (const line of [
    'Type: Voicemail',
    'From: Outside Counsel (+13105550142) — Los Angeles, CA',
    'Duration: 0:00:23 (23 seconds)',
    'Transcription: Completed',
    'Hi Ada, the contract is signed. <b>Call me</b> back.',
  ])
    assert.ok(lines(m.text).includes(line), line);
  assert.ok(m.html.includes('Hi Ada, the contract is signed. &lt;b&gt;Call me&lt;/b&gt; back.'));
  assert.ok(!m.text.includes('No transcription'));
  assert.ok(!Object.values(m.headers).join(' ').includes('contract'));
  assert.equal(m.source.chatId, '9100000052');
  assert.equal(m.source.conversationId, undefined);
  assert.ok(
    m.text.endsWith('-- Archived from RingCentral voicemail. voicemail 9100000052, version 2026-11-21T16:00:00.000Z.'),
  );
});

test('a voicemail without a transcription says so, with RingCentral’s transcription status', () => {
  const m = voicemail(undefined, 'NotAvailable');
  assert.ok(lines(m.text).includes('No transcription (RingCentral transcription status: NotAvailable).'));
  assert.ok(lines(m.text).includes('Transcription: NotAvailable'));
  assert.ok(m.html.includes('No transcription (RingCentral transcription status: NotAvailable).'));
  assert.ok(
    lines(voicemail('   ', undefined).text).includes('No transcription (RingCentral transcription status: unknown).'),
  );
});

function supplierCall(overrides: Partial<CallInput> = {}, record: Partial<CallInput['record']> = {}) {
  const input: CallInput = {
    version: '2026-11-20T09:00:00.000Z',
    accountId: 'acc-1',
    record: {
      id: 'DemoCall001Ab',
      sessionId: '40000000007',
      telephonySessionId: 's-demo-1',
      startTime: '2026-11-20T09:00:00.000Z',
      type: 'Voice',
      transport: 'PSTN',
      direction: 'Inbound',
      action: 'Phone Call',
      result: 'Accepted',
      reason: 'Accepted',
      duration: 312,
      from: supplier,
      to: benLine,
      extension: { id: 1002 },
      recording: { id: '50000013', type: 'Automatic' },
      legs: [
        {
          startTime: '2026-11-20T09:00:00.000Z',
          legType: 'PstnToSip',
          master: true,
          action: 'Phone Call',
          result: 'Accepted',
          duration: 312,
          from: supplier,
          to: benLine,
          extension: { id: 1002 },
        },
      ],
      ...record,
    },
    parties: [party('from', supplier), party('to', { ...benLine, participant: ben })],
    recording: 'attached',
    ...overrides,
  };
  return renderCall(input);
}

test('a call shows direction, result, start, duration, parties, type, action, recording and one line per leg', () => {
  const m = supplierCall();
  assert.equal(m.kind, 'call');
  assert.equal(m.itemKey, 'call:DemoCall001Ab:2026-11-20T09:00:00.000Z');
  assert.equal(messageClassOf(m.kind), 'IPM.Note.RingCentral.Call');
  assert.equal(m.subject, '[RingCentral] Call from +1 212 555 0188 to +1 650 555 0102 (Ben Baker) (Accepted)');
  assert.deepEqual(m.from, { name: '+12125550188', address: '+12125550188@phone.ringcentral.invalid' });
  assert.deepEqual(m.to, [{ name: 'Ben Baker', address: 'ben@contoso.example' }]);
  assert.equal(m.sentAt, '2026-11-20T09:00:00.000Z');
  assert.equal(m.change, 'new');
  for (const line of [
    'Direction: Inbound',
    'Result: Accepted',
    'Reason: Accepted',
    'Start: 2026-11-20T09:00:00.000Z',
    'Duration: 0:05:12 (312 seconds)',
    'From: +12125550188 — New York, NY',
    'To: Ben Baker (+16505550102) <ben@contoso.example>',
    'Parties: +12125550188 — New York, NY; Ben Baker (+16505550102) <ben@contoso.example>',
    'Call type: Voice, PSTN',
    'Action: Phone Call',
    'Recording: attached',
    'Recording type: Automatic',
    'Leg 1 (master): PstnToSip, +12125550188 — New York, NY → Ben Baker (+16505550102) <ben@contoso.example>, Phone Call, Accepted, 0:05:12 (312 seconds), started 2026-11-20T09:00:00.000Z, extension 1002',
    '-- Archived from RingCentral call log. call DemoCall001Ab, version 2026-11-20T09:00:00.000Z.',
  ])
    assert.ok(lines(m.text).includes(line), line);
  assert.deepEqual(m.source, {
    accountId: 'acc-1',
    chatId: '40000000007',
    itemId: 'DemoCall001Ab',
    version: '2026-11-20T09:00:00.000Z',
    extensionId: '1002',
    sessionId: '40000000007',
  });
  assert.deepEqual(m.headers, {
    'X-RingCentral-Item-Key': 'call:DemoCall001Ab:2026-11-20T09:00:00.000Z',
    'X-RingCentral-Kind': 'call',
    'X-RingCentral-Chat-Id': '40000000007',
    'X-RingCentral-Item-Id': 'DemoCall001Ab',
    'X-RingCentral-Version': '2026-11-20T09:00:00.000Z',
    'X-RingCentral-Account-Id': 'acc-1',
    'X-RingCentral-Extension-Id': '1002',
    'X-RingCentral-Session-Id': '40000000007',
  });
  assert.equal(m.conversation.chatId, '40000000007');
});

test('a call’s recording state: not recorded, or not available with the reason', () => {
  const none = supplierCall({ recording: 'none' }, { recording: undefined });
  assert.ok(lines(none.text).includes('Recording: not recorded'));
  assert.ok(!none.text.includes('Recording type'));
  const missing = supplierCall({ recording: { missing: 'deleted by RingCentral after 90 days' } });
  assert.ok(lines(missing.text).includes('Recording: recording not available: deleted by RingCentral after 90 days'));
  assert.ok(!lines(missing.text).includes('Recording: attached'));
});

test('a missed call says so in its subject; without a sessionId the telephony session, then the id, groups it', () => {
  const missed = supplierCall({}, { result: 'Missed', reason: 'No Answer', duration: 12, sessionId: undefined });
  assert.ok(missed.subject.endsWith(' (Missed)'), missed.subject);
  assert.ok(lines(missed.text).includes('Duration: 0:00:12 (12 seconds)'));
  assert.ok(lines(missed.text).includes('Reason: No Answer'));
  assert.equal(missed.source.chatId, 's-demo-1');
  assert.equal(missed.headers['X-RingCentral-Session-Id'], 's-demo-1');
  const bare = supplierCall(
    { accountId: undefined },
    { sessionId: undefined, telephonySessionId: undefined, extension: undefined, duration: undefined },
  );
  assert.equal(bare.source.chatId, 'DemoCall001Ab');
  assert.equal(bare.headers['X-RingCentral-Session-Id'], undefined);
  assert.equal(bare.headers['X-RingCentral-Account-Id'], undefined);
  assert.equal(bare.headers['X-RingCentral-Extension-Id'], undefined);
  assert.ok(lines(bare.text).includes('Duration: unknown'));
});

test('a transferred call lists every party, a line per leg, and copies the further parties', () => {
  const adaParty = party('to', { ...adaLine, extensionNumber: '101', participant: ada });
  const m = supplierCall(
    {
      parties: [
        party('from', supplier),
        party('to', { ...benLine, participant: ben }),
        party('from', { ...benLine, participant: ben }),
        adaParty,
        adaParty,
      ],
    },
    {
      legs: [
        {
          legType: 'PstnToSip',
          master: true,
          action: 'Phone Call',
          result: 'Accepted',
          duration: 312,
          from: supplier,
          to: benLine,
        },
        {
          legType: 'TransferCall',
          action: 'Transfer',
          result: 'Call connected',
          duration: 200,
          from: benLine,
          to: { extensionNumber: '101', extensionId: '1001' },
        },
      ],
    },
  );
  assert.deepEqual(
    m.to.map((a) => a.address),
    ['ben@contoso.example', 'ada@contoso.example'],
  );
  // Ben is a recipient already: he is not copied again.
  assert.deepEqual(m.cc, []);
  assert.equal(
    m.subject,
    '[RingCentral] Call from +1 212 555 0188 to +1 650 555 0102 (Ben Baker), +1 650 555 0101 (Ada Archer) (Accepted)',
  );
  assert.ok(
    lines(m.text).includes(
      'Parties: +12125550188 — New York, NY; Ben Baker (+16505550102) <ben@contoso.example>; Ada Archer (+16505550101, ext. 101) <ada@contoso.example>',
    ),
  );
  assert.ok(
    lines(m.text).includes(
      'Leg 2: TransferCall, Ben Baker (+16505550102) <ben@contoso.example> → Ada Archer (+16505550101, ext. 101) <ada@contoso.example>, Transfer, Call connected, 0:03:20 (200 seconds)',
    ),
  );
  assert.ok(lines(m.text).some((l) => l.startsWith('Leg 1 (master): PstnToSip, ')));
  assert.ok(!m.text.includes('Leg 3'));
});

test('a further caller who is no recipient is copied', () => {
  const m = supplierCall({
    parties: [
      party('from', supplier),
      party('to', { ...benLine, participant: ben }),
      party('from', { ...adaLine, participant: ada }),
    ],
  });
  assert.deepEqual(m.cc, [{ name: 'Ada Archer', address: 'ada@contoso.example' }]);
});

test('a fax call is named as one', () => {
  const m = supplierCall(
    { recording: 'none' },
    { type: 'Fax', action: 'Incoming Fax', result: 'Received', recording: undefined },
  );
  assert.ok(m.subject.startsWith('[RingCentral] Fax call from +1 212 555 0188 to '), m.subject);
  assert.ok(m.subject.endsWith(' (Received)'));
  assert.ok(lines(m.text).includes('Call type: Fax, PSTN'));
  assert.ok(lines(m.text).includes('Action: Incoming Fax'));
});

test('durations read as h:mm:ss with the seconds; phone numbers normalise to E.164 where they can', () => {
  assert.equal(formatDuration(0), '0:00:00 (0 seconds)');
  assert.equal(formatDuration(1), '0:00:01 (1 second)');
  assert.equal(formatDuration(3725), '1:02:05 (3725 seconds)');
  assert.equal(formatDuration(undefined), 'unknown');
  assert.equal(formatDuration(-5), 'unknown');
  assert.equal(normalisePhone('14155550123'), '+14155550123');
  assert.equal(normalisePhone('+1 (415) 555-0123'), '+14155550123');
  assert.equal(normalisePhone('+44 20 7946 0958'), '+442079460958');
  assert.equal(normalisePhone('5550123'), '5550123');
  assert.equal(normalisePhone('anonymous'), undefined);
  assert.equal(normalisePhone(undefined), undefined);
  assert.deepEqual(partyAddress(party('from', { phoneNumber: 'Anonymous' })), {
    name: 'Unknown party',
    address: 'unknown@phone.ringcentral.invalid',
  });
  assert.deepEqual(partyAddress(party('from', { phoneNumber: '+1 415"555<0123>', name: 'X' })), {
    name: 'X (+14155550123)',
    address: CARLA_ADDRESS,
  });
  assert.deepEqual(partyAddress(party('to', { extensionNumber: '1 0\n4', name: 'Dev' })), {
    name: 'Dev (ext. 104)',
    address: 'ext-104@phone.ringcentral.invalid',
  });
  assert.deepEqual(partyAddress(undefined), { name: 'Unknown party', address: 'unknown@phone.ringcentral.invalid' });
});

test('rendering is pure: the same input gives the same message and the input is left as it was', () => {
  const { input } = sms();
  const before = structuredClone(input);
  assert.deepEqual(renderVoiceMessage(input), renderVoiceMessage(input));
  assert.deepEqual(input, before);
  assert.deepEqual(supplierCall(), supplierCall());
});

test('extendedPropertiesFor writes the voice ids as named properties, and only those the item has', () => {
  const named = (m: Parameters<typeof extendedPropertiesFor>[0]) =>
    Object.fromEntries(
      extendedPropertiesFor(m)
        .filter((p) => p.id.startsWith(`String ${PROPERTY_SET} Name `))
        .map((p) => [p.id.slice(`String ${PROPERTY_SET} Name `.length), p.value]),
    );
  const message = sms().message;
  assert.deepEqual(named(message), {
    RingCentralItemId: `sms:9100000010:${t0}`,
    RingCentralChatId: '7000001',
    RingCentralRecordId: '9100000010',
    RingCentralVersion: t0,
    RingCentralAccountId: 'acc-1',
    RingCentralExtensionId: '1001',
    RingCentralConversationId: '7000001',
  });
  const props = extendedPropertiesFor(message);
  assert.ok(props.some((p) => p.id === 'String 0x001A' && p.value === 'IPM.Note.RingCentral.Sms'));
  assert.ok(props.length <= 100);
  assert.deepEqual(named(supplierCall()), {
    RingCentralItemId: 'call:DemoCall001Ab:2026-11-20T09:00:00.000Z',
    RingCentralChatId: '40000000007',
    RingCentralRecordId: 'DemoCall001Ab',
    RingCentralVersion: '2026-11-20T09:00:00.000Z',
    RingCentralAccountId: 'acc-1',
    RingCentralExtensionId: '1002',
    RingCentralSessionId: '40000000007',
  });
});

async function toBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

test('the .eml copy of an SMS parses back with its number addresses, headers, date and bodies', async () => {
  const { message } = sms({ text: 'Héllo 👋 <b>Ada</b>\nline two' });
  const parsed = await simpleParser(await toBuffer(composeEml(message)));
  assert.equal(parsed.subject, message.subject);
  assert.equal(parsed.messageId, messageIdOf(message.itemKey));
  assert.equal(parsed.date?.toISOString(), t0);
  assert.deepEqual(
    parsed.from?.value.map((a) => [a.name, a.address]),
    [['Carla Customer (+14155550123)', CARLA_ADDRESS]],
  );
  const to = Array.isArray(parsed.to) ? parsed.to.flatMap((t) => t.value) : (parsed.to?.value ?? []);
  assert.deepEqual(
    to.map((a) => a.address),
    ['ada@contoso.example'],
  );
  assert.equal(parsed.headers.get('x-ringcentral-kind'), 'sms');
  assert.equal(parsed.headers.get('x-ringcentral-message-class'), 'IPM.Note.RingCentral.Sms');
  assert.equal(parsed.headers.get('x-ringcentral-conversation-id'), '7000001');
  assert.equal(parsed.headers.get('x-ringcentral-item-key'), message.itemKey);
  assert.equal(parsed.text?.trim(), message.text.trim());
  assert.equal(parsed.html, message.html);
  assert.ok(message.text.includes('Héllo 👋 <b>Ada</b>\nline two'));
});
