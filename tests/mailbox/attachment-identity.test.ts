import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachmentIdentity, compareAttachments } from '../../shared/mailbox/attachment-identity';

const files = [
  { contentId: attachmentIdentity({ fileId: 'f1' }, 0), name: 'image.png', size: 1536 },
  { contentId: attachmentIdentity({ fileId: 'f2' }, 1), name: 'image.png', size: 2560 },
  { contentId: attachmentIdentity({ fileId: 'f1' }, 2), name: 'image.png', size: 1536 },
];

test('identities keep one file attached twice apart, and stay within Graph-safe characters', () => {
  assert.notEqual(files[0]!.contentId, files[2]!.contentId);
  assert.match(attachmentIdentity({ fileId: 'a/b c#?' }, 3), /^rcfile\.3\.[A-Za-z0-9._-]+$/);
});

test('held attachments are compared on identity, whatever their names, sizes and order', () => {
  const held = [
    { name: 'image.png', size: 2560, contentId: files[1]!.contentId },
    { name: 'image.png', size: 1536, contentId: files[0]!.contentId },
  ];
  assert.deepEqual(compareAttachments(files, held), { missing: [files[2]], duplicated: 0 });
  assert.deepEqual(compareAttachments(files, [...held, held[0]!, held[0]!]).duplicated, 2);
});

test('attachments without an identity (written before it existed) stand for one file each, by name and size', () => {
  const legacy = [
    { name: 'image.png', size: 2560 },
    { name: 'image.png', size: 1540 },
  ];
  // The larger held file is not taken for the smaller one when a closer fit is held too.
  assert.deepEqual(compareAttachments(files, legacy).missing, [files[2]]);
});
