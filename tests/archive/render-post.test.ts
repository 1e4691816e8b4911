import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPost } from '../../shared/archive/render-post';
import type { Participant } from '../../shared/archive/people-directory';
import type { ExportChat, ExportPost } from '../../shared/ringcentral/export-records';

const alice: Participant = {
  id: '1',
  guest: false,
  person: { id: '1', firstName: 'Alice', lastName: 'Archer', email: 'Alice@Contoso.example' },
};
const bob: Participant = {
  id: '2',
  guest: false,
  person: { id: '2', firstName: 'Bob', lastName: 'Baker', email: 'bob@contoso.example' },
};
const gina: Participant = {
  id: '9',
  guest: true,
  person: { id: '9', firstName: 'Gina', lastName: 'Guest', email: 'gina@partner.example' },
};
const team: ExportChat = {
  id: 'c1',
  creationTime: '2026-01-01T00:00:00Z',
  lastModifiedTime: '2026-01-01T00:00:00Z',
  Type: 'Team',
  name: 'Deals desk',
  accountId: 'acc-1',
};
const post: ExportPost = {
  id: 'p1',
  chatId: 'c1',
  creator: { id: '1' },
  creationTime: '2026-11-20T10:15:00.000Z',
  lastModifiedTime: '2026-11-20T10:15:00.000Z',
  text: 'Price is <b>final</b> & "firm"',
};

test('a team post becomes a message from its creator to the members, guests in Cc, dated at creation', () => {
  const m = renderPost(post, post.lastModifiedTime, {
    chat: team,
    creator: alice,
    members: [alice, bob],
    guests: [gina],
  });
  assert.equal(m.subject, '[RingCentral] Deals desk — Post');
  assert.deepEqual(m.from, { name: 'Alice Archer', address: 'alice@contoso.example' });
  assert.deepEqual(
    m.to.map((a) => a.address),
    ['alice@contoso.example', 'bob@contoso.example'],
  );
  assert.deepEqual(
    m.cc.map((a) => a.address),
    ['gina@partner.example'],
  );
  assert.equal(m.sentAt, '2026-11-20T10:15:00.000Z');
  assert.equal(m.itemKey, 'post:p1:2026-11-20T10:15:00.000Z');
  assert.equal(m.headers['X-RingCentral-Chat-Id'], 'c1');
  assert.equal(m.headers['X-RingCentral-Item-Id'], 'p1');
  assert.equal(m.headers['X-RingCentral-Account-Id'], 'acc-1');
});

test('post text is escaped in HTML and kept verbatim in plain text', () => {
  const m = renderPost(post, post.lastModifiedTime, { chat: team, creator: alice, members: [alice, bob], guests: [] });
  assert.ok(m.html.includes('Price is &lt;b&gt;final&lt;/b&gt; &amp; &quot;firm&quot;'));
  assert.ok(!m.html.includes('<b>final</b>'));
  assert.ok(m.text.includes('Price is <b>final</b> & "firm"'));
});

test('a direct chat is named by its participants, and a script in a name never reaches the HTML', () => {
  const direct: ExportChat = { ...team, Type: 'Direct', name: undefined };
  const evil: Participant = {
    id: '3',
    guest: false,
    person: {
      id: '3',
      firstName: '<script>alert(1)</script>',
      lastName: 'X\r\nBcc: a@b.c',
      email: 'x@contoso.example',
    },
  };
  const m = renderPost({ ...post, creator: { id: '3' } }, post.lastModifiedTime, {
    chat: direct,
    creator: evil,
    members: [evil, bob],
    guests: [],
  });
  assert.match(m.subject, /^\[RingCentral\] .*Bob Baker — Post$/);
  assert.ok(!/[\r\n]/.test(m.subject));
  assert.ok(!m.html.includes('<script>'));
});

test('an edited version carries an edit banner; a deleted one a deletion notice', () => {
  const edited = renderPost({ ...post, lastModifiedTime: '2026-11-20T11:00:00.000Z' }, '2026-11-20T11:00:00.000Z', {
    chat: team,
    creator: alice,
    members: [alice],
    guests: [],
    previousVersion: '2026-11-20T10:15:00.000Z',
  });
  assert.match(edited.text, /edited in RingCentral/);
  assert.equal(edited.change, 'edited');
  assert.equal(edited.previousItemKey, 'post:p1:2026-11-20T10:15:00.000Z');
  assert.equal(edited.headers['X-RingCentral-Previous-Version'], '2026-11-20T10:15:00.000Z');
  assert.notEqual(
    edited.itemKey,
    renderPost(post, post.lastModifiedTime, { chat: team, creator: alice, members: [alice], guests: [] }).itemKey,
  );
  const deleted = renderPost({ ...post, deleted: true }, '2026-11-20T12:00:00.000Z', {
    chat: team,
    creator: alice,
    members: [alice],
    guests: [],
  });
  assert.match(deleted.text, /deleted in RingCentral/);
  assert.equal(deleted.change, 'deleted');
  assert.match(deleted.subject, /\(deleted\)$/);
});

test('people without a usable email get a non-routable placeholder address', () => {
  const nobody: Participant = { id: '77', guest: false };
  const m = renderPost({ ...post, creator: { id: '77' } }, post.lastModifiedTime, {
    chat: team,
    creator: nobody,
    members: [nobody],
    guests: [],
  });
  assert.equal(m.from.address, 'rc-77@unknown.invalid');
  assert.equal(m.from.name, 'RingCentral user 77');
});
