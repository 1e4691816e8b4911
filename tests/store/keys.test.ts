import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blobSegment, tableKey } from '../../shared/store/keys';
import { conversationIndex } from '../../shared/mailbox/mapi-properties';

test('table keys never contain the characters Table storage forbids, and stay distinct', () => {
  const inputs = ['a/b', 'a\\b', 'a#b', 'a?b', 'a%2Fb', 'tab\there', 'post:1:2026-01-01T00:00:00.000Z'];
  const keys = inputs.map(tableKey);
  for (const k of keys) assert.ok(!/[/\\#?\u0000-\u001f]/.test(k), k);
  assert.equal(new Set(keys).size, inputs.length);
  assert.ok(tableKey('x'.repeat(5000)).length < 100);
});

test('blob segments are never dot names', () => {
  assert.equal(blobSegment('.'), '%2E');
  assert.equal(blobSegment('..'), '%2E%2E');
  assert.ok(!blobSegment('a/b').includes('/'));
});

test('messages of one chat share the conversation GUID; other chats do not', () => {
  const a1 = Buffer.from(conversationIndex('chat-1', '2026-01-01T00:00:00Z'), 'base64');
  const a2 = Buffer.from(conversationIndex('chat-1', '2026-02-01T00:00:00Z'), 'base64');
  const b = Buffer.from(conversationIndex('chat-2', '2026-01-01T00:00:00Z'), 'base64');
  assert.equal(a1.length, 22);
  assert.deepEqual(a1.subarray(6), a2.subarray(6));
  assert.notDeepEqual(a1.subarray(6), b.subarray(6));
  assert.notDeepEqual(a1.subarray(1, 6), a2.subarray(1, 6));
});
