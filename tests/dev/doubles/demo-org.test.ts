import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DEMO_ORGANISATION_LABEL,
  MEDIA_PLACEHOLDER,
  demoOrganisation,
  fileContentStream,
  generateOrganisation,
} from '../../../dev/demo-org';

const from = new Date('2025-05-01T00:00:00.000Z');
const to = new Date('2025-05-08T00:00:00.000Z');
const options = {
  seed: 42,
  members: 30,
  guests: 4,
  chats: { direct: 8, group: 4, team: 3, personal: 2 },
  posts: 700,
  tasks: 9,
  notes: 4,
  events: 5,
  filesRatio: 0.2,
  largeFiles: [{ sizeBytes: 12_000_000 }],
  edits: 15,
  deletions: 6,
  from,
  to,
  domain: 'corp.example',
};

async function digest(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hex: hash.digest('hex'), bytes };
}

describe('generateOrganisation', () => {
  const org = generateOrganisation(options);

  it('is deterministic from the seed', () => {
    assert.deepEqual(generateOrganisation(options), org);
    assert.notDeepEqual(
      generateOrganisation({ ...options, seed: 43 }).posts.map((p) => p.chatId),
      org.posts.map((p) => p.chatId),
    );
  });

  it('makes members with first.last@domain and guests with external addresses', () => {
    assert.equal(org.members.length, 30);
    assert.equal(org.guests.length, 4);
    assert.equal(new Set(org.members.map((m) => m.email)).size, 30, 'unique emails');
    for (const m of org.members) {
      assert.match(m.email!, /^[a-z]+\.[a-z-]+\d*@corp\.example$/);
      assert.ok(m.email!.startsWith(`${m.firstName!.toLowerCase()}.${m.lastName!.toLowerCase()}`));
    }
    for (const g of org.guests) assert.ok(!g.email!.endsWith('@corp.example'), g.email);
    const ids = [...org.members, ...org.guests, ...org.chats, ...org.files].map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'ids unique across kinds');
  });

  it('makes chats of every type with their members and guests', () => {
    const count = (type: string) => org.chats.filter((c) => c.Type === type).length;
    assert.deepEqual(
      [count('Everyone'), count('Personal'), count('Direct'), count('Group'), count('Team')],
      [1, 2, 8, 4, 3],
    );
    assert.equal(org.chats.find((c) => c.Type === 'Everyone')!.memberIds!.length, 30);
    assert.ok(
      org.chats.some((c) => (c.guestIds ?? []).length > 0),
      'guests take part somewhere',
    );
    const people = new Set([...org.members, ...org.guests].map((p) => p.id));
    for (const c of org.chats) {
      for (const id of [...c.memberIds!, ...c.guestIds!]) assert.ok(people.has(id));
      assert.equal(c.totalMemberCount, c.memberIds!.length);
    }
  });

  it('spreads posts evenly over [from, to) with threads, mentions and attachments that resolve', () => {
    const originals = org.posts.filter((p) => p.creationTime === p.lastModifiedTime);
    assert.equal(originals.length, 700);
    const times = originals.map((p) => Date.parse(p.creationTime)).sort((a, b) => a - b);
    assert.ok(times[0] >= from.getTime() && times.at(-1)! < to.getTime());
    const step = (to.getTime() - from.getTime()) / 700;
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] <= step + 1, 'even spread');

    const byId = new Map(originals.map((p) => [p.id, p]));
    const chats = new Map(org.chats.map((c) => [c.id, c]));
    const replies = originals.filter((p) => p.chainId);
    assert.ok(replies.length > 50, 'some thread replies');
    for (const r of replies) assert.equal(byId.get(r.chainId!)?.chatId, r.chatId, 'reply in the same chat as its root');
    const mentions = originals.filter((p) => p.mentions?.length);
    assert.ok(mentions.length > 20);
    for (const p of mentions) {
      const mention = p.mentions![0];
      if (mention.type === 'Contact') assert.ok(chats.get(p.chatId)!.memberIds!.includes(mention.id));
      assert.ok(p.text!.includes(`(${mention.id})`), 'mention markup in the text');
    }
    for (const p of originals) {
      const chat = chats.get(p.chatId)!;
      assert.ok([...chat.memberIds!, ...chat.guestIds!].includes(p.creator.id), 'creator takes part in the chat');
    }

    const targets = new Map<string, string>([
      ...org.files.map((f) => [f.id, 'File'] as const),
      ...org.tasks.map((t) => [t.id, 'Task'] as const),
      ...org.notes.map((n) => [n.id, 'Note'] as const),
      ...org.events.map((e) => [e.id, 'Event'] as const),
    ]);
    const attached = originals.flatMap((p) => (p.attachments ?? []).map((a) => ({ a, p })));
    for (const { a, p } of attached)
      assert.equal(targets.get(a.id), a.type, `${a.type} ${a.id} of post ${p.id} exists`);
    assert.equal(new Set(attached.map(({ a }) => a.id)).size, targets.size, 'every item is attached to a post');
    assert.equal(new Set(org.tasks.map((t) => t.id)).size, 9);
    assert.equal(org.notes.length, 4);
    assert.equal(org.events.length, 5);
  });

  it('gives files a media placeholder URI, the share asked for, and the large files', () => {
    const regular = org.files.filter((f) => f.size !== 12_000_000);
    assert.ok(regular.length > 100 && regular.length < 180, `~20% of 700 posts carry a file (got ${regular.length})`);
    assert.equal(org.files.filter((f) => f.size === 12_000_000).length, 1);
    for (const f of org.files) {
      assert.ok(f.contentUri.startsWith(`${MEDIA_PLACEHOLDER}/file/`));
      assert.ok(f.size > 0 && f.name.includes('.'));
    }
  });

  it('adds edits and deletions as later versions of the same id, inside the range', () => {
    const versions = new Map<string, typeof org.posts>();
    for (const p of org.posts) versions.set(p.id, [...(versions.get(p.id) ?? []), p]);
    const changed = [...versions.values()].filter((v) => v.length > 1);
    assert.equal(changed.length, 21);
    const edits = changed.filter((v) => !v[1].deleted);
    const deletions = changed.filter((v) => v[1].deleted);
    assert.equal(edits.length, 15);
    assert.equal(deletions.length, 6);
    for (const [original, later] of changed) {
      assert.ok(later.lastModifiedTime > original.lastModifiedTime);
      assert.equal(later.creationTime, original.creationTime);
      assert.ok(Date.parse(later.lastModifiedTime) < to.getTime());
    }
    for (const [original, edited] of edits) assert.notEqual(edited.text, original.text);
    for (const [, deleted] of deletions) assert.equal(deleted.text, undefined);
    const sorted = [...org.posts].sort((a, b) => a.lastModifiedTime.localeCompare(b.lastModifiedTime));
    assert.deepEqual(
      org.posts.map((p) => p.lastModifiedTime),
      sorted.map((p) => p.lastModifiedTime),
      'posts ordered by version time',
    );
  });
});

