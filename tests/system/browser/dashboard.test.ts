import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { runPipeline, repoRoot, FUNCTION_KEY, HOSTILE_ID, type Pipeline } from '../../operations/fixture';

// The dashboard in real headless Chromium (Debian's package), over state from a real pipeline run.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let p: Pipeline;
let browser: BrowserContext;
let profile: string;

before(async () => {
  p = await runPipeline();
  profile = mkdtempSync(path.join(os.tmpdir(), 'dashboard-profile-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 1200 },
  });
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await p?.stop();
});

test('the dashboard shows the stages, the per-day chart, lag, failing mailboxes, errors and log links, and refreshes', async () => {
  const status = (await (await fetch(`${p.host.url}/api/status?code=${FUNCTION_KEY}`)).json()) as any;
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  const res = await page.goto(`${p.host.url}/api/dashboard?code=${FUNCTION_KEY}&refresh=2`);
  assert.equal(res?.status(), 200);
  assert.match(res!.headers()['content-security-policy'] ?? '', /script-src 'nonce-/);

  await page.waitForFunction(() => document.body.getAttribute('data-refreshes') === '1');
  assert.equal(await page.textContent('[data-testid=health]'), 'ok');
  const stageNumber = async (id: string) =>
    Number(((await page.textContent(`[data-testid=stage-${id}] .n`)) ?? '').replace(/,/g, ''));
  assert.equal(await stageNumber('unpack'), 13);
  assert.equal(await stageNumber('convert'), 13);
  assert.equal(await stageNumber('deliver'), 32);
  assert.equal(await stageNumber('export'), status.capture.windowsStored);
  assert.match(
    (await page.textContent('[data-testid=stage-deliver]')) ?? '',
    /into 3 mailboxes.*failed: 0.*pending: 0/,
  );
  assert.match(
    (await page.textContent('[data-testid=stage-convert]')) ?? '',
    /not delivered \(no mailbox \/ guest\): 12/,
  );

  // One captured and one delivered bar per day, with the status values.
  const bars = await page.$$eval('[data-testid=chart] rect[data-series]', (rects) =>
    rects.map((r) => [r.getAttribute('data-day'), r.getAttribute('data-series'), Number(r.getAttribute('data-value'))]),
  );
  const expected = status.byDay.flatMap((d: any) => [
    [d.day, 'captured', d.captured],
    [d.day, 'delivered', d.delivered],
  ]);
  assert.deepEqual(bars, expected);
  assert.ok(status.byDay.length >= 3);

  assert.match(
    (await page.textContent('[data-testid=lag]')) ?? '',
    new RegExp(
      `Captured through ${status.capture.capturedThrough.replace(/[.]/g, '\\.')}: lag \\d+\\.\\d h, \\d+\\.\\d% of the 90-day retention`,
    ),
  );
  assert.equal((await page.textContent('[data-testid=failing] tbody'))?.trim(), 'No failing mailbox');
  const queueRows = await page.$$eval('[data-testid=queues] tbody tr', (rows) =>
    rows.map((r) => (r as HTMLElement).innerText.split('\t')),
  );
  assert.deepEqual(queueRows, [
    ['poll-export', '0', '0'],
    ['unpack', '0', '0'],
    ['convert', '0', '0'],
    ['deliver', '0', '0'],
    ['reconcile-step', '0', '0'],
  ]);

  // Every capture source with its state (this run captures Team Messaging only), and every kind's counts.
  const sourceRows = await page.$$eval('[data-testid=sources] tbody tr', (rows) =>
    rows.map((r) => (r as HTMLElement).innerText.split('\t').slice(0, 2)),
  );
  assert.deepEqual(sourceRows, [
    ['teammessaging', 'on'],
    ['messages', 'off'],
    ['calls', 'off'],
  ]);
  const kindRows = await page.$$eval('[data-testid=kinds] tbody tr', (rows) =>
    rows.map((r) => (r as HTMLElement).innerText.split('\t')),
  );
  assert.deepEqual(
    kindRows,
    Object.keys(status.totals.byKind)
      .sort()
      .map((k) => {
        const v = status.totals.byKind[k];
        return [
          k,
          ...[v.captured, v.converted, v.delivered, v.failed, v.invalid].map((n: number) => n.toLocaleString('en-US')),
        ];
      }),
  );
  assert.ok(kindRows.some((r) => r[0] === 'post'));

  // Data is text, never markup: the malformed post id is shown literally and its onerror never ran.
  const errorsText = (await page.textContent('[data-testid=errors] tbody')) ?? '';
  assert.ok(errorsText.includes(HOSTILE_ID), errorsText);
  assert.match(errorsText, /malformed posts record/);
  assert.equal(await page.$$eval('[data-testid=errors] img', (imgs) => imgs.length), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);

  // The download links carry the key and the chosen dates, and serve the log.
  const csvHref = await page.getAttribute('[data-testid=csv]', 'href');
  assert.equal(csvHref, `log?format=csv&code=${FUNCTION_KEY}`);
  await page.fill('#from', status.byDay[1].day);
  await page.dispatchEvent('#from', 'change');
  assert.equal(
    await page.getAttribute('[data-testid=jsonl]', 'href'),
    `log?format=jsonl&from=${status.byDay[1].day}&code=${FUNCTION_KEY}`,
  );
  const csv = await page.evaluate(async (href) => {
    const r = await fetch(href!);
    return { status: r.status, text: await r.text() };
  }, csvHref);
  assert.equal(csv.status, 200);
  assert.equal(csv.text.split('\r\n').length - 2, 32 + 12, 'header + one line per ledger row');

  // It refreshes by itself, and shows a change of state.
  await p.archiver.errors.report({
    stage: 'deliver',
    mailbox: 'alice@ops.example',
    reason: 'fresh error for the refresh check',
  });
  await page.waitForFunction(
    () =>
      Number(document.body.getAttribute('data-refreshes')) >= 2 &&
      document.querySelector('[data-testid=errors] tbody')!.textContent!.includes('fresh error for the refresh check'),
    undefined,
    { timeout: 15_000 },
  );

  mkdirSync(path.join(repoRoot, 'test-output'), { recursive: true });
  const shot = path.join(repoRoot, 'test-output', 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000);
  assert.deepEqual(consoleErrors, []);
  await page.close();
});

test('without a key the page says so instead of showing stale numbers', async () => {
  const page = await browser.newPage();
  // The page itself needs the key too; with it, a refused status read shows the problem.
  assert.equal((await fetch(`${p.host.url}/api/dashboard`)).status, 401);
  await page.goto(`${p.host.url}/api/dashboard?code=${FUNCTION_KEY}`);
  await page.route('**/api/status', (route) => route.fulfill({ status: 401, body: '' }));
  await page.reload();
  await page.waitForSelector('[data-testid=problem]:not([hidden])');
  assert.match((await page.textContent('[data-testid=problem]')) ?? '', /function key was refused \(401\)/);
  await page.close();
});
