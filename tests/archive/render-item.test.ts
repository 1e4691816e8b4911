import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderItem } from '../../shared/archive/render-item';
import type { Participant } from '../../shared/archive/people-directory';
import type { ExportChat } from '../../shared/ringcentral/export-records';

const alice: Participant = {
  id: '1',
  guest: false,
  person: { id: '1', firstName: 'Alice', lastName: 'Archer', email: 'alice@contoso.example' },
};
const bob: Participant = {
  id: '2',
  guest: false,
  person: { id: '2', firstName: 'Bob', lastName: 'Baker', email: 'bob@contoso.example' },
};
const team: ExportChat = {
  id: 'c1',
  creationTime: '2026-01-01T00:00:00Z',
  lastModifiedTime: '2026-01-01T00:00:00Z',
  Type: 'Team',
  name: 'Deals desk',
};
const names: Record<string, string> = { '1': 'Alice Archer', '2': 'Bob Baker' };
const base = {
  chat: team,
  creator: alice,
  members: [alice, bob],
  guests: [],
  personName: (id: string) => names[id] ?? id,
};

test('a task shows subject, status, assignees with their status, due date and description', () => {
  const m = renderItem({
    ...base,
    kind: 'task',
    version: '2026-11-20T10:00:00.000Z',
    record: {
      id: 't1',
      type: 'Task',
      creationTime: '2026-11-20T10:00:00Z',
      lastModifiedTime: '2026-11-20T10:00:00Z',
      chatIds: ['c1'],
      creator: { id: '1' },
      subject: 'Sign NDA',
      status: 'InProgress',
      assignees: [{ id: '2', status: 'Pending' }],
      dueDate: '2026-11-30T17:00:00Z',
      description: 'Before **Friday**',
    },
  });
  assert.equal(m.subject, '[RingCentral] Deals desk — Task — Sign NDA');
  for (const s of [
    'Task: Sign NDA',
    'Status: InProgress',
    'Assignees: Bob Baker (Pending)',
    'Due: 2026-11-30T17:00:00Z',
    'Before **Friday**',
  ])
    assert.ok(m.text.includes(s), s);
  assert.ok(m.html.includes('<strong>Friday</strong>'));
  assert.equal(m.headers['X-RingCentral-Kind'], 'task');
});

test('a note shows its title and body, with the editor HTML reduced to safe text', () => {
  const m = renderItem({
    ...base,
    kind: 'note',
    version: '2026-11-20T10:00:00.000Z',
    record: {
      id: 'n1',
      type: 'Note',
      creationTime: '2026-11-20T10:00:00Z',
      lastModifiedTime: '2026-11-20T10:00:00Z',
      chatIds: ['c1'],
      title: 'Minutes',
      status: 'Active',
      body: '<p>Agreed <b>price</b></p><script>alert(1)</script><img src=x onerror=alert(1)>',
    },
  });
  assert.ok(m.text.includes('Note: Minutes'));
  assert.ok(m.text.includes('Agreed price'));
  assert.ok(!/<script|onerror|<img/i.test(m.html));
});

test('an event shows subject, start, end, location and recurrence', () => {
  const m = renderItem({
    ...base,
    kind: 'event',
    version: '2026-11-20T10:00:00.000Z',
    record: {
      id: 'e1',
      type: 'Event',
      creationTime: '2026-11-20T10:00:00Z',
      lastModifiedTime: '2026-11-20T10:00:00Z',
      chatIds: ['c1'],
      subject: 'Board call',
      startTime: '2026-12-01T09:00:00Z',
      endTime: '2026-12-01T10:00:00Z',
      location: 'Room 4',
      recurrence: { schedule: 'Weekly', endingCondition: 'Count', endingAfter: 4 },
    },
  });
  for (const s of [
    'Event: Board call',
    'Starts: 2026-12-01T09:00:00Z',
    'Ends: 2026-12-01T10:00:00Z',
    'Location: Room 4',
    'Recurrence: Weekly, ending Count, after 4 occurrences',
  ])
    assert.ok(m.text.includes(s), s);
});

test('an unknown record type is archived whole, escaped', () => {
  const m = renderItem({
    ...base,
    kind: 'record',
    folder: 'polls',
    version: '2026-11-20T10:00:00.000Z',
    record: { id: 'x1', question: '<b>Lunch?</b>', options: ['yes', 'no'] },
  });
  assert.ok(m.text.includes('"question": "<b>Lunch?</b>"'));
  assert.ok(m.html.includes('&lt;b&gt;Lunch?&lt;/b&gt;'));
  assert.equal(m.source.folder, 'polls');
});

test('files too large for the mailbox become a notice with name, size, SHA-256 and location', () => {
  const m = renderItem({
    ...base,
    kind: 'file',
    version: '2026-11-20T10:00:00.000Z',
    record: {
      id: 'f1',
      type: 'File',
      creationTime: '2026-11-20T10:00:00Z',
      lastModifiedTime: '2026-11-20T10:00:00Z',
      chatIds: ['c1'],
      name: 'big.zip',
      size: 200 * 1024 * 1024,
    },
    notices: [
      {
        fileId: 'f1',
        name: 'big.zip',
        size: 200 * 1024 * 1024,
        sha256: 'ab'.repeat(32),
        location: 'files/f1/v1',
        reason: 'larger than the mailbox limit of 35 MB',
      },
    ],
  });
  assert.ok(m.text.includes('File "big.zip" is not attached: larger than the mailbox limit of 35 MB.'));
  assert.ok(m.text.includes(`SHA-256: ${'ab'.repeat(32)}`));
  assert.ok(m.text.includes('Archived copy: files/f1/v1'));
  assert.equal(m.notices.length, 1);
});

test('a thread reply quotes its parent', () => {
  const m = renderItem({
    ...base,
    kind: 'post',
    version: '2026-11-20T10:00:00.000Z',
    record: {
      id: 'p2',
      chatId: 'c1',
      creationTime: '2026-11-20T10:00:00Z',
      lastModifiedTime: '2026-11-20T10:00:00Z',
      creator: { id: '1' },
      text: 'Agreed',
    },
    parent: { author: 'Bob Baker', text: 'Shall we <sign>?' },
  });
  assert.ok(m.text.includes('In reply to Bob Baker:\n> Shall we <sign>?'));
  assert.ok(m.html.includes('Shall we &lt;sign&gt;?'));
});