describe('fileContentStream', () => {
  it('yields the same bytes for the same id and size, different bytes for another id, and exact ranges', async () => {
    const size = 300_001;
    const whole = await digest(fileContentStream('4000000010', size));
    assert.equal(whole.bytes, size);
    assert.deepEqual(await digest(fileContentStream('4000000010', size)), whole);
    assert.notEqual((await digest(fileContentStream('4000000017', size))).hex, whole.hex);

    const hash = createHash('sha256');
    let bytes = 0;
    for (const [start, end] of [
      [0, 65_535],
      [65_536, 100_000],
      [100_001, size - 1],
    ]) {
      for await (const chunk of fileContentStream('4000000010', size, start, end) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
    }
    assert.equal(bytes, size);
    assert.equal(hash.digest('hex'), whole.hex);
  });
});

describe('demoOrganisation', () => {
  const now = new Date('2025-06-10T12:00:00.000Z');
  const demo = demoOrganisation(now);

  it('is a small organisation that says it is demo data', () => {
    assert.equal(DEMO_ORGANISATION_LABEL, 'DEMO DATA');
    assert.equal(demo.members.length, 6);
    assert.equal(demo.guests.length, 1);
    assert.deepEqual(
      new Set(demo.chats.map((c) => c.Type)),
      new Set(['Direct', 'Group', 'Team', 'Personal', 'Everyone']),
    );
    assert.equal(new Set(demo.posts.map((p) => p.id)).size, 40);
    for (const m of demo.members) assert.match(m.email!, /@demo\.example$/);
    assert.ok(demo.members.every((m) => /demo|no-mailbox/i.test(m.lastName!)));
    assert.ok(
      demo.members.some((m) => /no-mailbox/.test(m.email!)),
      'one member without a mailbox, for the catch-all path',
    );
    for (const c of demo.chats.filter((c) => c.name)) assert.ok(c.name!.includes(DEMO_ORGANISATION_LABEL), c.name);
    assert.ok(demo.tasks.length >= 2 && demo.notes.length === 2 && demo.events.length === 2 && demo.files.length >= 2);
    for (const p of demo.posts)
      assert.ok(
        p.lastModifiedTime < now.toISOString() &&
          p.creationTime >= new Date(now.getTime() - 2 * 86_400_000).toISOString(),
      );
  });
});
