import type { StorageAccount } from '../store/storage-account';
import type { CaptureWindows } from '../store/capture-windows';
import { isVoiceKind } from '../store/item-keys';
import { CALLS_FOLDER, MESSAGES_FOLDER } from '../ringcentral/voice-records';
import type { ItemRow } from '../store/item-ledger';
import type { DeliveryRow } from '../store/delivery-ledger';
import type { ErrorEntry } from '../store/error-log';
import { CONTAINERS, TABLES, type ContainerName } from '../store/names';
import { odata, tableKey } from '../store/keys';
import { rawBlobName, messageBlobName } from '../store/blob-names';
import type { ExportFolder } from '../ringcentral/export-records';
import type { LedgerScan } from './ledger-scan';
import { BadRequestError } from './http-input';
import { isNotFound } from '../store/storage-errors';

export interface BlobFact {
  container: string;
  name: string;
  exists: boolean;
  createdAt?: string;
  size?: number;
}
export interface TraceEvent {
  at: string;
  stage: string;
  detail: string;
}

export interface ItemVersionTrace {
  itemKey: string;
  kind: string;
  sourceId?: string;
  version?: string;
  chatId?: string;
  itemTime?: string;
  state: string;
  reason?: string;
  window?: { windowId: string; from?: string; to?: string; storedAt?: string };
  blobs: BlobFact[];
  deliveries: Array<
    Pick<DeliveryRow, 'mailbox' | 'status' | 'graphMessageId' | 'deliveredAt' | 'attempts' | 'reason' | 'size'>
  >;
  errors: ErrorEntry[];
  /** Every dated step, oldest first: captured, stored, converted, delivered per mailbox, errors. */
  timeline: TraceEvent[];
}

export interface ItemTrace {
  id: string;
  versions: ItemVersionTrace[];
}

const ITEM_KEY = /^([a-z]+):([^:]+):(.+)$/;

/** Parses `<kind>:<source id>:<version>` or a bare source id; anything else is a 400. */
export function parseItemId(id: string): { itemKey: string } | { sourceId: string } {
  if (!id || id.length > 512 || /[\u0000-\u001f\u007f]/.test(id))
    throw new BadRequestError(
      'item id must be 1-512 printable characters: an item key (post:<id>:<version>) or a RingCentral id',
    );
  if (!id.includes(':')) return { sourceId: id };
  const m = ITEM_KEY.exec(id);
  if (!m || Number.isNaN(Date.parse(m[3]!)))
    throw new BadRequestError(
      'an item key is <kind>:<RingCentral id>:<version time>, e.g. post:123:2025-01-31T08:00:00.000Z',
    );
  return { itemKey: id };
}

/** The raw folder an item's record is kept in: the export folder for chats, messages/ or calls/ for voice. */
function rawFolderOf(kind: string): string {
  if (!isVoiceKind(kind)) return `${kind}s` as ExportFolder;
  return kind === 'call' ? CALLS_FOLDER : MESSAGES_FOLDER;
}

/** The whole path of one item (or every version of a RingCentral id) through the pipeline, read from storage. */
export class ItemTracer {
  constructor(
    private readonly account: StorageAccount,
    private readonly scan: LedgerScan,
    private readonly windowsOf: (windowId: string) => CaptureWindows,
  ) {}

  /** undefined when nothing is known about the id. */
  async trace(id: string): Promise<ItemTrace | undefined> {
    const parsed = parseItemId(id);
    const rows: ItemRow[] = [];
    const filter =
      'itemKey' in parsed ? `RowKey eq ${odata(tableKey(parsed.itemKey))}` : `sourceId eq ${odata(parsed.sourceId)}`;
    for await (const row of this.scan.items(filter)) rows.push(row);
    if ('itemKey' in parsed && rows.length === 0) {
      // The ledger may have lost the item row; deliveries still name it.
      for await (const d of this.scan.deliveries({ itemKey: parsed.itemKey })) {
        rows.push({
          itemKey: d.itemKey,
          kind: d.kind ?? parsed.itemKey.split(':')[0]!,
          state: 'captured',
          chatId: d.chatId,
          itemTime: d.itemTime,
        });
        break;
      }
    }
    if (rows.length === 0) return undefined;
    rows.sort((a, b) => a.itemKey.localeCompare(b.itemKey));
    return { id, versions: await Promise.all(rows.map((row) => this.version(row))) };
  }

