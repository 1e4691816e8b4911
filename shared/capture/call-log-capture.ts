import type { CaptureWindows } from '../store/capture-windows';
import type { WorkQueues } from '../store/work-queues';
import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import type { ItemLedger, ItemRow } from '../store/item-ledger';
import { CONTAINERS, QUEUES } from '../store/names';
import { blobSegment } from '../store/keys';
import { rawBlobName } from '../store/blob-names';
import { itemKeyOf } from '../store/item-keys';
import type { RingCentralGateway } from '../ringcentral/ringcentral-api';
import { CALLS_FOLDER, validateCall, voiceVersionOf } from '../ringcentral/voice-records';
import type { ExtensionDirectory } from '../mapping/extension-directory';
import type { ConvertItemMessage, ExportWindowMessage } from '../pipeline/messages';
import type { WindowPlanner } from './window-planner';
import { PermissionMissingError } from '../errors';
import { recordRefusal } from './source-refusal';

/** RingCentral's largest call-log page. */
const PAGE_SIZE = 1000;
/**
 * The call log lists a call only once it has ended, under its start time. Each window therefore
 * reads this far back as well, and takes the calls it finds there that no window has captured:
 * a call up to this long (plus CAPTURE_LAG_MINUTES) is never missed.
 */
export const CALL_LOOKBACK_MS = 4 * 3_600_000;

export interface CallLogPageResult {
  calls: number;
  earlier: number;
  invalid: number;
  converts: number;
  nextPage: boolean;
  windowStored: boolean;
}

/**
 * Captures one calls window from the account call log (Detailed view), one page per invocation:
 * the page's records go to `raw/` write-once with their ledger rows and convert messages, then
 * the next page's link is saved and the window's message sent again. A crash re-reads one page.
 */
export class CallLogCapture {
  constructor(
    private readonly ringCentral: RingCentralGateway,
    private readonly blobs: ArchiveBlobs,
    private readonly items: ItemLedger,
    private readonly windows: CaptureWindows,
    private readonly queues: WorkQueues,
    private readonly errors: ErrorLog,
    private readonly planner: WindowPlanner,
    private readonly directory: ExtensionDirectory,
    private readonly captureStart: () => string,
  ) {}

  async handle(message: ExportWindowMessage): Promise<CallLogPageResult | 'done' | 'blocked'> {
    const window = await this.windows.get(message.windowId);
    if (!window) throw new Error(`unknown capture window ${message.windowId}`);
    if (window.status === 'stored') return 'done';
    const from = Date.parse(window.from);
    const readFrom = new Date(Math.max(from - CALL_LOOKBACK_MS, Date.parse(this.captureStart()))).toISOString();
    let page;
    try {
      await this.directory.refreshIfStale();
      page = await this.ringCentral.callLogPage(
        window.cursor
          ? { nextPageUri: window.cursor }
          : { dateFrom: readFrom, dateTo: new Date(Date.parse(window.to) - 1).toISOString(), perPage: PAGE_SIZE },
      );
      await this.windows.unblock();
    } catch (err) {
      if (!(err instanceof PermissionMissingError)) throw err;
      return recordRefusal(this.windows, this.errors, {
        stage: QUEUES.pollExport,
        windowId: window.windowId,
        error: err,
        consequence: 'calls capture waits until it is granted (tried again hourly)',
      });
    }

    const result: CallLogPageResult = {
      calls: 0,
      earlier: 0,
      invalid: 0,
      converts: 0,
      nextPage: false,
      windowStored: false,
    };
    const rows: ItemRow[] = [];
    const converts: ConvertItemMessage[] = [];
    const writes: Array<Promise<unknown>> = [];
    for (const [index, raw] of (page.records ?? []).entries()) {
      const checked = validateCall(raw);
      if (!checked.ok) {
        result.invalid++;
        writes.push(this.keepInvalid(raw, checked, window.windowId, `page-${page.paging?.page ?? 'next'}-${index}`));
        continue;
      }
      const call = checked.record;
      const version = voiceVersionOf(call.startTime);
      const itemKey = itemKeyOf('call', call.id, version);
      if (Date.parse(call.startTime) < from) {
        // Read again for the calls that had not ended; one an earlier window took is left alone.
        if (await this.items.get(itemKey, 'call')) continue;
        result.earlier++;
      } else result.calls++;
      const rawBlob = rawBlobName(CALLS_FOLDER, call.id, version);
      writes.push(this.blobs.putJsonOnce(CONTAINERS.raw, rawBlob, raw));
      rows.push({
        itemKey,
        kind: 'call',
        state: 'captured',
        sourceId: call.id,
        chatId: String(call.sessionId ?? call.telephonySessionId ?? call.id),
        itemTime: version,
        windowId: window.windowId,
        capturedAt: new Date().toISOString(),
      });
      converts.push({ itemKey, kind: 'call', folder: CALLS_FOLDER, rawBlob, windowId: window.windowId });
    }
    await Promise.all(writes);
    await this.items.recordMany(rows);
    await this.queues.sendAll(QUEUES.convert, converts);
    result.converts = converts.length;

    const next = page.navigation?.nextPage?.uri;
    if (next) {
      await this.windows.update(window.windowId, {
        status: 'exporting',
        cursor: next,
        records: (window.records ?? 0) + result.calls,
      });
      await this.queues.send(QUEUES.pollExport, { windowId: window.windowId } satisfies ExportWindowMessage);
      result.nextPage = true;
      return result;
    }
    await this.windows.update(window.windowId, { status: 'downloaded', datasets: 1, cursor: '' });
    result.windowStored = await this.planner.datasetStored(window.windowId, '(call log)', result.calls);
    return result;
  }

  private async keepInvalid(
    raw: unknown,
    checked: { id?: string; reason: string },
    windowId: string,
    position: string,
  ): Promise<void> {
    const where = `invalid/${blobSegment(windowId)}/${blobSegment(position)}.json`;
    await this.blobs.putJsonOnce(CONTAINERS.raw, where, {
      folder: CALLS_FOLDER,
      reason: checked.reason,
      record: raw ?? null,
    });
    const itemKey = `call:${checked.id ?? `${windowId}/${position}`}:invalid`;
    await this.errors.report({
      stage: QUEUES.pollExport,
      windowId,
      itemKey,
      reason: `malformed call-log record skipped (kept as raw/${where}): ${checked.reason}`,
    });
    await this.items.record({
      itemKey,
      kind: 'call',
      state: 'invalid',
      sourceId: checked.id,
      windowId,
      reason: checked.reason.slice(0, 1000),
    });
  }
}
