import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalEnvironment, type LocalEnvironment } from '../../../dev/local-environment';
import { demoOrganisation, demoVoiceOrganisation } from '../../../dev/demo-org';
import type { VoiceCall, VoiceMessage, VoiceOrganisation } from '../../../dev/doubles/ringcentral/voice-records';
import type { StoredMessage } from '../../../dev/doubles/graph/mailbox-state';
import type { ExportOrganisation } from '../../../shared/ringcentral/export-records';
import { createArchiver, type Archiver } from '../../../shared/composition';
import { loadConfig } from '../../../shared/config';
import { CaptureWindows } from '../../../shared/store/capture-windows';
import { TABLES } from '../../../shared/store/names';
import { PERMISSION_PROBE_MS } from '../../../shared/capture/window-planner';
import { formatDuration } from '../../../shared/archive/render-voice';
import { LEDGER_ROWS } from '../../support/ledger-rows';
import { ADMIN_KEY, VoiceHost, attachmentBytes, itemKeyOf, propertyOf, recordingBytes } from '../../support/voice-host';

// Voice and messaging end to end: the RingCentral double's message-store reports and call log →
// Azurite → the local Functions host (a child process, so it can be killed) → the Graph double.
const SOURCES = ['teammessaging', 'messages', 'calls'] as const;
const KIND_OF_TYPE: Record<string, string> = { SMS: 'sms', Pager: 'pager', Fax: 'fax', VoiceMail: 'voicemail' };
const CLASS_OF_KIND: Record<string, string> = {
  sms: 'IPM.Note.RingCentral.Sms',
  pager: 'IPM.Note.RingCentral.Pager',
  fax: 'IPM.Note.RingCentral.Fax',
  voicemail: 'IPM.Note.RingCentral.Voicemail',
  call: 'IPM.Note.RingCentral.Call',
};
const MESSAGE_CLASS = 'String 0x001A';
// RingCentral's Heavy group allows 10 requests a minute, and every report, call-log and recording
// request is Heavy: at that pace each run here would wait minutes for its budget. Both sides get more.
const RATE_LIMITS = { Light: 300, Medium: 300, Heavy: 300, Auth: 30 };
const RATE_SETTING = Object.entries(RATE_LIMITS)
  .map(([group, n]) => `${group}=${n}`)
  .join(',');

const iso = (t: string) => new Date(t).toISOString();
const messageKey = (m: VoiceMessage) => `${KIND_OF_TYPE[m.record.type]}:${m.record.id}:${iso(m.record.creationTime)}`;
const callKey = (c: VoiceCall) => `call:${c.record.id}:${iso(c.record.startTime)}`;
/** Exchange keeps message times to the second. */
const toSecond = (t: string) => Math.floor(Date.parse(t) / 1000) * 1000;
const digits = (s: string) => s.replace(/\D/g, '');

/** The demo's people, without their chats and posts: this suite is about voice and messaging. */
function voiceOnly(now: Date): { org: ExportOrganisation; voice: VoiceOrganisation; withoutMailbox: string[] } {
  const full = demoOrganisation(now);
  const org: ExportOrganisation = { ...full, chats: [], posts: [], events: [], tasks: [], notes: [], files: [] };
  return {
    org,
    voice: demoVoiceOrganisation(now, full),
    withoutMailbox: full.members.filter((m) => /no-mailbox/i.test(m.email ?? '')).map((m) => m.email!.toLowerCase()),
  };
}

/** Which mailbox should hold which item: a message in its store owner's, a call in every internal party's. */
function expectedDeliveries(voice: VoiceOrganisation, mailboxes: Set<string>): Map<string, Set<string>> {
  const emailOf = new Map(voice.extensions.map((e) => [String(e.id), e.contact?.email?.toLowerCase() ?? '']));
  const out = new Map<string, Set<string>>();
  const add = (extensionId: string | number | undefined, key: string) => {
    const email = extensionId === undefined ? undefined : emailOf.get(String(extensionId));
    if (!email || !mailboxes.has(email)) return;
    if (!out.has(email)) out.set(email, new Set());
    out.get(email)!.add(key);
  };
  for (const m of voice.messages) add(m.extensionId, messageKey(m));
  for (const c of voice.calls) {
    const r = c.record;
    for (const id of [r.extension?.id, r.from?.extensionId, r.to?.extensionId]) add(id, callKey(c));
    for (const leg of r.legs ?? []) for (const id of [leg.from?.extensionId, leg.to?.extensionId]) add(id, callKey(c));
  }
  return out;
}

