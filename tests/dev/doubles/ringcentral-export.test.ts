import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import RingCentral from '@rc-ex/core';
import type RestException from '@rc-ex/core/RestException';
import type { ExportFile, ExportPost, ExportTask } from '../../../shared/ringcentral/export-records';
import { generateOrganisation } from '../../../dev/demo-org';
import { startRingCentralDouble, type RingCentralDouble } from '../../../dev/doubles/ringcentral/server';
import { recordsOf, unzipDataset } from '../../../dev/doubles/ringcentral/read-dataset';

const credentials = { clientId: 'export-client', clientSecret: 'export-secret', jwt: 'header.export-claims.signature' };
const from = new Date('2025-03-01T00:00:00.000Z');
const to = new Date('2025-03-03T00:00:00.000Z');
const org = generateOrganisation({
  seed: 7,
  members: 8,
  guests: 2,
  posts: 250,
  tasks: 6,
  notes: 3,
  events: 3,
  filesRatio: 0.1,
  edits: 10,
  deletions: 5,
  from,
  to,
});

async function client(double: RingCentralDouble): Promise<RingCentral> {
  const rc = new RingCentral({ server: double.url, ...credentials });
  await rc.authorize({ jwt: credentials.jwt });
  return rc;
}

async function completedTask(rc: RingCentral, timeFrom: string, timeTo: string) {
  const created = await rc.teamMessaging().v1().dataExport().post({ timeFrom, timeTo });
  for (let i = 0; i < 10; i++) {
    const task = await rc.teamMessaging().v1().dataExport(created.id!).get();
    if (task.status === 'Completed') return task;
  }
  throw new Error('task did not complete');
}

async function download(rc: RingCentral, uri: string): Promise<Response> {
  return fetch(uri, { headers: { Authorization: `Bearer ${rc.token!.access_token}` } });
}

