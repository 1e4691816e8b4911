import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  archivedAttachmentOf,
  callExtensionIds,
  contentTypeOfFileName,
  fileExtensionOf,
  messageKindOf,
  messageStoreFileOf,
  validateCall,
  validateMessage,
  voiceVersionOf,
  type StoredCall,
} from '../../shared/ringcentral/voice-records';

// How the archiver reads message-store and call-log records and the report archives' paths.

test('message types map to item kinds; other types are not known', () => {
  assert.deepEqual(['SMS', 'Pager', 'Fax', 'VoiceMail', 'Text', 'sms'].map(messageKindOf), [
    'sms',
    'pager',
    'fax',
    'voicemail',
    undefined,
    undefined,
  ]);
});

test('a message record needs an id, a known type, a creation time and an owner; the archive path supplies the owner', () => {
  const base = { id: 9100000010, type: 'SMS', creationTime: '2026-11-30T10:00:00Z' };
  const fromPath = validateMessage(base, '1800000001');
  assert.ok(fromPath.ok);
  assert.equal(fromPath.record.id, '9100000010');
  assert.equal(fromPath.record.extensionId, '1800000001');
  // The record's own extensionId wins over the path.
  const own = validateMessage({ ...base, extensionId: 42 }, '1800000001');
  assert.ok(own.ok && own.record.extensionId === '42');
  const noOwner = validateMessage(base);
  assert.ok(!noOwner.ok && /extensionId/.test(noOwner.reason) && noOwner.id === '9100000010');
  const unknown = validateMessage({ ...base, type: 'Text' }, '1');
  assert.ok(!unknown.ok && /type/.test(unknown.reason));
  const badTime = validateMessage({ ...base, creationTime: 'yesterday' }, '1');
  assert.ok(!badTime.ok && /creationTime/.test(badTime.reason));
  assert.equal(validateMessage(null, '1').ok, false);
});

test('a call record needs an id and a start time; its version is that time, normalised', () => {
  assert.ok(validateCall({ id: 'c1', startTime: '2026-11-30T10:00:00Z', duration: 12 }).ok);
  assert.equal(validateCall({ id: 'c1' }).ok, false);
  assert.equal(validateCall({ id: 'c1', startTime: '2026-11-30T10:00:00Z', duration: -1 }).ok, false);
  assert.equal(voiceVersionOf('2026-11-30T10:00:00Z'), '2026-11-30T10:00:00.000Z');
});

test('every extension a call involves: caller, callee and each leg, once each', () => {
  const call = {
    id: 'c1',
    startTime: '2026-11-30T10:00:00Z',
    from: { phoneNumber: '+14155550123' },
    to: { extensionId: '101' },
    legs: [
      { from: { extensionId: '101' }, to: { extensionId: '102' } },
      { extension: { id: '103' }, to: { phoneNumber: '+12125550188' } },
    ],
  } as unknown as StoredCall;
  assert.deepEqual(callExtensionIds(call), ['101', '102', '103']);
});

test('report archive paths name the extension, the message and the attachment', () => {
  assert.deepEqual(
    archivedAttachmentOf('account/37439510/extension/1800000001/message-store/content/9100000010/9200000013.pdf'),
    { extensionId: '1800000001', messageId: '9100000010', attachmentId: '9200000013' },
  );
  assert.equal(archivedAttachmentOf('account/1/extension/2/message-store.json'), undefined);
  assert.deepEqual(messageStoreFileOf('account/37439510/extension/1800000001/message-store.json'), {
    extensionId: '1800000001',
  });
  assert.equal(messageStoreFileOf('account/1/extension/2/message-store/content/3/4.txt'), undefined);
});

test('content types and file extensions go both ways; unknown ones fall back', () => {
  assert.equal(fileExtensionOf('application/pdf; charset=binary'), 'pdf');
  assert.equal(fileExtensionOf('AUDIO/MPEG'), 'mp3');
  assert.equal(fileExtensionOf('application/x-unknown'), 'bin');
  assert.equal(fileExtensionOf(undefined), 'bin');
  for (const type of ['application/pdf', 'image/tiff', 'image/jpeg', 'audio/mpeg', 'audio/wav', 'text/plain'])
    assert.equal(contentTypeOfFileName(`x/1.${fileExtensionOf(type)}`), type);
  assert.equal(contentTypeOfFileName('x/1.TIFF'), 'image/tiff');
  assert.equal(contentTypeOfFileName('x/1'), 'application/octet-stream');
});
