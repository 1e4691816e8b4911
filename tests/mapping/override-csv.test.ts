import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOverridesCsv } from '../../shared/mapping/override-csv';

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p, 'utf8');
}

test('reads records split anywhere across chunks, including between CR and LF', async () => {
  const parsed = await parseOverridesCsv(
    chunks('email,mai', 'lbox,note\r', '\n"a@x.exa', 'mple",skip,"é\r', '\nü"\r', '\nb@x.example,c@x.example,'),
  );
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.overrides, [
    { email: 'a@x.example', mailbox: 'skip', note: 'é\nü' },
    { email: 'b@x.example', mailbox: 'c@x.example' },
  ]);
});

test('line numbers are the lines a record starts on, counting blank lines and CRLF inside quotes', async () => {
  const csv = 'email,mailbox,note\r\n\r\nbad,skip,"multi\r\nline"\r\n\r\n\r\nx@y,skip,\r\n';
  const parsed = await parseOverridesCsv(chunks(csv));
  assert.deepEqual(
    parsed.problems.map((p) => p.line),
    [3, 7],
  );
});

test('at most 100 problems are listed, all are counted', async () => {
  const csv = ['email,mailbox', ...Array.from({ length: 250 }, (_, i) => `bad${i},skip`)].join('\n');
  const parsed = await parseOverridesCsv(chunks(csv));
  assert.equal(parsed.problemCount, 250);
  assert.equal(parsed.problems.length, 100);
  assert.equal(parsed.problems[0]!.line, 2);
  assert.deepEqual(parsed.overrides, []);
});
