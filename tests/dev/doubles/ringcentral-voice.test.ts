import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import RingCentral from '@rc-ex/core';
import type CreateMessageStoreReportRequest from '@rc-ex/core/definitions/CreateMessageStoreReportRequest';
import type CallLogResponse from '@rc-ex/core/definitions/CallLogResponse';
import type GetExtensionListResponse from '@rc-ex/core/definitions/GetExtensionListResponse';
import type GetMessageInfoResponse from '@rc-ex/core/definitions/GetMessageInfoResponse';
import type MessageStoreReport from '@rc-ex/core/definitions/MessageStoreReport';
import type RestException from '@rc-ex/core/RestException';
import { demoOrganisation, demoVoiceOrganisation } from '../../../dev/demo-org';
import { unzipDataset } from '../../../dev/doubles/ringcentral/read-dataset';
import {
  startRingCentralDouble,
  type RingCentralDouble,
  type RingCentralDoubleOptions,
} from '../../../dev/doubles/ringcentral/server';
import {
  attachmentContentStream,
  recordingContentStream,
  type VoiceCall,
  type VoiceOrganisation,
} from '../../../dev/doubles/ringcentral/voice-records';

const credentials = { clientId: 'voice-client', clientSecret: 'voice-secret', jwt: 'header.voice-claims.signature' };
const NOW = new Date();
const org = demoOrganisation(NOW);
const voice = demoVoiceOrganisation(NOW, org);
const roomy = { Heavy: 1000, Medium: 1000, Light: 1000, Auth: 100 };
const HOUR = 3_600_000;

async function start(
  extra: Partial<RingCentralDoubleOptions> = {},
): Promise<{ double: RingCentralDouble; rc: RingCentral }> {
  const double = await startRingCentralDouble({
    org,
    voice,
    ...credentials,
    rateLimits: roomy,
    pollsUntilComplete: 1,
    ...extra,
  });
  const rc = new RingCentral({ server: double.url, ...credentials });
  await rc.authorize({ jwt: credentials.jwt });
  return { double, rc };
}

async function bytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function rejection(p: Promise<unknown>): Promise<RestException> {
  try {
    await p;
  } catch (err) {
    return err as RestException;
  }
  throw new Error('expected a rejection');
}

async function completedReport(rc: RingCentral, body: CreateMessageStoreReportRequest): Promise<MessageStoreReport> {
  const created = await rc.restapi().account().messageStoreReport().post(body);
  for (let i = 0; i < 10; i++) {
    const task = await rc.restapi().account().messageStoreReport(created.id!).get();
    if (task.status === 'Completed') return task;
  }
  throw new Error('report did not complete');
}

/** Downloads every archive of a completed report with `?access_token=` (as RingCentral's guide does). */
async function archives(rc: RingCentral, taskId: string): Promise<Array<Map<string, Buffer>>> {
  const list = await rc.restapi().account().messageStoreReport(taskId).archive().get();
  const out: Array<Map<string, Buffer>> = [];
  for (const record of list.records ?? []) {
    const res = await fetch(`${record.uri}?access_token=${rc.token!.access_token}`);
    assert.equal(res.status, 200, record.uri);
    const zip = Buffer.from(await res.arrayBuffer());
    assert.equal(zip.length, record.size, 'archive size as listed');
    out.push(await unzipDataset(zip));
  }
  return out;
}

