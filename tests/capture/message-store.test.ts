import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { demoOrganisation, demoVoiceOrganisation } from '../../dev/demo-org';
import { attachmentContentStream } from '../../dev/doubles/ringcentral/voice-records';
import { CONTAINERS } from '../../shared/store/names';
import { FileCapture } from '../../shared/capture/file-capture';
import { MessageStoreReports } from '../../shared/capture/export-tasks';
import { messageAttachmentFileId, VOICE_CONTENT_VERSION } from '../../shared/ringcentral/voice-records';
import type { RingCentralGateway } from '../../shared/ringcentral/ringcentral-api';
import { startPipeline, type CapturePipeline } from './helpers';

// Capture of the message-store report against the RingCentral double, Azurite and the local host.
const roomy = { Heavy: 1000, Medium: 1000, Light: 1000, Auth: 100 };

async function sha256(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('message-store report capture', () => {
  const now = new Date();
  const org = demoOrganisation(now);
  const voice = demoVoiceOrganisation(now, org);
  let p: CapturePipeline;

  before(async () => {
    p = await startPipeline({
      org,
      voice,
      // A bare array per records file (the docs show only a picture) and attachments over several archives.
      ringCentral: { messageStoreJson: 'array', maxArchiveBytes: 48 * 1024, rateLimits: roomy },
      settings: {
        CAPTURE_SOURCES: 'messages',
        CAPTURE_START: new Date(now.getTime() - 3 * 86_400_000).toISOString(),
        RINGCENTRAL_RATE_LIMITS: 'Light=1000,Medium=1000,Heavy=1000,Auth=100',
      },
    });
    await p.cycle();
  });
  after(() => p?.stop());

  it('captures every message of every extension, with every attachment from the archives', async () => {
    const status = await p.archiver.status.build();
    const captured = ['sms', 'pager', 'fax', 'voicemail'].reduce(
      (n, k) => n + (status.totals.byKind[k]?.captured ?? 0),
      0,
    );
    assert.equal(captured, voice.messages.length);
    assert.equal(status.totals.converted, voice.messages.length);
    assert.equal(status.totals.invalid, 0);
    assert.equal(status.sources.messages.state, 'on');
    assert.equal(status.sources.teammessaging.state, 'off');
    assert.ok(status.sources.messages.capturedThrough, 'the messages checkpoint moved');
    // Several attachment archives were read; no attachment had to be fetched one by one.
    const stats = p.env.ringCentral.stats;
    assert.ok(stats.byKind.archiveDownload >= 3, `archives downloaded: ${stats.byKind.archiveDownload}`);
    assert.equal(stats.byKind.messageContent, 0);
    const blobs = p.archiver.storage.container(CONTAINERS.files);
    for (const m of voice.messages.filter((x) => x.record.availability !== 'Purged')) {
      for (const a of m.attachments) {
        const name = FileCapture.blobName(
          messageAttachmentFileId(String(m.record.id), String(a.info.id)),
          VOICE_CONTENT_VERSION,
        );
        const props = await blobs.getBlockBlobClient(name).getProperties();
        assert.equal(props.contentLength, a.info.size, name);
        assert.equal(props.metadata?.sha256, await sha256(attachmentContentStream(a)), name);
      }
    }
  });

  it('a second run over the same range captures nothing twice', async () => {
    const before = await p.archiver.status.build();
    const inMailboxes = () =>
      org.members
        .filter((m) => m.email)
        .reduce((n, m) => {
          try {
            return n + p.env.graph.messagesIn(m.email!, 'Inbox/RingCentral').length;
          } catch {
            return n; // no mailbox in the tenant
          }
        }, 0);
    const messages = inMailboxes();
    await p.archiver.capture.backfill(new Date(now.getTime() - 3 * 86_400_000), now);
    await p.host.waitForIdle({ timeoutMs: 150_000 });
    const again = await p.archiver.status.build();
    assert.equal(again.totals.delivered, before.totals.delivered);
    assert.equal(inMailboxes(), messages);
    assert.ok(messages > 0);
  });

  it('reconciles: every message with its files in its mailbox, none twice', async () => {
    const status = await p.archiver.status.build();
    const range = { from: new Date(now.getTime() - 4 * 86_400_000), to: new Date(now.getTime() + 60_000) };
    let found = 0;
    for (const mailbox of Object.keys(status.byMailbox)) {
      const r = (await p.archiver.reconciler.mailbox(mailbox, range))!;
      assert.deepEqual(
        [r.missing, r.duplicates, r.unexpected, r.attachmentsMissing, r.attachmentsDuplicated],
        [0, 0, 0, 0, 0],
        mailbox,
      );
      found += r.found;
    }
    assert.equal(found, status.totals.delivered);
    assert.ok(found > 0);
  });
});

describe('message-store report windows', () => {
  it('ask for [from, to − 1 ms]: RingCentral includes both ends, windows include only the start', async () => {
    const asked: Array<[string, string]> = [];
    const gateway = {
      createMessageStoreReport: async (from: string, to: string) => {
        asked.push([from, to]);
        return { id: 't1', status: 'Accepted' };
      },
    } as unknown as RingCentralGateway;
    await new MessageStoreReports(gateway).create('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z');
    assert.deepEqual(asked, [['2026-01-01T00:00:00.000Z', '2026-01-01T23:59:59.999Z']]);
  });
});
