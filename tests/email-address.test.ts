import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPlausibleEmail } from '../shared/email-address';
import { seededRandom } from '../dev/seeded-random';

// The pattern this check replaced (shared/archive/people-directory.ts before issue 16). It is kept
// here only as the oracle for short inputs, where its quadratic backtracking does not matter.
const FORMER = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

test('accepts the addresses the archive, mapping and replay paths rely on', () => {
  for (const ok of [
    'alice@contoso.com',
    'Bob.Smith+rc@sub.contoso.co.uk',
    "o'brien@contoso.com",
    'a@b.c',
    'rc-123@unknown.invalid',
    'x@.b.c',
    'x@a..b',
  ]) {
    assert.equal(isPlausibleEmail(ok), true, ok);
  }
});

test('rejects what is not one plain address', () => {
  for (const bad of [
    undefined,
    '',
    'alice',
    '@contoso.com',
    'alice@',
    'alice@contoso',
    'alice@.com',
    'alice@contoso.',
    'a@b@c.d',
    'a b@c.d',
    'a@c.d ',
    '<a@c.d>',
    'a@c.d, b@c.d',
    'a@c.d;b@c.d',
    '"a"@c.d',
    'a@[1.2.3.4]',
    'a\r\n@c.d',
    'not an address',
  ]) {
    assert.equal(isPlausibleEmail(bad), false, JSON.stringify(bad));
  }
});

test('agrees with the former pattern on 20,000 short random strings', () => {
  const random = seededRandom(16);
  const alphabet = ['a', 'a', 'a', 'b', '.', '.', '.', '@', ' ', '<', ',', '"', '-', 'Z', '\n'];
  const part = () => {
    let s = '';
    for (let j = Math.floor(random() * 6); j > 0; j--) s += alphabet[Math.floor(random() * alphabet.length)];
    return s;
  };
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    // Half the strings are built around one '@', so the sample holds addresses, near misses and junk.
    const s = random() < 0.5 ? `${part()}@${part()}` : part() + part();
    assert.equal(isPlausibleEmail(s), FORMER.test(s), JSON.stringify(s));
    if (FORMER.test(s)) accepted++;
  }
  assert.ok(accepted > 50, `the sample holds accepted addresses too (${accepted})`);
});

test('hostile inputs of 40,000 and 400,000 characters are rejected in linear time', () => {
  // The former pattern needed over a second for the first of these at 40,000 characters and grows
  // with the square of the length (minutes at 400,000). A linear check takes milliseconds for both,
  // so the bound below is a thousand times what it needs and cannot flake, yet a quadratic check
  // cannot meet it at 400,000.
  const hostile = (n: number) => [
    `a@b${'.'.repeat(n)} `,
    `a@${'b.'.repeat(n / 2)}@`,
    `${'a'.repeat(n)} @b.c`,
    `a@${'b'.repeat(n)}`,
    '@'.repeat(n),
  ];
  for (const n of [40_000, 400_000]) {
    const started = process.hrtime.bigint();
    for (const input of hostile(n))
      assert.equal(isPlausibleEmail(input), false, `${input.slice(0, 12)}… (${input.length})`);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 2_000, `${n}-character hostile inputs took ${ms.toFixed(0)} ms`);
  }
  // A long but well-formed value is still an address: length limits belong to the callers.
  assert.equal(isPlausibleEmail(`${'a'.repeat(400_000)}@contoso.com`), true);
});