describe('RingCentral double: voice and messaging through @rc-ex/core', () => {
  let double: RingCentralDouble;
  let rc: RingCentral;
  before(async () => ({ double, rc } = await start()));
  after(() => double.close());

  it('lists extensions page by page with contact emails (Medium group)', async () => {
    const first = await rc.restapi().account().extension().list({ perPage: 3 });
    assert.equal(first.paging?.totalElements, voice.extensions.length);
    assert.equal(first.records?.length, 3);
    const all = [...first.records!];
    let page: GetExtensionListResponse = first;
    while (page.navigation?.nextPage?.uri) {
      assert.ok(page.navigation.nextPage.uri.startsWith(double.url));
      page = (await rc.get<GetExtensionListResponse>(page.navigation.nextPage.uri)).data;
      all.push(...page.records!);
    }
    assert.deepEqual(
      all.map((e) => e.id),
      voice.extensions.map((e) => e.id).sort((a, b) => a - b),
    );
    for (const member of org.members)
      assert.equal(all.find((e) => e.id === Number(member.id))?.contact?.email, member.email);
    assert.ok(
      all.some((e) => e.type === 'Department' && !org.members.some((m) => m.email === e.contact?.email)),
      'an extension whose email is no member mailbox',
    );
    assert.equal(double.stats.byGroup.Medium >= 3, true);
  });

  it('pages the Detailed call log newest first with navigation.nextPage, with legs and recordings', async () => {
    const dateFrom = new Date(NOW.getTime() - 3 * 24 * HOUR).toISOString();
    const seen = [];
    let page: CallLogResponse = await rc.restapi().account().callLog().list({ view: 'Detailed', dateFrom, perPage: 4 });
    assert.equal(page.paging?.perPage, 4);
    assert.equal(page.paging?.totalElements, undefined, 'no totals: follow nextPage');
    seen.push(...page.records!);
    while (page.navigation?.nextPage?.uri) {
      page = (await rc.get<CallLogResponse>(page.navigation.nextPage.uri)).data;
      seen.push(...page.records!);
    }
    assert.equal(seen.length, voice.calls.length);
    const starts = seen.map((r) => r.startTime!);
    assert.deepEqual(starts, [...starts].sort().reverse(), 'newest first');
    for (const record of seen) {
      assert.ok(record.legs?.length, 'Detailed view has legs');
      const source = voice.calls.find((c) => c.record.id === record.id)!;
      if (source.recording) {
        assert.equal(record.recording?.id, source.recording.id);
        assert.equal(record.recording?.type, source.recording.type);
        assert.equal(
          record.recording?.contentUri,
          `${double.mediaUrl}/restapi/v1.0/account/${voice.accountId}/recording/${source.recording.id}/content`,
        );
      } else assert.equal(record.recording, undefined);
    }
    assert.ok(seen.some((r) => r.recording) && seen.some((r) => !r.recording && r.type === 'Voice'));
    const simple = await rc.restapi().account().callLog().list({ dateFrom, perPage: 1000 });
    assert.equal(simple.records?.length, voice.calls.length);
    assert.ok(
      simple.records!.every((r) => r.legs === undefined),
      'Simple view has no legs',
    );
  });

  it('windows the call log by startTime (both ends inclusive) and defaults dateFrom to 24 h before dateTo', async () => {
    const last24h = voice.calls.filter((c) => Date.parse(c.record.startTime) >= Date.now() - 24 * HOUR);
    const byDefault = await rc.restapi().account().callLog().list({ perPage: 1000 });
    assert.ok(last24h.length > 0 && last24h.length < voice.calls.length);
    assert.deepEqual(new Set(byDefault.records!.map((r) => r.id)), new Set(last24h.map((c) => c.record.id)));

    const sorted = [...voice.calls].sort((a, b) => a.record.startTime.localeCompare(b.record.startTime));
    const [lo, hi] = [sorted[1].record.startTime, sorted[3].record.startTime];
    const window = await rc.restapi().account().callLog().list({ dateFrom: lo, dateTo: hi, perPage: 1000 });
    assert.deepEqual(
      window.records!.map((r) => r.id).sort(),
      sorted
        .slice(1, 4)
        .map((c) => c.record.id)
        .sort(),
    );
    const bad = await rejection(rc.restapi().account().callLog().list({ perPage: 0 }));
    assert.equal(bad.response.status, 400);
  });

  it('serves recording content on the media host only, whole or by Range (206, 416), byte-exact', async () => {
    const call = voice.calls.find((c) => c.recording?.contentType === 'audio/mpeg')!;
    const recording = call.recording!;
    const expected = await bytes(recordingContentStream(recording));
    const whole = await rc
      .restapi()
      .account()
      .recording(recording.id)
      .content()
      .get(undefined, { baseURL: double.mediaUrl });
    assert.equal(Buffer.from(whole).length, recording.size);
    assert.ok(Buffer.from(whole).equals(expected), 'whole content byte-exact');

    const auth = { Authorization: `Bearer ${rc.token!.access_token}` };
    const uri = `${double.mediaUrl}/restapi/v1.0/account/~/recording/${recording.id}/content`;
    const part = await fetch(uri, { headers: { ...auth, Range: 'bytes=1000-1999' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${recording.size}`);
    assert.equal(part.headers.get('content-type'), 'audio/mpeg');
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(expected.subarray(1000, 2000)));
    const tail = await fetch(uri, { headers: { ...auth, Range: 'bytes=-10' } });
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(expected.subarray(recording.size - 10)));
    const beyond = await fetch(uri, { headers: { ...auth, Range: `bytes=${recording.size}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${recording.size}`);
    await beyond.body?.cancel();
    const onApiHost = await fetch(uri.replace(double.mediaUrl, double.url), { headers: auth });
    assert.equal(onApiHost.status, 404);
    await onApiHost.body?.cancel();
    const noToken = await fetch(uri);
    assert.equal(noToken.status, 401);
    await noToken.body?.cancel();
    const meta = await rc.restapi().account().recording(recording.id).get();
    assert.equal(meta.contentType, 'audio/mpeg');
    assert.equal(meta.duration, call.record.duration);
  });

  it('runs a message store report: Accepted -> InProgress -> Completed, archive/0 metadata and archive/1 attachments byte-exact', async () => {
    const dateFrom = new Date(NOW.getTime() - 3 * 24 * HOUR).toISOString();
    const created = await rc.restapi().account().messageStoreReport().post({ dateFrom, dateTo: NOW.toISOString() });
    assert.equal(created.status, 'Accepted');
    assert.equal(created.accountId, voice.accountId);
    assert.match(created.id!, new RegExp(`^${voice.accountId}-${voice.accountId}-[0-9a-f]{32}$`));
    const statuses: string[] = [];
    let task = created;
    while (task.status !== 'Completed' && statuses.length < 5) {
      task = await rc.restapi().account().messageStoreReport(created.id!).get();
      statuses.push(task.status!);
    }
    assert.deepEqual(statuses, ['InProgress', 'Completed']);
    assert.ok(task.finishTime);
    const list = await rc.restapi().account().messageStoreReport(task.id!).archive().get();
    assert.equal(list.records?.length, 2, 'metadata + one attachment archive');
    for (const r of list.records!) assert.ok(r.uri!.startsWith(`${double.mediaUrl}/`), 'archives on the media host');

    const [meta, content] = await archives(rc, task.id!);
    const byExtension = new Map<string, number>();
    for (const m of voice.messages) byExtension.set(m.extensionId, (byExtension.get(m.extensionId) ?? 0) + 1);
    assert.deepEqual(
      [...meta.keys()].sort(),
      [...byExtension.keys()].map((e) => `account/${voice.accountId}/extension/${e}/message-store.json`).sort(),
    );
    for (const [extensionId, count] of byExtension) {
      const json = JSON.parse(
        meta.get(`account/${voice.accountId}/extension/${extensionId}/message-store.json`)!.toString('utf8'),
      ) as { records: GetMessageInfoResponse[] };
      assert.equal(json.records.length, count);
      for (const r of json.records) {
        assert.equal(r.extensionId, extensionId);
        for (const a of r.attachments ?? [])
          assert.ok(
            a.uri!.startsWith(
              `${double.mediaUrl}/restapi/v1.0/account/${voice.accountId}/extension/${extensionId}/message-store/${r.id}/content/`,
            ),
          );
      }
    }
    // An attachment's own uri (the per-message content endpoint, Medium) serves the same bytes.
    const fax = voice.messages.find((m) => m.record.type === 'Fax')!;
    const faxJson = JSON.parse(
      meta.get(`account/${voice.accountId}/extension/${fax.extensionId}/message-store.json`)!.toString('utf8'),
    ) as { records: GetMessageInfoResponse[] };
    const faxUri = faxJson.records.find((r) => r.id === fax.record.id)!.attachments![0].uri!;
    const faxRes = await fetch(faxUri, {
      headers: { Authorization: `Bearer ${rc.token!.access_token}`, Range: 'bytes=0-99' },
    });
    assert.equal(faxRes.status, 206);
    assert.equal(faxRes.headers.get('x-rate-limit-group'), 'Medium');
    assert.ok(
      Buffer.from(await faxRes.arrayBuffer()).equals(
        (await bytes(attachmentContentStream(fax.attachments[0]))).subarray(0, 100),
      ),
    );
    const types = new Set(voice.messages.map((m) => m.record.type));
    assert.deepEqual(types, new Set(['SMS', 'Pager', 'Fax', 'VoiceMail']));

    let attachments = 0;
    for (const m of voice.messages) {
      for (const a of m.attachments) {
        attachments++;
        const ext = { 'text/plain': 'txt', 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'audio/mpeg': 'mp3' }[
          a.info.contentType
        ];
        const path = `account/${voice.accountId}/extension/${m.extensionId}/message-store/content/${m.record.id}/${a.info.id}.${ext}`;
        const got = content.get(path);
        assert.ok(got, path);
        assert.ok(got.equals(await bytes(attachmentContentStream(a))), `${path} byte-exact`);
      }
    }
    assert.equal(content.size, attachments);
    const transcript = voice.messages.flatMap((m) => m.attachments).find((a) => a.info.type === 'AudioTranscription')!;
    assert.match(transcript.text!, /contract/i);
  });

  it('filters a report by messageTypes and by creationTime window', async () => {
    const faxOnly = await completedReport(rc, {
      dateFrom: new Date(NOW.getTime() - 3 * 24 * HOUR).toISOString(),
      dateTo: NOW.toISOString(),
      messageTypes: ['Fax'],
    });
    const [meta, content] = await archives(rc, faxOnly.id!);
    const records = [...meta.values()].flatMap(
      (b) => (JSON.parse(b.toString('utf8')) as { records: GetMessageInfoResponse[] }).records,
    );
    assert.deepEqual(
      records.map((r) => r.type),
      ['Fax'],
    );
    assert.equal(records[0].faxPageCount, 3);
    assert.equal([...content.keys()].length, 1);
    assert.match([...content.keys()][0], /\.pdf$/);

    const sms = voice.messages
      .filter((m) => m.record.type === 'SMS')
      .sort((a, b) => a.record.creationTime.localeCompare(b.record.creationTime));
    const windowed = await completedReport(rc, {
      dateFrom: sms[0].record.creationTime,
      dateTo: sms[2].record.creationTime,
      messageTypes: ['SMS'],
    });
    const [wMeta] = await archives(rc, windowed.id!);
    const ids = [...wMeta.values()].flatMap((b) =>
      (JSON.parse(b.toString('utf8')) as { records: GetMessageInfoResponse[] }).records.map((r) => r.id),
    );
    assert.deepEqual(
      ids.sort(),
      sms
        .slice(0, 3)
        .map((m) => m.record.id)
        .sort(),
      'both window ends inclusive',
    );
  });

  it('answers 403 CMN-401 for a permission the app lacks, and serves again once granted', async () => {
    double.revokePermission('ReadCallLog');
    const err = await rejection(rc.restapi().account().callLog().list());
    assert.equal(err.response.status, 403);
    assert.equal((err.response.data as { errorCode: string }).errorCode, 'CMN-401');
    assert.equal(
      (err.response.data as { message: string }).message,
      'In order to call this API endpoint, application needs to have [ReadCallLog] permission',
    );
    // Other permissions still work.
    await rc.restapi().account().extension().list();
    double.revokePermission('ReadCallRecording');
    const recording = voice.calls.find((c) => c.recording)!.recording!;
    const media = await rejection(
      rc.restapi().account().recording(recording.id).content().get(undefined, { baseURL: double.mediaUrl }),
    );
    assert.equal(media.response.status, 403);
    double.revokePermission('ReadMessages');
    assert.equal((await rejection(rc.restapi().account().messageStoreReport().post({}))).response.status, 403);
    double.revokePermission('ReadAccounts');
    assert.equal((await rejection(rc.restapi().account().extension().list())).response.status, 403);
    for (const p of ['ReadCallLog', 'ReadCallRecording', 'ReadMessages', 'ReadAccounts'] as const)
      double.grantPermission(p);
    await rc.restapi().account().callLog().list();
    assert.equal(double.stats.forbidden, 4);
  });
});

describe('RingCentral double: voice rules and faults', () => {
  it('a recording appears late: 404 until the delay after the call ends, then 200', async () => {
    const endedNow: VoiceCall = {
      record: {
        id: 'LateCall01',
        sessionId: '1',
        startTime: new Date(Date.now() - 60_000).toISOString(),
        duration: 60,
        direction: 'Inbound',
        type: 'Voice',
        action: 'Phone Call',
        result: 'Accepted',
      },
      recording: { id: '777', type: 'Automatic', contentType: 'audio/mpeg', size: 5000 },
    };
    const late: VoiceOrganisation = { ...voice, calls: [endedNow] };
    const { double, rc } = await start({ voice: late, recordingDelayMs: 600 });
    try {
      const log = await rc.restapi().account().callLog().list({ view: 'Detailed' });
      assert.equal(log.records?.[0]?.recording?.id, '777', 'listed in the call log at once');
      const uri = log.records![0].recording!.contentUri!;
      const auth = { Authorization: `Bearer ${rc.token!.access_token}` };
      const early = await fetch(uri, { headers: auth });
      assert.equal(early.status, 404);
      assert.equal(((await early.json()) as { errorCode: string }).errorCode, 'CMN-102');
      await new Promise((r) => setTimeout(r, 700));
      const ready = await fetch(uri, { headers: auth });
      assert.equal(ready.status, 200);
      assert.ok(
        Buffer.from(await ready.arrayBuffer()).equals(await bytes(recordingContentStream(endedNow.recording!))),
      );
      // A per-recording delay overrides the double's.
      double.setVoice({ ...late, calls: [{ ...endedNow, recording: { ...endedNow.recording!, delayMs: 3_600_000 } }] });
      const held = await fetch(uri, { headers: auth });
      assert.equal(held.status, 404);
      await held.body?.cancel();
    } finally {
      await double.close();
    }
  });

  it('allows at most 2 report tasks at once per account', async () => {
    const { double, rc } = await start({ pollsUntilComplete: 1 });
    try {
      const a = await rc.restapi().account().messageStoreReport().post({});
      await rc.restapi().account().messageStoreReport().post({});
      const third = await rejection(rc.restapi().account().messageStoreReport().post({}));
      assert.equal(third.response.status, 400);
      assert.equal((third.response.data as { errorCode: string }).errorCode, 'MSR-TaskLimit');
      // Completing one frees a slot.
      for (let i = 0; i < 2; i++) await rc.restapi().account().messageStoreReport(a.id!).get();
      assert.equal((await rc.restapi().account().messageStoreReport(a.id!).get()).status, 'Completed');
      await rc.restapi().account().messageStoreReport().post({});
      assert.equal(double.stats.reportsCreated, 3);
      // The archive list of an unfinished task is not there.
      const pending = double.reports.all().filter((t) => t.status !== 'Completed');
      const notReady = await rejection(rc.restapi().account().messageStoreReport(pending[0].id!).archive().get());
      assert.equal(notReady.response.status, 404);
    } finally {
      await double.close();
    }
  });

  it('lets a task nobody polls finish by itself, so a lost create answer frees its slot', async () => {
    const { double, rc } = await start({ reportAbandonedAfterMs: 300 });
    try {
      const orphan = await rc.restapi().account().messageStoreReport().post({});
      const polled = await rc.restapi().account().messageStoreReport().post({});
      assert.equal(
        (await rejection(rc.restapi().account().messageStoreReport().post({}))).response.status,
        400,
        'both slots are taken at first',
      );
      await new Promise((r) => setTimeout(r, 200));
      await rc.restapi().account().messageStoreReport(polled.id!).get(); // keeps this one alive
      await new Promise((r) => setTimeout(r, 200));
      // The orphan was last touched 400 ms ago, the polled task 200 ms ago: only the orphan is done.
      await rc.restapi().account().messageStoreReport().post({});
      const states = new Map(double.reports.all().map((t) => [t.id, t.status]));
      assert.equal(states.get(orphan.id), 'Completed');
      assert.notEqual(states.get(polled.id), 'Completed');
      // Its archives are there once asked for.
      assert.equal((await rc.restapi().account().messageStoreReport(orphan.id!).get()).status, 'Completed');
      const archives = await rc.restapi().account().messageStoreReport(orphan.id!).archive().get();
      assert.ok((archives.records ?? []).length >= 1);
    } finally {
      await double.close();
    }
  });

  it('reports a failed task as Failed when planned', async () => {
    const { double, rc } = await start();
    try {
      double.faults.failNextMessageStoreReport(1, 'Failed');
      const task = await rc.restapi().account().messageStoreReport().post({});
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await rc.restapi().account().messageStoreReport(task.id!).get()).status);
      assert.deepEqual(statuses, ['InProgress', 'Failed', 'Failed']);
    } finally {
      await double.close();
    }
  });

  it('rate-limits the call log and reports in the Heavy group (429 + Retry-After) while Medium still answers', async () => {
    const { double, rc } = await start({ rateLimits: { Heavy: 2, Medium: 40, Auth: 10 }, penaltyMs: 30_000 });
    try {
      await rc.restapi().account().callLog().list();
      await rc.restapi().account().messageStoreReport().post({});
      const refused = await rejection(rc.restapi().account().callLog().list());
      assert.equal(refused.response.status, 429);
      assert.equal(refused.response.headers['retry-after'], '30');
      assert.equal(refused.response.headers['x-rate-limit-group'], 'Heavy');
      assert.equal((refused.response.data as { errorCode: string }).errorCode, 'CMN-301');
      const recording = voice.calls.find((c) => c.recording)!.recording!;
      const media = await fetch(`${double.mediaUrl}/restapi/v1.0/account/~/recording/${recording.id}/content`, {
        headers: { Authorization: `Bearer ${rc.token!.access_token}` },
      });
      assert.equal(media.status, 429, 'recording content is Heavy too');
      await media.body?.cancel();
      const ext = await rc.restapi().account().extension().list();
      assert.ok(ext.records?.length);
    } finally {
      await double.close();
    }
  });

  it('after-commit faults on report creation: the answer is lost (504 or reset), the task exists and completes', async () => {
    const { double, rc } = await start();
    try {
      double.faults.inject({ kind: '504-after-commit', match: '/message-store-report' });
      const lost = await rejection(
        rc
          .restapi()
          .account()
          .messageStoreReport()
          .post({ messageTypes: ['VoiceMail'] }),
      );
      assert.equal(lost.response.status, 504);
      const tasks = double.reports.all();
      assert.equal(tasks.length, 1, 'the task was created before the answer was lost');
      assert.deepEqual(tasks[0].messageTypes, ['VoiceMail']);
      assert.equal((await rc.restapi().account().messageStoreReport(tasks[0].id!).get()).status, 'InProgress');
      assert.equal((await rc.restapi().account().messageStoreReport(tasks[0].id!).get()).status, 'Completed');

      double.faults.inject({ kind: 'reset-after-commit', match: '/message-store-report' });
      await assert.rejects(
        fetch(`${double.url}/restapi/v1.0/account/~/message-store-report`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${rc.token!.access_token}`, 'Content-Type': 'application/json' },
          body: '{}',
        }),
      );
      assert.equal(double.reports.all().length, 2);
      // Both lost answers created a task: a client that re-sends without looking makes duplicates.
      assert.equal(double.stats.reportsCreated, 2);
      // On the token path: a refresh whose answer is lost has still retired the old pair.
      double.faults.inject({ kind: '504-after-commit', match: '/restapi/oauth/token' });
      assert.equal((await rejection(rc.refresh())).response.status, 504);
      const again = await rejection(rc.refresh());
      assert.equal(again.response.status, 400);
      assert.equal((again.response.data as { error: string }).error, 'invalid_grant');
      await rc.authorize({ jwt: credentials.jwt });
      // Existing injected faults apply to the new routes too.
      double.faults.inject({ kind: '503', match: '/call-log' });
      assert.equal((await rejection(rc.restapi().account().callLog().list())).response.status, 503);
    } finally {
      await double.close();
    }
  });

  it('splits attachments over archives of at most maxArchiveBytes, metadata always archive/0; a bare-array message-store.json on request', async () => {
    const { double, rc } = await start({ maxArchiveBytes: 400_000, messageStoreJson: 'array' });
    try {
      const task = await completedReport(rc, { dateFrom: new Date(NOW.getTime() - 3 * 24 * HOUR).toISOString() });
      const [meta, ...parts] = await archives(rc, task.id!);
      assert.ok(parts.length >= 2, `${parts.length} attachment archives`);
      for (const body of meta.values()) assert.ok(Array.isArray(JSON.parse(body.toString('utf8'))));
      const names = parts.flatMap((p) => [...p.keys()]);
      assert.equal(new Set(names).size, names.length, 'each attachment in one archive');
      assert.equal(
        names.length,
        voice.messages.reduce((n, m) => n + m.attachments.length, 0),
      );
      for (const p of parts) {
        const total = [...p.values()].reduce((n, b) => n + b.length, 0);
        assert.ok(p.size === 1 || total <= 400_000, 'over the cap only when one attachment alone is larger');
      }
    } finally {
      await double.close();
    }
  });
});

