import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markupToHtml, markupToText } from '../../shared/archive/markup';

const names: Record<string, string> = { 'Person:42': 'Alice Archer', 'Task:7': 'Close the deal' };
const resolve = (type: string, id: string) => names[`${type}:${id}`];

test('mentions become names, in HTML and in text', () => {
  const input = 'Hi ![:Person](42), see ![:Task](7) and ![:Person](99)';
  assert.equal(markupToText(input, resolve), 'Hi @Alice Archer, see @Close the deal and @Person 99');
  const html = markupToHtml(input, resolve);
  assert.ok(html.includes('<strong class="mention">@Alice Archer</strong>'));
  assert.ok(html.includes('@Person 99'));
});

test('links and bare URLs become anchors; javascript: URLs do not', () => {
  const html = markupToHtml(
    'Read [the memo](https://intranet.example/memo?a=1&b=2) or https://example.com/x. Not [this](javascript:alert(1))',
    resolve,
  );
  assert.ok(html.includes('<a href="https://intranet.example/memo?a=1&amp;b=2">the memo</a>'));
  assert.ok(html.includes('<a href="https://example.com/x">https://example.com/x</a>.'));
  assert.ok(!/href="javascript/i.test(html));
});

test('input markup never survives: scripts, handlers and broken tags are escaped', () => {
  const html = markupToHtml('<script>alert(1)</script><img src=x onerror=alert(1)> <b>unclosed **bold**', resolve);
  assert.ok(!/<script|<img|<b>/i.test(html));
  assert.ok(html.includes('&lt;script&gt;'));
  assert.ok(html.includes('<strong>bold</strong>'));
});

test('quotes and line breaks are kept', () => {
  const html = markupToHtml('> quoted line\nanswer', resolve);
  assert.match(html, /^<blockquote[^>]*>quoted line<\/blockquote><br>answer$/);
});

test('NUL characters in input cannot forge placeholders', () => {
  const html = markupToHtml('a\u00000\u0000b https://x.example', resolve);
  assert.ok(!html.includes('\u0000'));
  assert.ok(html.includes('<a href="https://x.example">'));
});
