import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxRejectedError, MailboxUnavailableError } from '../../shared/mailbox/mailbox-target';
import { asMailboxError as graphRefusal, GraphCallError } from '../../shared/mailbox/graph-client';
import { asMailboxError as folderRefusal } from '../../shared/mailbox/eml-folder-mailbox';

test("Graph codes for a missing mailbox and for a refused item become the port's own errors, message kept", () => {
  const missing = graphRefusal(
    new GraphCallError(
      404,
      'MailboxNotEnabledForRESTAPI',
      'create message failed: HTTP 404 MailboxNotEnabledForRESTAPI',
    ),
  );
  assert.ok(missing instanceof MailboxUnavailableError);
  assert.equal(missing.code, 'MailboxNotEnabledForRESTAPI');
  assert.equal(missing.message, 'create message failed: HTTP 404 MailboxNotEnabledForRESTAPI');

  const refused = graphRefusal(
    new GraphCallError(403, 'ErrorAccessDenied', 'create message failed: HTTP 403 ErrorAccessDenied'),
  );
  assert.ok(refused instanceof MailboxRejectedError);
  assert.equal(refused.code, 'ErrorAccessDenied');
});

test('other Graph errors and non-Graph errors pass through unchanged', () => {
  const other = new GraphCallError(400, 'ErrorInvalidProperty', 'list attachments failed');
  assert.equal(graphRefusal(other), other);
  const plain = new Error('boom');
  assert.equal(graphRefusal(plain), plain);
});

test("the .eml folder's refusals (no access, read-only, full) are rejections; other file errors pass through", () => {
  for (const code of ['EACCES', 'EPERM', 'EROFS', 'ENOSPC']) {
    const err = folderRefusal(Object.assign(new Error(code), { code }), '/archive/a.eml');
    assert.ok(err instanceof MailboxRejectedError, code);
    assert.equal(err.code, code);
  }
  const busy = Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
  assert.equal(folderRefusal(busy, '/archive/a.eml'), busy);
});
