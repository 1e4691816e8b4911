import fc from 'fast-check';
import type { ExportChat, ExportPerson } from '../../shared/ringcentral/export-records';
import type { Participant } from '../../shared/archive/people-directory';

// Hostile strings: payloads aimed at headers and HTML, control characters, unicode beyond the BMP,
// bidi overrides, huge and empty values.
export const PAYLOADS = [
  '<script>alert(1)</script>', '<SCRIPT SRC=//x.invalid/x.js></SCRIPT>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>',
  "' onmouseover='alert(1)", '<a href="javascript:alert(1)">x</a>', '[click](javascript:alert(1))', '[ok](https://example.com/"onclick="x)',
  'https://example.com/?q=<script>', '**<b onclick=x>bold</b>**', '_<i onfocus=x>_', '> <iframe src=javascript:x>', '![:Person](1" onload="x)',
  '\r\nBcc: victim@example.com', '\nX-Injected: yes', 'Subject: forged\r\n\r\nbody', '=?utf-8?B?PHNjcmlwdD4=?=', '\u0000\u0001\u001b[31m\u007f',
  '\u2028\u2029\u202e\u200b\ufeff', '𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧 ﷽', '', ' ', '\t', '\r', '\n\n\n', '\\', '%0d%0aX-Injected:%20yes',
];

const controls = fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 20 });
const huge = fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 2_000, max: 25_000 })).map(([s, n]) => s.repeat(n));

export const hostileText = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.constantFrom(...PAYLOADS), weight: 4 },
  { arbitrary: controls, weight: 2 },
  { arbitrary: fc.array(fc.oneof(fc.constantFrom(...PAYLOADS), fc.string({ unit: 'binary', maxLength: 10 })), { maxLength: 6 }).map((a) => a.join('')), weight: 3 },
  { arbitrary: huge, weight: 1 },
);

const idText = fc.oneof(fc.stringMatching(/^[0-9]{1,12}$/), fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), fc.constantFrom(...PAYLOADS.filter((p) => p.length > 0)));

/** Times that Date.parse accepts, from the ordinary to the odd: date-only, offsets, far past and future, leap seconds that roll over. */
export const oddTime = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('1990-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('1970-01-01T00:00:00Z', '2024-02-29T23:59:59.999Z', '2024-06-01', '2024-06-01T12:00:00+14:00', '2024-06-01T12:00:00-12:00',
    '0001-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '2024-01-01T24:00:00Z', '2024-06-01T12:00:00.123456789Z'),
);

export const person = (kind: 'member' | 'guest') =>
  fc.record({
    id: idText,
    firstName: fc.option(hostileText, { nil: undefined }),
    lastName: fc.option(hostileText, { nil: undefined }),
    email: fc.option(fc.oneof(fc.emailAddress(), hostileText), { nil: undefined }),
  }, { requiredKeys: ['id'] }).map((p): Participant => ({ id: p.id, guest: kind === 'guest', person: p as ExportPerson }));

export const chat = fc.record({
  id: idText,
  Type: fc.constantFrom<ExportChat['Type']>('Direct', 'Group', 'Team', 'Personal', 'Everyone'),
  name: fc.option(hostileText, { nil: undefined }),
  accountId: fc.option(idText, { nil: undefined }),
}, { requiredKeys: ['id', 'Type'] }).map((c) => c as ExportChat);

export const context = fc.record({
  chat: fc.option(chat, { nil: undefined }),
  creator: person('member'),
  members: fc.array(person('member'), { maxLength: 5 }),
  guests: fc.array(person('guest'), { maxLength: 2 }),
});

export const post = fc.record({
  id: idText,
  creationTime: oddTime,
  lastModifiedTime: oddTime,
  creator: fc.record({ id: idText }),
  chatId: idText,
  text: fc.option(hostileText, { nil: undefined }),
  deleted: fc.option(fc.boolean(), { nil: undefined }),
  mentions: fc.option(fc.array(fc.record({ id: idText, type: fc.constantFrom('Person', 'Team', 'Contact'), name: fc.option(hostileText, { nil: undefined }) })), { nil: undefined }),
}, { requiredKeys: ['id', 'creationTime', 'lastModifiedTime', 'creator', 'chatId'] });

/** Records of the other item kinds: only id and times are required, every other field may be anything plausible or missing. */
export const chatItem = fc.record({
  id: idText,
  creationTime: oddTime,
  lastModifiedTime: oddTime,
  creator: fc.option(fc.record({ id: idText }), { nil: undefined }),
  chatIds: fc.array(idText, { maxLength: 3 }),
  subject: fc.option(hostileText, { nil: undefined }),
  title: fc.option(hostileText, { nil: undefined }),
  body: fc.option(hostileText, { nil: undefined }),
  description: fc.option(hostileText, { nil: undefined }),
  status: fc.option(hostileText, { nil: undefined }),
  location: fc.option(hostileText, { nil: undefined }),
  startTime: fc.option(oddTime, { nil: undefined }),
  endTime: fc.option(oddTime, { nil: undefined }),
  dueDate: fc.option(oddTime, { nil: undefined }),
  name: fc.option(hostileText, { nil: undefined }),
  size: fc.option(fc.nat(), { nil: undefined }),
  assignees: fc.option(fc.array(fc.record({ id: idText, status: fc.option(hostileText, { nil: undefined }) }), { maxLength: 3 }), { nil: undefined }),
  recurrence: fc.option(fc.record({ schedule: hostileText, endingCondition: fc.option(hostileText, { nil: undefined }), endingAfter: fc.option(fc.nat(), { nil: undefined }) }), { nil: undefined }),
  deleted: fc.option(fc.boolean(), { nil: undefined }),
  extra: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), hostileText, { maxKeys: 3 }), { nil: undefined }),
}, { requiredKeys: ['id', 'creationTime', 'lastModifiedTime', 'chatIds'] });