describe('RingCentral double: compliance export through @rc-ex/core', () => {
  let double: RingCentralDouble;
  let rc: RingCentral;
  before(async () => {
    double = await startRingCentralDouble({ org, ...credentials, recordsPerFile: 100, pollsUntilComplete: 2 });
    rc = await client(double);
  });
  after(() => double.close());

  it('moves a task Accepted -> InProgress -> Completed and serves a dataset zip from the media host', async () => {
    const created = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() });
    assert.equal(created.status, 'Accepted');
    assert.deepEqual(created.specific, { timeFrom: from.toISOString(), timeTo: to.toISOString() });
    assert.equal(created.uri, `${double.url}/team-messaging/v1/data-export/${created.id}`);
    const statuses: string[] = [];
    let task = created;
    while (task.status !== 'Completed' && statuses.length < 5) {
      task = await rc.teamMessaging().v1().dataExport(created.id!).get();
      statuses.push(task.status!);
    }
    assert.deepEqual(statuses, ['InProgress', 'InProgress', 'Completed']);
    assert.equal(task.datasets?.length, 1);
    const dataset = task.datasets![0];
    assert.ok(dataset.uri!.startsWith(`${double.mediaUrl}/`), 'dataset on the media host');
    assert.notEqual(new URL(dataset.uri!).hostname, new URL(double.url).hostname);

    const res = await download(rc, dataset.uri!);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const zip = Buffer.from(await res.arrayBuffer());
    assert.equal(zip.length, dataset.size);
    assert.equal(Number(res.headers.get('content-length')), dataset.size);
    const entries = await unzipDataset(zip);
    assert.deepEqual(JSON.parse(entries.get('request_info.json')!.toString()), {
      id: created.id,
      timeFrom: from.toISOString(),
      timeTo: to.toISOString(),
    });
    for (const folder of ['chats', 'members', 'guests', 'posts', 'events', 'tasks', 'notes', 'files']) {
      assert.ok(entries.has(`${folder}/${folder}_1.json`), `${folder}_1.json present`);
    }
    // 250 posts at 100 records per file.
    assert.ok(entries.has('posts/posts_3.json'));
    assert.ok(!entries.has('posts/posts_4.json'));
    for (const name of entries.keys()) {
      if (name.endsWith('.json') && name !== 'request_info.json')
        assert.ok((JSON.parse(entries.get(name)!.toString()) as { records: unknown[] }).records.length <= 100, name);
    }

    const posts = recordsOf<ExportPost>(entries, 'posts');
    assert.equal(posts.length, 250, 'one record per post id (latest version)');
    assert.equal(new Set(posts.map((p) => p.id)).size, 250);
    const edited = posts.filter((p) => p.text?.endsWith('(edited: corrected)'));
    assert.equal(edited.length, 10);
    assert.equal(posts.filter((p) => p.deleted).length, 5);
    assert.equal(recordsOf(entries, 'members').length, 8);
    const chatIds = new Set(recordsOf<{ id: string }>(entries, 'chats').map((c) => c.id));
    for (const post of posts) assert.ok(chatIds.has(post.chatId), 'every post chat is exported');
    const files = recordsOf<ExportFile>(entries, 'files');
    assert.equal(files.length, org.files.length);
    for (const file of files) assert.ok(file.contentUri.startsWith(`${double.mediaUrl}/file/`), file.contentUri);
    const tasks = recordsOf<ExportTask>(entries, 'tasks');
    assert.equal(tasks.length, new Set(org.tasks.map((t) => t.id)).size, 'completed tasks appear once, latest version');
    assert.equal(tasks.filter((t) => t.status === 'Completed').length, org.tasks.length - tasks.length);
    assert.equal(double.stats.tasksCreated, 1);
    assert.equal(double.stats.byKind.getTask, 3);
    assert.equal(double.stats.byKind.dataset, 1);
    assert.equal(double.stats.bytesServed, dataset.size);
  });

  it('includes a version by lastModifiedTime in [timeFrom, timeTo) and only the latest one in the window', async () => {
    const editedVersion = org.posts.find((p) => p.text?.endsWith('(edited: corrected)'))!;
    const original = org.posts.find((p) => p.id === editedVersion.id && p !== editedVersion)!;
    // A window that ends right at the edit: the original version is the current one in it.
    const before = await completedTask(rc, original.lastModifiedTime, editedVersion.lastModifiedTime);
    const beforeEntries = await unzipDataset(
      Buffer.from(await (await download(rc, before.datasets![0].uri!)).arrayBuffer()),
    );
    const beforePosts = recordsOf<ExportPost>(beforeEntries, 'posts');
    assert.equal(beforePosts.find((p) => p.id === original.id)?.text, original.text);
    for (const p of beforePosts) {
      assert.ok(
        p.lastModifiedTime >= original.lastModifiedTime && p.lastModifiedTime < editedVersion.lastModifiedTime,
        'inside the window',
      );
    }
    // A window starting at the edit: the edited version, and not the posts created before it.
    const afterEdit = await completedTask(rc, editedVersion.lastModifiedTime, to.toISOString());
    const afterPosts = recordsOf<ExportPost>(
      await unzipDataset(Buffer.from(await (await download(rc, afterEdit.datasets![0].uri!)).arrayBuffer())),
      'posts',
    );
    assert.equal(afterPosts.find((p) => p.id === original.id)?.text, editedVersion.text);
    const expected = new Set(
      org.posts.filter((p) => p.lastModifiedTime >= editedVersion.lastModifiedTime).map((p) => p.id),
    );
    assert.deepEqual(new Set(afterPosts.map((p) => p.id)), expected);
  });

  it('lists tasks and refuses a third task while two are in progress', async () => {
    const a = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() });
    const b = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() });
    const third = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() })
      .catch((e: RestException) => e);
    assert.equal((third as RestException).response?.status, 400);
    assert.equal(((third as RestException).response?.data as { errorCode: string }).errorCode, 'TMS-ExportLimit');
    const list = await rc.teamMessaging().v1().dataExport().list();
    const ids = list.tasks!.map((t) => t.id);
    assert.ok(ids.includes(a.id) && ids.includes(b.id));
    assert.equal(list.tasks![0].id, b.id, 'newest first');
    assert.equal(list.tasks!.find((t) => t.id === a.id)?.status, 'Accepted');
    for (const t of [a, b]) for (let i = 0; i < 3; i++) await rc.teamMessaging().v1().dataExport(t.id!).get();
    const fourth = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() });
    assert.equal(fourth.status, 'Accepted', 'a slot frees up once a task completes');
    for (let i = 0; i < 3; i++) await rc.teamMessaging().v1().dataExport(fourth.id!).get();
  });

  it('narrows an export to chatIds or to the chats of listed contacts', async () => {
    const team = org.chats.find((c) => c.Type === 'Team')!;
    const created = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString(), chatIds: [team.id] });
    assert.deepEqual(created.specific?.chatIds, [team.id]);
    let task = created;
    for (let i = 0; i < 4 && task.status !== 'Completed'; i++)
      task = await rc.teamMessaging().v1().dataExport(created.id!).get();
    const entries = await unzipDataset(Buffer.from(await (await download(rc, task.datasets![0].uri!)).arrayBuffer()));
    const posts = recordsOf<ExportPost>(entries, 'posts');
    assert.ok(posts.length > 0);
    assert.ok(posts.every((p) => p.chatId === team.id));
    assert.deepEqual(
      recordsOf<{ id: string }>(entries, 'chats').map((c) => c.id),
      [team.id],
    );
    assert.deepEqual(
      recordsOf<{ id: string }>(entries, 'guests')
        .map((g) => g.id)
        .sort(),
      [...team.guestIds!].sort(),
    );

    const person = org.members[1];
    const byContact = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: from.toISOString(), timeTo: to.toISOString(), contacts: [{ email: person.email! }] });
    task = byContact;
    for (let i = 0; i < 4 && task.status !== 'Completed'; i++)
      task = await rc.teamMessaging().v1().dataExport(byContact.id!).get();
    const contactPosts = recordsOf<ExportPost>(
      await unzipDataset(Buffer.from(await (await download(rc, task.datasets![0].uri!)).arrayBuffer())),
      'posts',
    );
    const theirChats = new Set(org.chats.filter((c) => c.memberIds!.includes(person.id)).map((c) => c.id));
    assert.ok(contactPosts.length > 0 && contactPosts.every((p) => theirChats.has(p.chatId)));
    assert.ok(contactPosts.length < 250);
  });

  it('rejects a bad window and unknown task ids', async () => {
    const bad = await rc
      .teamMessaging()
      .v1()
      .dataExport()
      .post({ timeFrom: to.toISOString(), timeTo: from.toISOString() })
      .catch((e: RestException) => e);
    assert.equal((bad as RestException).response?.status, 400);
    const missing = await rc
      .teamMessaging()
      .v1()
      .dataExport('no-such-task')
      .get()
      .catch((e: RestException) => e);
    assert.equal((missing as RestException).response?.status, 404);
  });
});