function voiceMessages(env: LocalEnvironment, mailbox: string): StoredMessage[] {
  return env.graph.messagesIn(mailbox, 'Inbox/RingCentral');
}

function keysIn(env: LocalEnvironment, mailbox: string): string[] {
  return voiceMessages(env, mailbox).map(itemKeyOf);
}

function bodyOf(m: StoredMessage): string {
  return m.body?.content ?? '';
}

async function deliveryRows(archiver: Archiver) {
  const rows: Array<{ mailbox: string; itemKey: string; status: string; reason?: string }> = [];
  for await (const row of archiver.storage
    .table(TABLES.deliveries)
    .listEntities<{ mailbox: string; itemKey: string; status: string; reason?: string }>({
      queryOptions: { filter: LEDGER_ROWS },
    }))
    rows.push(row);
  return rows;
}

describe('voice and messaging over the demo organisation', () => {
  const now = new Date();
  const { org, voice, withoutMailbox } = voiceOnly(now);
  const mailboxes = new Set(org.members.map((m) => m.email!.toLowerCase()).filter((e) => !withoutMailbox.includes(e)));
  const expected = expectedDeliveries(voice, mailboxes);
  const emailOf = (extensionId: string) =>
    voice.extensions.find((e) => String(e.id) === extensionId)!.contact!.email!.toLowerCase();
  let env: LocalEnvironment;
  let archiver: Archiver;
  let host: VoiceHost;
  const timings: Record<string, number> = {};

  const snapshot = () => new Map([...mailboxes].map((m) => [m, keysIn(env, m).sort()]));
  const assertExactlyOnce = (what: string) => {
    for (const mailbox of mailboxes) {
      const keys = keysIn(env, mailbox);
      assert.equal(keys.length, new Set(keys).size, `${what}: duplicates in ${mailbox}: ${keys.join(', ')}`);
    }
  };

  before(async () => {
    const started = Date.now();
    env = await startLocalEnvironment({
      org,
      voice,
      withoutMailbox,
      azurite: { inMemory: true },
      ringCentral: { rateLimits: RATE_LIMITS },
      settings: {
        RINGCENTRAL_RATE_LIMITS: RATE_SETTING,
        CAPTURE_START: new Date(now.getTime() - 3 * 86_400_000).toISOString(),
        CAPTURE_LAG_MINUTES: '0',
        MAX_WINDOW_HOURS: '96',
      },
    });
    archiver = createArchiver(loadConfig(env.settings));
    // The first message-store report is created, but its answer is lost on the way back.
    env.ringCentral.faults.inject({ kind: '504-after-commit', match: /message-store-report\/?$/, count: 1 });
    host = new VoiceHost(env, archiver.storage, [...SOURCES]);
    await host.start();
    const cycle = Date.now();
    await host.tick();
    await host.drain();
    timings.firstRun = Date.now() - cycle;
    timings.setup = cycle - started;
  });

  after(async () => {
    console.log(`# voice e2e timings (ms): ${JSON.stringify(timings)}`);
    // The report whose create answer was lost is never polled: the double keeps it Accepted.
    console.log(
      `# message-store reports: ${env?.ringCentral.reports
        .all()
        .map((r) => r.status)
        .join(', ')}`,
    );
    await host?.stop();
    await env?.stop();
  });

  test('every item reaches exactly the expected mailboxes, once, though the first report create lost its answer', async () => {
    assert.ok(expected.size >= 5, 'the demo has voice items for several mailboxes');
    for (const mailbox of mailboxes) {
      const keys = keysIn(env, mailbox);
      assert.equal(keys.length, new Set(keys).size, `duplicates in ${mailbox}`);
      assert.deepEqual(new Set(keys), expected.get(mailbox) ?? new Set(), mailbox);
    }
    assert.equal(env.ringCentral.stats.reportsCreated, 2, 'the lost create was retried once');
    const reports = env.ringCentral.reports.all();
    assert.equal(reports.filter((r) => r.status === 'Completed').length, 1);
    const depths = await host.queueDepths();
    for (const [name, n] of Object.entries(depths)) assert.equal(n, 0, `${name} is empty`);
  });

  test('SMS and MMS: text, the external number, the time, the class, the id, and the image byte for byte', async () => {
    const smsMessages = voice.messages.filter((m) => m.record.type === 'SMS');
    for (const m of smsMessages) {
      const owner = emailOf(m.extensionId);
      if (!mailboxes.has(owner)) continue;
      // An SMS goes to its store owner's mailbox only.
      for (const mailbox of mailboxes)
        assert.equal(keysIn(env, mailbox).includes(messageKey(m)), mailbox === owner, `${messageKey(m)} in ${mailbox}`);
      const stored = voiceMessages(env, owner).find((s) => itemKeyOf(s) === messageKey(m))!;
      assert.equal(stored.isDraft, false);
      assert.equal(Date.parse(stored.sentDateTime), toSecond(m.record.creationTime));
      assert.equal(Date.parse(stored.receivedDateTime), toSecond(m.record.creationTime));
      assert.equal(propertyOf(stored, MESSAGE_CLASS), CLASS_OF_KIND.sms);
      const text = m.attachments.find((a) => a.info.type === 'Text')!.text!;
      assert.ok(bodyOf(stored).includes(text), `the SMS text is in the body: ${text}`);
      const external = (m.record.direction === 'Inbound' ? m.record.from : m.record.to?.[0])!.phoneNumber!;
      assert.ok(digits(`${stored.subject} ${bodyOf(stored)}`).includes(external), `${external} is shown`);
      const binaries = m.attachments.filter((a) => a.info.type !== 'Text');
      assert.equal(stored.attachments.length, binaries.length, `${messageKey(m)}: attachments`);
      for (const a of binaries) {
        const got = stored.attachments.find((s) => s.size === a.info.size);
        assert.ok(got, `MMS attachment ${a.info.fileName} attached`);
        assert.ok(got.bytes.equals(await attachmentBytes(a)), 'MMS image byte for byte');
        assert.equal(got.contentType, a.info.contentType);
      }
    }
    assert.ok(
      smsMessages.some((m) => m.attachments.some((a) => a.info.type === 'MmsAttachment')),
      'the demo has an MMS',
    );
  });

  test('pager, fax and voicemail: one copy per store, content, pages and audio byte for byte', async () => {
    let checked = 0;
    for (const m of voice.messages.filter((x) => x.record.type !== 'SMS')) {
      const owner = emailOf(m.extensionId);
      if (!mailboxes.has(owner)) continue;
      const kind = KIND_OF_TYPE[m.record.type]!;
      const found = voiceMessages(env, owner).filter((s) => itemKeyOf(s) === messageKey(m));
      assert.equal(found.length, 1, `${messageKey(m)} once in ${owner}`);
      const stored = found[0]!;
      assert.equal(stored.isDraft, false);
      assert.equal(Date.parse(stored.sentDateTime), toSecond(m.record.creationTime));
      assert.equal(propertyOf(stored, MESSAGE_CLASS), CLASS_OF_KIND[kind]);
      for (const a of m.attachments) {
        if (a.text !== undefined) {
          assert.ok(bodyOf(stored).includes(a.text), `${kind}: ${a.info.type} text in the body`);
          continue;
        }
        const got = stored.attachments.find((s) => s.size === a.info.size);
        assert.ok(got, `${kind}: ${a.info.type} attached`);
        assert.ok(got.bytes.equals(await attachmentBytes(a)), `${kind}: ${a.info.type} byte for byte`);
      }
      assert.equal(
        stored.attachments.length,
        m.attachments.filter((a) => a.text === undefined).length,
        `${kind}: no other attachments`,
      );
      if (kind === 'pager') {
        // Each party's store holds its own copy: Cleo's outbound one and Dev's inbound one.
        for (const mailbox of mailboxes) assert.equal(keysIn(env, mailbox).includes(messageKey(m)), mailbox === owner);
      }
      if (kind === 'fax') assert.match(stored.subject!, /Fax from/);
      if (kind === 'voicemail') assert.match(stored.subject!, /Voicemail from/);
      checked++;
    }
    assert.ok(checked >= 4, `${checked} pager, fax and voicemail items checked`);
  });

  test('calls: to every internal party, with direction, result and duration, and the recording byte for byte', async () => {
    let recorded = 0;
    for (const c of voice.calls) {
      const parties = [...expected].filter(([, keys]) => keys.has(callKey(c))).map(([mailbox]) => mailbox);
      for (const mailbox of mailboxes)
        assert.equal(
          keysIn(env, mailbox).filter((k) => k === callKey(c)).length,
          parties.includes(mailbox) ? 1 : 0,
          `${callKey(c)} in ${mailbox}`,
        );
      for (const mailbox of parties) {
        const stored = voiceMessages(env, mailbox).find((s) => itemKeyOf(s) === callKey(c))!;
        assert.equal(stored.isDraft, false);
        assert.equal(Date.parse(stored.sentDateTime), toSecond(c.record.startTime));
        assert.equal(Date.parse(stored.receivedDateTime), toSecond(c.record.startTime));
        assert.equal(propertyOf(stored, MESSAGE_CLASS), CLASS_OF_KIND.call);
        const body = bodyOf(stored);
        assert.ok(body.includes(c.record.direction), `direction in ${callKey(c)}`);
        assert.ok(body.includes(c.record.result!), `result in ${callKey(c)}`);
        assert.ok(body.includes(formatDuration(c.record.duration)), `duration in ${callKey(c)}`);
        if (c.recording) {
          assert.equal(stored.attachments.length, 1, `${callKey(c)}: the recording`);
          assert.equal(stored.attachments[0]!.contentType, c.recording.contentType);
          assert.ok(stored.attachments[0]!.bytes.equals(await recordingBytes(c.recording)), 'recording byte for byte');
          recorded++;
        } else assert.equal(stored.attachments.length, 0);
      }
    }
    assert.ok(recorded >= 2, `${recorded} recordings checked`);
    const internal = voice.calls.find((c) => c.record.from?.extensionNumber && c.record.to?.extensionNumber)!;
    const both = [...expected].filter(([, keys]) => keys.has(callKey(internal))).map(([m]) => m);
    assert.equal(both.length, 2, 'a call between two extensions goes to both mailboxes');
  });

  test('an extension without a mailbox: not-delivered rows naming the address, and nothing delivered for it', async () => {
    const rows = await deliveryRows(archiver);
    const unmapped = voice.messages.filter((m) => !mailboxes.has(emailOf(m.extensionId)));
    assert.ok(unmapped.length >= 2, 'Reception and Finn have messages');
    for (const m of unmapped) {
      const email = emailOf(m.extensionId);
      const mine = rows.filter((r) => r.itemKey === messageKey(m));
      assert.ok(mine.length >= 1, `${messageKey(m)} has a ledger row`);
      assert.ok(
        mine.every((r) => r.status === 'notDelivered'),
        `${messageKey(m)}: ${JSON.stringify(mine)}`,
      );
      assert.ok(
        mine.some((r) => (r.reason ?? '').toLowerCase().includes(email)),
        `the reason names ${email}: ${mine.map((r) => r.reason).join(' | ')}`,
      );
      for (const mailbox of mailboxes) assert.ok(!keysIn(env, mailbox).includes(messageKey(m)));
    }
    const receptionCalls = voice.calls.filter((c) => !mailboxes.has(emailOf(String(c.record.extension!.id))));
    for (const c of receptionCalls) {
      assert.ok(rows.some((r) => r.itemKey === callKey(c) && r.status === 'notDelivered'));
      for (const mailbox of mailboxes) assert.ok(!keysIn(env, mailbox).includes(callKey(c)));
    }
  });

  test('a backfill over the same range, with the host killed mid-run, still leaves one copy per item and mailbox', async () => {
    const t0 = Date.now();
    const before = snapshot();
    const creates = env.graph.stats.requests['messages.create'] ?? 0;
    const reports = env.ringCentral.stats.reportsCreated;
    const callLogReads = env.ringCentral.stats.byKind.callLog;
    const res = await fetch(`${host.process.url}/api/backfill`, {
      method: 'POST',
      headers: { 'x-functions-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: env.settings.CAPTURE_START,
        to: new Date(Date.now() - 60_000).toISOString(),
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    // Kill once the backfill has the report's archives and has read the call log again.
    await host.until(
      'the backfill downloads again',
      () =>
        env.ringCentral.stats.byKind.archiveDownload >= 2 * 2 && env.ringCentral.stats.byKind.callLog > callLogReads,
    );
    await host.killAndRestart();
    await host.drain();
    assert.ok(env.ringCentral.stats.reportsCreated > reports, 'the range was reported again');
    assert.deepEqual(snapshot(), before);
    assert.equal(env.graph.stats.requests['messages.create'] ?? 0, creates, 'no second create');
    assertExactlyOnce('after the backfill and the kill');
    timings.backfillWithKill = Date.now() - t0;
  });

  test('a host killed during the first delivery of new items still delivers each once', async () => {
    const t0 = Date.now();
    const ada = voice.extensions[0]!;
    const ben = voice.extensions[1]!;
    await host.waitForNewWindow();
    // After the last tick's target: a report window takes messages by creation time.
    const base = Date.now() - 2000;
    const extra: VoiceMessage[] = Array.from({ length: 12 }, (_, i) => ({
      extensionId: String(i % 2 ? ben.id : ada.id),
      record: {
        id: 9_300_000_000 + i,
        type: 'SMS',
        direction: 'Inbound',
        creationTime: new Date(base + i * 100).toISOString(),
        lastModifiedTime: new Date(base + i * 100).toISOString(),
        messageStatus: 'Received',
        from: { phoneNumber: '14155550123', name: 'Carla Customer' },
        to: [{ phoneNumber: '1650555010' + (i % 2), extensionId: String(i % 2 ? ben.id : ada.id) }],
      },
      attachments: [
        {
          info: { id: 9_400_000_000 + i, type: 'MmsAttachment', contentType: 'image/png', size: 200_000 + i },
        },
        {
          info: { id: 9_500_000_000 + i, type: 'Text', contentType: 'text/plain', size: 9 },
          text: `burst ${String(i).padStart(3, '0')}`,
        },
      ],
    }));
    voice.messages.push(...extra);
    env.ringCentral.setVoice(voice);
    const creates = env.graph.stats.requests['messages.create'] ?? 0;
    await host.tick();
    await host.until(
      'some of the new items delivered',
      () => (env.graph.stats.requests['messages.create'] ?? 0) >= creates + 3,
    );
    await host.killAndRestart();
    await host.drain();
    for (const m of extra) {
      const owner = emailOf(m.extensionId);
      expected.get(owner)!.add(messageKey(m));
      const found = voiceMessages(env, owner).filter((s) => itemKeyOf(s) === messageKey(m));
      assert.equal(found.length, 1, `${messageKey(m)} once`);
      assert.ok(found[0]!.attachments[0]!.bytes.equals(await attachmentBytes(m.attachments[0]!)));
    }
    for (const mailbox of mailboxes)
      assert.deepEqual(new Set(keysIn(env, mailbox)), expected.get(mailbox) ?? new Set());
    assertExactlyOnce('after a kill mid-delivery');
    assert.ok(host.process.kills >= 2);
    timings.killMidDelivery = Date.now() - t0;
  });

  test('ReadCallLog revoked: the calls source shows it, makes no retry loop, the others deliver; granted and probed, it resumes', async () => {
    const t0 = Date.now();
    const ada = voice.extensions[0]!;
    const ben = voice.extensions[1]!;
    await host.waitForNewWindow();
    env.ringCentral.revokePermission('ReadCallLog');
    const start = new Date(Date.now() - 40_000).toISOString();
    const created = new Date(Date.now() - 1000).toISOString();
    const sms: VoiceMessage = {
      extensionId: String(ada.id),
      record: {
        id: 9_600_000_001,
        type: 'SMS',
        direction: 'Inbound',
        creationTime: created,
        lastModifiedTime: created,
        messageStatus: 'Received',
        from: { phoneNumber: '14155550123' },
        to: [{ phoneNumber: '16505550101', extensionId: String(ada.id) }],
      },
      attachments: [
        { info: { id: 9_600_000_002, type: 'Text', contentType: 'text/plain', size: 11 }, text: 'while apart' },
      ],
    };
    const call: VoiceCall = {
      record: {
        id: 'PermCall001Ab',
        sessionId: '40000000999',
        startTime: start,
        duration: 30,
        direction: 'Inbound',
        type: 'Voice',
        action: 'Phone Call',
        result: 'Accepted',
        from: { phoneNumber: '12125550188' },
        to: { phoneNumber: '16505550102', extensionId: String(ben.id), name: ben.name },
        extension: { id: ben.id },
      },
    };
    voice.messages.push(sms);
    voice.calls.push(call);
    env.ringCentral.setVoice(voice);
    const calls = new CaptureWindows(archiver.storage, 'calls');

    await host.tick();
    await host.drain();
    assert.equal((await calls.checkpoint())?.missingPermission, 'ReadCallLog');
    assert.equal(
      keysIn(env, emailOf(String(ada.id))).filter((k) => k === messageKey(sms)).length,
      1,
      'messages still deliver',
    );
    assert.ok(!keysIn(env, emailOf(String(ben.id))).includes(callKey(call)), 'the call is not captured');
    const refusedReads = env.ringCentral.stats.byKind.callLog;
    const forbidden = env.ringCentral.stats.forbidden;
    for (let i = 0; i < 3; i++) {
      await host.tick({ newWindow: false });
      await host.drain();
    }
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(env.ringCentral.stats.byKind.callLog, refusedReads, 'no call-log request while blocked');
    assert.equal(env.ringCentral.stats.forbidden, forbidden, 'no further 403s');
    assert.equal((await calls.checkpoint())?.missingPermission, 'ReadCallLog');

    // Granted; an hour later the planner probes with the refused window and capture resumes.
    env.ringCentral.grantPermission('ReadCallLog');
    const planner = archiver.capture.of('calls')!.planner;
    const early = await planner.continueBacklog(new Date(Date.now() + PERMISSION_PROBE_MS - 60_000));
    assert.equal(early.missingPermission, 'ReadCallLog', 'not probed before the hour');
    await planner.continueBacklog(new Date(Date.now() + PERMISSION_PROBE_MS + 60_000));
    await host.drain();
    assert.ok(!(await calls.checkpoint())?.missingPermission, 'the permission is no longer shown missing');
    assert.equal(
      keysIn(env, emailOf(String(ben.id))).filter((k) => k === callKey(call)).length,
      1,
      'the call delivered once',
    );
    expected.get(emailOf(String(ada.id)))!.add(messageKey(sms));
    expected.get(emailOf(String(ben.id)))!.add(callKey(call));
    assertExactlyOnce('after the probe');
    timings.permission = Date.now() - t0;
  });

  test('a recording that arrives late: the call waits for it, then is delivered once with it', async () => {
    const t0 = Date.now();
    const cleo = voice.extensions[2]!;
    await host.waitForNewWindow();
    const ended = Date.now() - 20_000;
    const call: VoiceCall = {
      record: {
        id: 'LateRec001Ab',
        sessionId: '40000000777',
        startTime: new Date(ended - 45_000).toISOString(),
        duration: 45,
        direction: 'Outbound',
        type: 'Voice',
        action: 'VoIP Call',
        result: 'Call connected',
        from: { phoneNumber: '16505550103', extensionId: String(cleo.id), name: cleo.name },
        to: { phoneNumber: '14155550123', name: 'Carla Customer' },
        extension: { id: cleo.id },
      },
      recording: { id: '77700001', type: 'Automatic', contentType: 'audio/mpeg', size: 45 * 16_000, delayMs: 35_000 },
    };
    voice.calls.push(call);
    env.ringCentral.setVoice(voice);
    const mailbox = emailOf(String(cleo.id));
    const notFound = env.ringCentral.stats.byKind.recordingContent;
    await host.tick();
    await host.until('the recording was asked for', () => env.ringCentral.stats.byKind.recordingContent > notFound);
    // While the recording is still expected, the call is not delivered without it.
    const waitUntil = ended + 30_000;
    while (Date.now() < waitUntil) {
      assert.ok(!keysIn(env, mailbox).includes(callKey(call)), 'not delivered before its recording');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(!keysIn(env, mailbox).includes(callKey(call)), 'not delivered before its recording');
    await host.drain(180_000);
    const found = voiceMessages(env, mailbox).filter((s) => itemKeyOf(s) === callKey(call));
    assert.equal(found.length, 1, 'delivered once');
    assert.equal(found[0]!.attachments.length, 1, 'with the recording');
    assert.ok(found[0]!.attachments[0]!.bytes.equals(await recordingBytes(call.recording!)));
    assert.ok(!/not available|no recording/i.test(bodyOf(found[0]!)), 'no missing-recording notice');
    expected.get(mailbox)!.add(callKey(call));
    for (const m of mailboxes) assert.deepEqual(new Set(keysIn(env, m)), expected.get(m) ?? new Set());
    timings.lateRecording = Date.now() - t0;
  });
});

describe('FALLBACK_MAILBOX takes the items of extensions without a mailbox', () => {
  const now = new Date();
  const { org, voice, withoutMailbox } = voiceOnly(now);
  const fallback = org.members[0]!.email!.toLowerCase();
  let env: LocalEnvironment;
  let archiver: Archiver;
  let host: VoiceHost;

  before(async () => {
    env = await startLocalEnvironment({
      org,
      voice,
      withoutMailbox,
      azurite: { inMemory: true },
      ringCentral: { rateLimits: RATE_LIMITS },
      settings: {
        RINGCENTRAL_RATE_LIMITS: RATE_SETTING,
        CAPTURE_SOURCES: 'messages,calls',
        CAPTURE_START: new Date(now.getTime() - 3 * 86_400_000).toISOString(),
        CAPTURE_LAG_MINUTES: '0',
        MAX_WINDOW_HOURS: '96',
        FALLBACK_MAILBOX: fallback,
      },
    });
    archiver = createArchiver(loadConfig(env.settings));
    host = new VoiceHost(env, archiver.storage, ['messages', 'calls']);
    await host.start();
    await host.tick();
    await host.drain();
  });

  after(async () => {
    await host?.stop();
    await env?.stop();
  });

  test('messages and calls of Reception and Finn are in the fallback mailbox, once each', () => {
    const emails = new Map(voice.extensions.map((e) => [String(e.id), e.contact!.email!.toLowerCase()]));
    const unmapped = new Set(
      [...emails]
        .filter(
          ([, e]) =>
            e !== fallback && (withoutMailbox.includes(e) || !org.members.some((m) => m.email!.toLowerCase() === e)),
        )
        .map(([id]) => id),
    );
    assert.ok(unmapped.size >= 2);
    const keys = keysIn(env, fallback);
    assert.equal(keys.length, new Set(keys).size, 'no duplicates in the fallback mailbox');
    const items = [
      ...voice.messages.filter((m) => unmapped.has(m.extensionId)).map(messageKey),
      ...voice.calls.filter((c) => unmapped.has(String(c.record.extension!.id))).map(callKey),
    ];
    assert.ok(items.length >= 4);
    for (const key of items) assert.equal(keys.filter((k) => k === key).length, 1, `${key} in ${fallback}`);
  });
});