  private async version(item: ItemRow): Promise<ItemVersionTrace> {
    const [kind, sourceId, ...rest] = item.itemKey.split(':');
    const version = rest.length ? rest.join(':') : undefined;
    const valid = item.state !== 'invalid' && version !== undefined;
    const folder = rawFolderOf(item.kind || kind!);
    const [window, blobs, deliveries, errors] = await Promise.all([
      item.windowId ? this.windowsOf(item.windowId).get(item.windowId) : Promise.resolve(undefined),
      valid
        ? Promise.all([
            this.blobFact(CONTAINERS.raw, rawBlobName(folder, item.sourceId ?? sourceId!, version!)),
            this.blobFact(CONTAINERS.messages, messageBlobName(item.itemKey)),
            this.blobFact(CONTAINERS.messages, messageBlobName(item.itemKey, 'eml')),
          ])
        : Promise.resolve([] as BlobFact[]),
      this.deliveriesOf(item.itemKey),
      this.errorsOf(item),
    ]);

    const timeline: TraceEvent[] = [];
    const add = (at: string | undefined, stage: string, detail: string) => {
      if (at) timeline.push({ at, stage, detail });
    };
    add(item.itemTime, 'created', `created in RingCentral${item.chatId ? ` in chat ${item.chatId}` : ''}`);
    if (window) add(window.storedAt, 'window stored', `capture window ${window.from} .. ${window.to} stored`);
    add(item.capturedAt, 'captured', `unpacked from window ${item.windowId ?? '?'}`);
    for (const b of blobs) add(b.createdAt, 'blob written', `${b.container}/${b.name} (${b.size ?? 0} bytes)`);
    add(item.convertedAt, 'converted', `archive message built; ${item.recipients ?? 0} mailbox(es) queued`);
    for (const d of deliveries) {
      if (d.status === 'delivered') add(d.deliveredAt, 'delivered', `into ${d.mailbox} as ${d.graphMessageId ?? '?'}`);
    }
    for (const e of errors) add(e.at, `error in ${e.stage}`, `${e.mailbox ? `${e.mailbox}: ` : ''}${e.reason}`);
    timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

    return {
      itemKey: item.itemKey,
      kind: item.kind,
      sourceId: item.sourceId ?? sourceId,
      version,
      chatId: item.chatId,
      itemTime: item.itemTime,
      state: item.state,
      reason: item.reason,
      window: item.windowId
        ? { windowId: item.windowId, from: window?.from, to: window?.to, storedAt: window?.storedAt }
        : undefined,
      blobs,
      deliveries,
      errors,
      timeline,
    };
  }

  private async deliveriesOf(itemKey: string): Promise<ItemVersionTrace['deliveries']> {
    const out: ItemVersionTrace['deliveries'] = [];
    for await (const d of this.scan.deliveries({ itemKey })) {
      out.push({
        mailbox: d.mailbox,
        status: d.status,
        graphMessageId: d.graphMessageId || undefined,
        deliveredAt: d.deliveredAt,
        attempts: d.attempts,
        reason: d.reason || undefined,
        size: d.size,
      });
    }
    return out.sort((a, b) => a.mailbox.localeCompare(b.mailbox));
  }

  private async errorsOf(item: ItemRow): Promise<ErrorEntry[]> {
    // Unpack reports a malformed record as <folder>:<id>, since it has no version.
    const keys = [item.itemKey, ...(item.sourceId ? [`${item.kind}s:${item.sourceId}`] : [])];
    const filter = [...new Set(keys)].map((k) => `itemKey eq ${odata(k)}`).join(' or ');
    const out: ErrorEntry[] = [];
    for await (const e of this.account.table(TABLES.errors).listEntities<ErrorEntry>({ queryOptions: { filter } })) {
      out.push({
        stage: e.stage,
        reason: e.reason,
        itemKey: e.itemKey,
        windowId: e.windowId,
        mailbox: e.mailbox,
        at: e.at,
      });
      if (out.length >= 100) break;
    }
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }

  private async blobFact(container: ContainerName, name: string): Promise<BlobFact> {
    try {
      const props = await this.account.container(container).getBlockBlobClient(name).getProperties();
      return { container, name, exists: true, createdAt: props.createdOn?.toISOString(), size: props.contentLength };
    } catch (err) {
      if (isNotFound(err)) return { container, name, exists: false };
      throw err;
    }
  }
}