describe('demoVoiceOrganisation', () => {
  it('is deterministic and holds texts, an MMS image, a pager message, a fax, voicemails and recorded and unrecorded calls', () => {
    assert.deepEqual(demoVoiceOrganisation(NOW, demoOrganisation(NOW)), voice);
    const kinds = voice.messages.flatMap((m) =>
      m.attachments.map((a) => `${m.record.type}:${a.info.type}:${a.info.contentType}`),
    );
    for (const k of [
      'SMS:Text:text/plain',
      'SMS:MmsAttachment:image/jpeg',
      'Pager:Text:text/plain',
      'Fax:RenderedDocument:application/pdf',
      'VoiceMail:AudioRecording:audio/mpeg',
      'VoiceMail:AudioTranscription:text/plain',
    ]) {
      assert.ok(kinds.includes(k), k);
    }
    for (const m of voice.messages)
      for (const a of m.attachments) if (a.text !== undefined) assert.equal(Buffer.byteLength(a.text), a.info.size);
    assert.ok(
      voice.calls.some((c) => c.recording?.type === 'Automatic') &&
        voice.calls.some((c) => c.recording?.type === 'OnDemand'),
    );
    assert.ok(voice.calls.some((c) => !c.recording && c.record.type === 'Voice'));
    const last = Math.max(...voice.calls.map((c) => Date.parse(c.record.startTime) + c.record.duration * 1000));
    assert.ok(last <= NOW.getTime() - HOUR, 'every call ended an hour before now');
    assert.equal(voice.accountId, org.accountId);
    // The Team Messaging side is what it was.
    assert.equal(org.members.length, 6);
  });
});
