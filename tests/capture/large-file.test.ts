import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type {
  ExportChat,
  ExportFile,
  ExportOrganisation,
  ExportPerson,
  ExportPost,
} from '../../shared/ringcentral/export-records';
import { MEDIA_PLACEHOLDER, fileContentPath, fileContentStream } from '../../dev/demo-org';
import { FileCapture } from '../../shared/capture/file-capture';
import { CONTAINERS } from '../../shared/store/names';
import { bodyOf, header, itemKeyOfMessage, startPipeline, FUNCTION_KEY, type CapturePipeline } from './helpers';

// A file over 50 MB, cut off mid-way by the double, resumed with Range; and a file whose content is gone.
const start = new Date(Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000);
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
const v = (iso: string) => new Date(iso).toISOString();

const LARGE_SIZE = 52 * 1024 * 1024 + 12_345;
const CUT_AFTER = 20_000_000;
const person = (id: string, first: string, email: string): ExportPerson => ({
  id,
  firstName: first,
  lastName: 'Files',
  email,
  creationTime: at(0),
  lastModifiedTime: at(0),
});
const members = [person('m1', 'Alice', 'alice@files.example'), person('m2', 'Bob', 'bob@files.example')];
const chats: ExportChat[] = [
  {
    id: 'c-team',
    Type: 'Team',
    name: 'Files desk',
    memberIds: ['m1', 'm2'],
    guestIds: [],
    creationTime: at(0),
    lastModifiedTime: at(0),
    accountId: 'acc-files',
  },
];
const fileRecord = (id: string, name: string, size: number, contentId: string, minute: number): ExportFile => ({
  id,
  type: 'File',
  name,
  size,
  creationTime: at(minute),
  lastModifiedTime: at(minute),
  creator: { id: 'm1' },
  chatIds: ['c-team'],
  contentUri: MEDIA_PLACEHOLDER + fileContentPath(contentId),
});
const large = fileRecord('f-large', 'recording.mp4', LARGE_SIZE, 'f-large', 60);
// Its contentUri points at content the double does not have: RingCentral answers 404.
const gone = fileRecord('f-gone', 'lost-report.pdf', 4096, 'no-such-content', 90);
const posts: ExportPost[] = [
  {
    id: 'p-large',
    chatId: 'c-team',
    creator: { id: 'm1' },
    creationTime: at(61),
    lastModifiedTime: at(61),
    text: 'The full recording',
    attachments: [{ id: 'f-large', type: 'File' }],
  },
  {
    id: 'p-gone',
    chatId: 'c-team',
    creator: { id: 'm2' },
    creationTime: at(91),
    lastModifiedTime: at(91),
    text: 'The report',
    attachments: [{ id: 'f-gone', type: 'File' }],
  },
];
const org: ExportOrganisation = {
  accountId: 'acc-files',
  chats,
  members,
  guests: [],
  posts,
  events: [],
  tasks: [],
  notes: [],
  files: [large, gone],
};

let p: CapturePipeline;
const fileRequests: Array<{ url: string; range?: string }> = [];
const memory = { baselineRss: 0, peakRss: 0, azuritePeakKb: 0, hostHwmKb: 0 };

async function sha256Of(stream: Readable | NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function kbOf(status: string, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
}

/** Azurite runs as a child process of this one; its high-water mark tells how much it held. */
function azuritePeakKb(): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('azurite'))
        return kbOf(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
    } catch {
      // The process ended while we looked.
    }
  }
  return 0;
}

before(async () => {
  p = await startPipeline({
    org,
    settings: { CAPTURE_START: start.toISOString(), MAX_WINDOW_HOURS: '24', MAX_MESSAGE_SIZE_MB: '35' },
  });
  // The host runs in this process: record the Range header of every file download it makes.
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.includes('/file/'))
      fileRequests.push({ url, range: (init?.headers as Record<string, string> | undefined)?.Range });
    return realFetch(input, init);
  }) as typeof fetch;
  p.env.ringCentral.faults.truncateNextDownload(CUT_AFTER, fileContentPath('f-large'));

  global.gc?.();
  memory.baselineRss = process.memoryUsage().rss;
  memory.peakRss = memory.baselineRss;
  const sampler = setInterval(() => {
    memory.peakRss = Math.max(memory.peakRss, process.memoryUsage().rss);
  }, 20);
  try {
    await p.cycle(170_000);
  } finally {
    clearInterval(sampler);
    globalThis.fetch = realFetch;
  }
  memory.azuritePeakKb = azuritePeakKb();
  memory.hostHwmKb = kbOf(readFileSync('/proc/self/status', 'utf8'), 'VmHWM');
});

