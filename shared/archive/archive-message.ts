// What convert produces and deliver consumes: one email-shaped record per item version,
// independent of the mailbox target (Graph or an .eml folder).
import type { ItemKind } from '../store/item-keys';

export interface Address {
  name: string;
  address: string;
}

/** A captured file that travels with the message. */
export interface ArchiveAttachment {
  fileId: string;
  name: string;
  size: number;
  contentType: string;
  blob: string;
  sha256: string;
}

/** A file that does not travel with the message (too large, or gone), and where it is instead. */
export interface FileNotice {
  fileId: string;
  name: string;
  size?: number;
  sha256?: string;
  location?: string;
  reason: string;
}

export interface ArchiveMessage {
  itemKey: string;
  kind: ItemKind;
  source: {
    accountId?: string;
    chatId: string;
    itemId: string;
    version: string;
    folder?: string;
    /** Voice and messaging: the extension whose message store (or call log record) holds the item. */
    extensionId?: string;
    /** Calls: the call's session id (sessionId, else telephonySessionId). */
    sessionId?: string;
    /** SMS and pager: RingCentral's conversation id (conversationId, else conversation.id). */
    conversationId?: string;
  };
  /** The earlier version of the same item, when this one is an edit or a deletion. */
  previousItemKey?: string;
  change: 'new' | 'edited' | 'deleted';
  subject: string;
  from: Address;
  to: Address[];
  cc: Address[];
  /** Original creation time: used as both sent and received time in the mailbox. */
  sentAt: string;
  html: string;
  text: string;
  /** One Outlook conversation per chat. */
  conversation: { topic: string; chatId: string };
  /** X-RingCentral-* headers; ids only, never content. */
  headers: Record<string, string>;
  attachments: ArchiveAttachment[];
  notices: FileNotice[];
}
