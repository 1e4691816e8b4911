import type { Client } from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import type { MailboxRef } from '../mailbox/mailbox-target';
import type { ExistingAttachment, MailboxAttachments } from '../mailbox/attachment-source';
import { ITEM_KEY_PROPERTY } from '../mailbox/mapi-properties';
import { timeoutSignal, translateGraphError } from '../mailbox/graph-client';
import { RetryLaterError } from '../errors';

/** One archive message as the mailbox holds it; `itemKey` is absent on messages the archiver did not write. */
export interface HeldMessage {
  id: string;
  itemKey?: string;
  hasAttachments?: boolean;
}

/** What a mailbox's archive folder holds for a time range. */
/** A half-open range of item time, [from, to), in whole seconds (Exchange keeps message times to the second). */
export interface ReconcileRange {
  from: Date;
  to: Date;
}

export interface MailboxInventory {
  heldIn(target: MailboxRef, range: ReconcileRange): Promise<HeldMessage[]>;
  /** The attachments one held message carries, with the identity each was created with. */
  attachmentsOf(target: MailboxRef, messageId: string): Promise<ExistingAttachment[]>;
}

// Big pages keep a day of a busy mailbox to one or two requests; Outlook allows $top up to 1000.
const PAGE_SIZE = 500;
const MAX_THROTTLE_WAITS = 8;
const MAX_WAIT_SECONDS = 60;

/**
 * Lists Inbox/<folder> newest first with the item-key property expanded: one request per page,
 * instead of one look-up per item. Pages are read one after another, so a mailbox never sees more
 * than one request from here (Outlook allows 4). Messages carry their original time as
 * receivedDateTime, so paging stops once it passes the start of the range.
 */
export class GraphMailboxInventory implements MailboxInventory {
  constructor(
    private readonly graph: Client,
    private readonly folderName: string,
    private readonly attachments: MailboxAttachments,
    private readonly sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async heldIn(target: MailboxRef, range: ReconcileRange): Promise<HeldMessage[]> {
    const user = encodeURIComponent(target.userId);
    const folders = await this.call<{ value: MicrosoftGraph.MailFolder[] }>('find archive folder', () =>
      this.graph
        .api(`/users/${user}/mailFolders/inbox/childFolders`)
        .filter(`displayName eq '${this.folderName.replace(/'/g, "''")}'`)
        .select('id')
        .options({ signal: timeoutSignal() })
        .get(),
    );
    const folderId = folders.value[0]?.id;
    if (!folderId) return [];

    const held: HeldMessage[] = [];
    let next: string | undefined =
      `/users/${user}/mailFolders/${encodeURIComponent(folderId)}/messages?$orderby=receivedDateTime desc&$top=${PAGE_SIZE}` +
      `&$select=id,receivedDateTime,hasAttachments&$expand=singleValueExtendedProperties($filter=id eq '${ITEM_KEY_PROPERTY}')`;
    while (next) {
      const url: string = next;
      const page = await this.call<{ value: MicrosoftGraph.Message[]; '@odata.nextLink'?: string }>(
        'list archive folder',
        () => this.graph.api(url).options({ signal: timeoutSignal() }).get(),
      );
      let passedStart = false;
      for (const m of page.value) {
        const at = Date.parse(m.receivedDateTime ?? '');
        if (at < range.from.getTime()) {
          passedStart = true;
          continue;
        }
        if (at >= range.to.getTime()) continue;
        const itemKey =
          m.singleValueExtendedProperties?.find((p) => p.id?.toLowerCase() === ITEM_KEY_PROPERTY.toLowerCase())
            ?.value ?? undefined;
        held.push({ id: m.id!, itemKey, hasAttachments: m.hasAttachments ?? undefined });
      }
      next = passedStart ? undefined : page['@odata.nextLink'];
    }
    return held;
  }

  async attachmentsOf(target: MailboxRef, messageId: string): Promise<ExistingAttachment[]> {
    return this.call('list attachments', () => this.attachments.list(target, messageId));
  }

  /** Throttling is waited out here, so a reconciliation step never restarts a mailbox's listing from its first page. */
  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    for (let waits = 0; ; waits++) {
      try {
        return await request();
      } catch (err) {
        const e = translateGraphError(err, what);
        if (!(e instanceof RetryLaterError) || waits >= MAX_THROTTLE_WAITS) throw e;
        await this.sleep(Math.min(e.delaySeconds, MAX_WAIT_SECONDS) * 1000);
      }
    }
  }
}