after(async () => {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  console.log(
    `# large file ${mb(LARGE_SIZE)}: test+host process RSS baseline ${mb(memory.baselineRss)}, peak ${mb(memory.peakRss)} (+${mb(memory.peakRss - memory.baselineRss)}), VmHWM ${mb(memory.hostHwmKb * 1024)}; Azurite VmHWM ${mb(memory.azuritePeakKb * 1024)}; file requests ${JSON.stringify(fileRequests.map((r) => `${r.url.split('/file/')[1]} ${r.range ?? 'full'}`))}; media bytes served ${p?.env.ringCentral.stats.bytesServed}`,
  );
  await p?.stop();
});

test('a cut download of a file over 50 MB resumes with Range, and the stored bytes hash like the source', async () => {
  const largeRequests = fileRequests.filter((r) => r.url.includes(fileContentPath('f-large')));
  assert.ok(largeRequests.length >= 2, 'the cut download was followed by another request');
  const resumed = largeRequests.find((r) => r.range);
  assert.ok(resumed, 'a download resumed with Range');
  const offset = Number(/^bytes=(\d+)-$/.exec(resumed.range!)?.[1]);
  assert.ok(offset > 0 && offset <= CUT_AFTER, `resumed at ${offset}, inside what was already received`);
  // One cut download and one resumed one: the file item and the post carrying it share them.
  assert.equal(largeRequests.length, 2, JSON.stringify(largeRequests));
  assert.ok(
    p.env.ringCentral.stats.bytesServed < LARGE_SIZE + CUT_AFTER,
    'no byte before the resume point was downloaded twice, beyond the cut-off tail',
  );

  const blob = p.archiver.storage
    .container(CONTAINERS.files)
    .getBlockBlobClient(FileCapture.blobName('f-large', v(large.lastModifiedTime)));
  const props = await blob.getProperties();
  assert.equal(props.contentLength, LARGE_SIZE);
  const stored = await sha256Of((await blob.download()).readableStreamBody!);
  const source = await sha256Of(fileContentStream('f-large', LARGE_SIZE));
  assert.equal(stored, source);
  assert.equal(props.metadata?.sha256, source);
});

test('a file over MAX_MESSAGE_SIZE_MB stays in Blob storage; the message carries a notice with name, size, SHA-256 and location', async () => {
  const source = await sha256Of(fileContentStream('f-large', LARGE_SIZE));
  for (const mailbox of ['alice@files.example', 'bob@files.example']) {
    const messages = p.env.graph.messagesIn(mailbox, 'Inbox/RingCentral');
    for (const key of [`post:p-large:${v(at(61))}`, `file:f-large:${v(at(60))}`]) {
      const m = messages.find((x) => itemKeyOfMessage(x) === key);
      assert.ok(m, `${key} in ${mailbox}`);
      assert.equal(m.attachments.length, 0);
      const body = bodyOf(m);
      assert.match(body, /File &quot;recording\.mp4&quot; is not attached/);
      assert.match(body, /maximum message size \(35 MB/);
      assert.ok(body.includes(`(${LARGE_SIZE} bytes)`), 'size');
      assert.ok(body.includes(`SHA-256: ${source}`), 'sha256');
      assert.ok(body.includes(`Archived copy: files/${FileCapture.blobName('f-large', v(at(60)))}`), 'location');
    }
  }
});

test('a file whose content is gone (404) gives a notice in the message and an error in status', async () => {
  const m = p.env.graph
    .messagesIn('bob@files.example', 'Inbox/RingCentral')
    .find((x) => itemKeyOfMessage(x) === `post:p-gone:${v(at(91))}`);
  assert.ok(m);
  assert.equal(header(m, 'X-RingCentral-Kind'), 'post');
  assert.match(
    bodyOf(m),
    /File &quot;lost-report\.pdf&quot; is not attached: content is gone from RingCentral \(HTTP 404\)/,
  );
  assert.equal(m.attachments.length, 0);
  const res = await fetch(`${p.host.url}/api/status`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  const status = (await res.json()) as {
    totals: { failed: number; delivered: number };
    recentErrors: Array<{ reason: string; itemKey?: string }>;
  };
  assert.ok(
    status.recentErrors.some((e) => /file f-gone \(lost-report\.pdf\) not captured: content is gone/.test(e.reason)),
    'the 404 is reported',
  );
  assert.equal(status.totals.failed, 0);
  // Two posts and two file items, each in both mailboxes.
  assert.equal(status.totals.delivered, 8);
});