describe('RingCentral double: export faults, link expiry and datasets', () => {
  it('fails tasks on request: Failed is final, AttemptFailed retries and completes', async () => {
    const double = await startRingCentralDouble({ org, ...credentials, pollsUntilComplete: 1 });
    try {
      const rc = await client(double);
      double.faults.failNextExport(1, 'Failed');
      const failed = await rc
        .teamMessaging()
        .v1()
        .dataExport()
        .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() });
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push((await rc.teamMessaging().v1().dataExport(failed.id!).get()).status!);
      assert.deepEqual(seen, ['InProgress', 'Failed', 'Failed', 'Failed']);

      double.faults.failNextExport(1, 'AttemptFailed');
      const retried = await rc
        .teamMessaging()
        .v1()
        .dataExport()
        .post({ timeFrom: from.toISOString(), timeTo: to.toISOString() });
      const retriedSeen: string[] = [];
      for (let i = 0; i < 4; i++)
        retriedSeen.push((await rc.teamMessaging().v1().dataExport(retried.id!).get()).status!);
      assert.deepEqual(retriedSeen, ['InProgress', 'AttemptFailed', 'InProgress', 'Completed']);
    } finally {
      await double.close();
    }
  });

  it('expires dataset links; a fresh GET of the task gives a working link', async () => {
    const double = await startRingCentralDouble({ org, ...credentials, pollsUntilComplete: 0, datasetLinkTtlMs: 500 });
    try {
      const rc = await client(double);
      const task = await completedTask(rc, from.toISOString(), to.toISOString());
      await new Promise((r) => setTimeout(r, 600));
      const expired = await download(rc, task.datasets![0].uri!);
      assert.equal(expired.status, 403);
      await expired.body?.cancel();
      const again = await rc.teamMessaging().v1().dataExport(task.id!).get();
      assert.notEqual(again.datasets![0].uri, task.datasets![0].uri);
      const fresh = await download(rc, again.datasets![0].uri!);
      assert.equal(fresh.status, 200);
      assert.equal((await fresh.arrayBuffer()).byteLength, again.datasets![0].size);
    } finally {
      await double.close();
    }
  });

  it('splits a large export over several datasets', async () => {
    const double = await startRingCentralDouble({
      org,
      ...credentials,
      pollsUntilComplete: 0,
      maxRecordsPerDataset: 100,
    });
    try {
      const rc = await client(double);
      const task = await completedTask(rc, from.toISOString(), to.toISOString());
      assert.ok(task.datasets!.length >= 3);
      const ids = new Set<string>();
      for (const dataset of task.datasets!) {
        const entries = await unzipDataset(Buffer.from(await (await download(rc, dataset.uri!)).arrayBuffer()));
        for (const post of recordsOf<ExportPost>(entries, 'posts')) ids.add(post.id);
        assert.equal(recordsOf(entries, 'members').length, 8, 'each dataset carries the people');
      }
      assert.equal(ids.size, 250);
    } finally {
      await double.close();
    }
  });

  it('cuts a dataset download after N bytes when told to, then serves it whole again', async () => {
    const double = await startRingCentralDouble({ org, ...credentials, pollsUntilComplete: 0 });
    try {
      const rc = await client(double);
      const task = await completedTask(rc, from.toISOString(), to.toISOString());
      double.faults.truncateNextDownload(1000, '/datasets/');
      const res = await download(rc, task.datasets![0].uri!);
      assert.equal(res.status, 200);
      assert.equal(Number(res.headers.get('content-length')), task.datasets![0].size);
      let received = 0;
      const reader = res.body!.getReader();
      const error = await (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return undefined;
            received += value.length;
          }
        } catch (err) {
          return err;
        }
      })();
      assert.ok(error, 'the body fails mid-way');
      assert.equal(received, 1000);
      const whole = await download(rc, task.datasets![0].uri!);
      assert.equal((await whole.arrayBuffer()).byteLength, task.datasets![0].size);
    } finally {
      await double.close();
    }
  });
});
