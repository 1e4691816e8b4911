import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxResolver } from '../../shared/mapping/mailbox-resolver';
import type { StorageAccount } from '../../shared/store/storage-account';
import type { UserDirectory } from '../../shared/mapping/user-directory';

// Guests and people without an address are decided before any lookup, so neither port is touched.
const untouchable = new Proxy({}, { get: () => { throw new Error('must not be called'); } });
const resolver = new MailboxResolver(untouchable as StorageAccount, untouchable as UserDirectory, 24);

test('guests are never delivered to, with the reason recorded', async () => {
  const r = await resolver.resolve({ id: '9', guest: true, person: { id: '9', email: 'gina@partner.example' } });
  assert.equal(r.kind, 'notDelivered');
  assert.equal(r.kind === 'notDelivered' && r.key, 'gina@partner.example');
  assert.match(r.kind === 'notDelivered' ? r.reason : '', /guest/);
});

test('members without a valid email are reported by person id', async () => {
  for (const email of [undefined, '', 'not-an-email', 'a@b']) {
    const r = await resolver.resolve({ id: '5', guest: false, person: { id: '5', email } });
    assert.equal(r.kind, 'notDelivered');
    assert.equal(r.kind === 'notDelivered' && r.key, 'person:5');
  }
});

test('a person missing from the export is reported, not guessed', async () => {
  const r = await resolver.resolve({ id: '6', guest: false });
  assert.equal(r.kind, 'notDelivered');
  assert.match(r.kind === 'notDelivered' ? r.reason : '', /not in the export/);
});
