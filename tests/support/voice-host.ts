import { HostProcess } from '../system/chaos/host-process';
import type { LocalEnvironment } from '../../dev/local-environment';
import type { StorageAccount } from '../../shared/store/storage-account';
import { CaptureWindows } from '../../shared/store/capture-windows';
import { QUEUES, poisonQueueOf } from '../../shared/store/names';
import { MIN_WINDOW_MS } from '../../shared/capture/window-planner';
import type { CaptureSource } from '../../shared/config';
import type { VoiceOrganisation } from '../../dev/doubles/ringcentral/voice-records';
import { attachmentContentStream, recordingContentStream } from '../../dev/doubles/ringcentral/voice-records';
import { ITEM_KEY_PROPERTY } from '../../shared/mailbox/mapi-properties';
import type { StoredMessage } from '../../dev/doubles/graph/mailbox-state';
import type { Readable } from 'node:stream';

export const ADMIN_KEY = 'voice-admin-key';
export const FUNCTION_KEY = 'voice-function-key';

/**
 * The local Functions host as a child process over a local environment (so a test can SIGKILL it),
 * with timers off: `tick()` runs the ingest timer through the admin API and `drain()` waits until
 * every work queue stays empty (delayed and invisible messages count as not empty).
 */
export class VoiceHost {
  readonly process: HostProcess;
  readonly log: string[] = [];

  constructor(
    private readonly env: LocalEnvironment,
    private readonly storage: StorageAccount,
    private readonly sources: CaptureSource[],
    extraSettings: Record<string, string> = {},
  ) {
    this.process = new HostProcess(
      {
        ...env.settings,
        LOCAL_ADMIN_KEY: ADMIN_KEY,
        LOCAL_FUNCTION_KEY: FUNCTION_KEY,
        LOCAL_HOST_TIMERS: 'false',
        LOCAL_HOST_POLL_MS: '100',
        LOCAL_HOST_MESSAGE_LEASE_S: '4',
        // A killed worker's delivery claims last twice the Graph settle time (2 × the client's
        // time-out); a short time-out keeps that wait seconds, not minutes, as in the chaos test.
        ARCHIVER_TEST_GRAPH_TIMEOUT_MS: '2000',
        ...extraSettings,
      },
      (line) => this.log.push(line),
    );
  }

  start(): Promise<void> {
    return this.process.start();
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  /** SIGKILL, then a fresh host process on the same storage. */
  async killAndRestart(): Promise<void> {
    await this.process.kill();
    await this.process.start();
  }

  /**
   * Waits until a tick would plan a new window for every source: the planner plans none shorter
   * than MIN_WINDOW_MS (60 s) after the last planned one, so ticks closer together capture nothing.
   */
  async waitForNewWindow(): Promise<void> {
    let through = 0;
    for (const source of this.sources) {
      const c = await new CaptureWindows(this.storage, source).checkpoint();
      through = Math.max(through, Date.parse(c?.plannedThrough ?? c?.capturedThrough ?? '') || 0);
    }
    const lagMs = Number(this.env.settings.CAPTURE_LAG_MINUTES ?? '0') * 60_000;
    const wait = through + MIN_WINDOW_MS + 1000 + lagMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Runs the ingest timer (by default once a new window can be planned) and waits until every source's target has moved to the tick. */
  async tick(opts: { newWindow?: boolean } = {}): Promise<void> {
    if (opts.newWindow !== false) await this.waitForNewWindow();
    const at = new Date(Date.now() - Number(this.env.settings.CAPTURE_LAG_MINUTES ?? '0') * 60_000).toISOString();
    const res = await fetch(`${this.process.url}/admin/functions/ingest`, {
      method: 'POST',
      headers: { 'x-functions-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: '{}',
    });
    if (res.status !== 202) throw new Error(`ingest timer: ${res.status} ${await res.text()}`);
    await this.until('the tick raised every target', async () => {
      for (const source of this.sources) {
        const c = await new CaptureWindows(this.storage, source).checkpoint();
        if (!c?.targetThrough || c.targetThrough < at) return false;
      }
      return true;
    });
  }

  async queueDepths(): Promise<Record<string, number>> {
    const names = Object.values(QUEUES).flatMap((q) => [q, poisonQueueOf(q)]);
    const depths = await Promise.all(
      names.map(async (n) => [n, (await this.storage.queue(n).getProperties()).approximateMessagesCount ?? 0] as const),
    );
    return Object.fromEntries(depths);
  }

  /** Every work queue empty on 4 checks in a row (a second apart in all). */
  async drain(timeoutMs = 120_000): Promise<void> {
    let quiet = 0;
    await this.until(
      'work queues drained',
      async () => {
        const depths = await this.queueDepths();
        quiet = Object.values(QUEUES).every((q) => depths[q] === 0) ? quiet + 1 : 0;
        return quiet >= 4;
      },
      timeoutMs,
    );
  }

  async until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs} ms\n${this.log.slice(-30).join('\n')}`);
      if (!this.process.running) throw new Error(`the host exited\n${this.log.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The RingCentralItemId of a message the Graph double holds. */
export function itemKeyOf(m: StoredMessage): string {
  return m.singleValueExtendedProperties.find((p) => p.id === ITEM_KEY_PROPERTY)?.value ?? '';
}

export function propertyOf(m: StoredMessage, id: string): string | undefined {
  return m.singleValueExtendedProperties.find((p) => p.id === id)?.value ?? undefined;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The bytes the RingCentral double serves for a message attachment. */
export function attachmentBytes(
  attachment: VoiceOrganisation['messages'][number]['attachments'][number],
): Promise<Buffer> {
  return bytesOf(attachmentContentStream(attachment));
}

/** The bytes the RingCentral double serves for a call recording. */
export function recordingBytes(
  recording: NonNullable<VoiceOrganisation['calls'][number]['recording']>,
): Promise<Buffer> {
  return bytesOf(recordingContentStream(recording));
}
