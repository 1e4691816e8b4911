// What convert produces and deliver consumes: one email-shaped record per item version,
// independent of the mailbox target (Graph or an .eml folder).

export interface Address { name: string; address: string }

export interface ArchiveMessage {
  itemKey: string;
  kind: 'post';
  source: { accountId?: string; chatId: string; itemId: string; version: string };
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
}
