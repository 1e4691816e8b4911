import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { demoOrganisation, demoVoiceOrganisation } from '../../dev/demo-org';
import type { VoiceCall } from '../../dev/doubles/ringcentral/voice-records';
import { CaptureWindows } from '../../shared/store/capture-windows';
import { CALL_LOOKBACK_MS } from '../../shared/capture/call-log-capture';
import { startPipeline, type CapturePipeline } from './helpers';

// Capture of the call log against the RingCentral double, Azurite and the local host. One pipeline
// per file: the local host runs the functions in this process, and their archiver is process-wide.
const roomy = { Heavy: 1000, Medium: 1000, Light: 1000, Auth: 100 };

describe('call log capture', () => {
  const now = new Date();
  const org = demoOrganisation(now);
  const voice = demoVoiceOrganisation(now, org);
  let p: CapturePipeline;
  const start = new Date(now.getTime() - 3 * 86_400_000);

  before(async () => {
    p = await startPipeline({
      org,
      voice,
      ringCentral: { rateLimits: roomy },
      settings: { CAPTURE_SOURCES: 'calls', CAPTURE_START: start.toISOString() },
    });
    await p.cycle();
  });
  after(() => p?.stop());

  it('captures every ended call once, and a call that ended after its window from the next one', async () => {
    const windows = new CaptureWindows(p.archiver.storage, 'calls');
    const capturedThrough = (await windows.checkpoint())!.capturedThrough!;
    let status = await p.archiver.status.build();
    assert.equal(status.totals.byKind.call?.captured, voice.calls.length);

    // A long call that started before the checkpoint and had not ended then: the call log lists it
    // only now. The next window reads back CALL_LOOKBACK_MS and takes it.
    const template = voice.calls.find((c) => !c.recording)!;
    const longCall: VoiceCall = {
      ...template,
      record: {
        ...template.record,
        id: 'long-call-1',
        sessionId: 'long-session-1',
        startTime: new Date(Date.parse(capturedThrough) - 30 * 60_000).toISOString(),
        duration: 30 * 60 - 1,
      },
    };
    p.env.ringCentral.setVoice({ ...voice, calls: [...voice.calls, longCall] });
    const later = new Date(Date.parse(capturedThrough) + 1000);
    await p.archiver.capture.backfill(new Date(capturedThrough), later);
    await p.host.waitForIdle({ timeoutMs: 150_000 });
    status = await p.archiver.status.build();
    assert.equal(status.totals.byKind.call?.captured, voice.calls.length + 1);
    assert.ok(CALL_LOOKBACK_MS >= 30 * 60_000);

    // Read again in the next window's look-back, it is left alone: converted once.
    await p.archiver.capture.backfill(new Date(capturedThrough), later);
    await p.host.waitForIdle({ timeoutMs: 150_000 });
    const converts = p.logLines.filter((l) => l.includes('"event":"convert.done"') && l.includes('long-call-1'));
    assert.equal(converts.length, 1, converts.join('\n'));
    status = await p.archiver.status.build();
    assert.equal(status.totals.byKind.call?.captured, voice.calls.length + 1);
    assert.equal(status.totals.failed, 0);
  });
});
