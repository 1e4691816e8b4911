import { createHash } from 'node:crypto';
import type { ArchiveMessage } from '../archive/archive-message';
import { messageClassOf } from '../archive/render-frame';

// The recipe for a non-draft, dated item (platform-facts.md): MAPI properties set in the
// create request itself, because mfUnsent can only be cleared when an item is first saved.
export const PROPERTY_SET = '{d86c0d2e-fa0c-4977-8226-b1e5eafeac90}';
export const ITEM_KEY_PROPERTY = `String ${PROPERTY_SET} Name RingCentralItemId`;
const MSGFLAG_READ = 1;

export interface ExtendedProperty {
  id: string;
  value: string;
}

export function extendedPropertiesFor(message: ArchiveMessage): ExtendedProperty[] {
  return [
    { id: 'Integer 0x0E07', value: String(MSGFLAG_READ) },
    { id: 'SystemTime 0x0E06', value: message.sentAt },
    { id: 'SystemTime 0x0039', value: message.sentAt },
    { id: 'String 0x001A', value: messageClassOf(message.kind) },
    { id: ITEM_KEY_PROPERTY, value: message.itemKey },
    { id: `String ${PROPERTY_SET} Name RingCentralChatId`, value: message.source.chatId },
    { id: `String ${PROPERTY_SET} Name RingCentralRecordId`, value: message.source.itemId },
    { id: `String ${PROPERTY_SET} Name RingCentralVersion`, value: message.source.version },
    ...(message.source.accountId
      ? [{ id: `String ${PROPERTY_SET} Name RingCentralAccountId`, value: message.source.accountId }]
      : []),
    // Voice and messaging ids, only when the item has them (Graph allows at most 100 extended properties).
    ...optionalId('RingCentralExtensionId', message.source.extensionId),
    ...optionalId('RingCentralSessionId', message.source.sessionId),
    ...optionalId('RingCentralConversationId', message.source.conversationId),
    { id: 'String 0x0070', value: message.conversation.topic },
    { id: 'Binary 0x0071', value: conversationIndex(message.conversation.chatId, message.sentAt) },
  ];
}

function optionalId(name: string, value: string | undefined): ExtendedProperty[] {
  return value ? [{ id: `String ${PROPERTY_SET} Name ${name}`, value }] : [];
}

/**
 * PidTagConversationIndex: [1 reserved byte][5-byte FILETIME][16-byte GUID]. A GUID derived
 * from the chat id puts every message of a chat into one Outlook conversation. Unverified
 * against a live tenant (see README); it is kept behind this one function.
 */
export function conversationIndex(chatId: string, time: string): string {
  const guid = createHash('sha256').update(`ringcentral-chat:${chatId}`).digest().subarray(0, 16);
  const filetime = (BigInt(Date.parse(time)) + 11_644_473_600_000n) * 10_000n;
  const header = Buffer.alloc(6);
  header[0] = 1;
  // The 5 bytes are the high-order bytes of the 8-byte FILETIME.
  const ft = Buffer.alloc(8);
  ft.writeBigUInt64BE(filetime);
  ft.copy(header, 1, 0, 5);
  return Buffer.concat([header, guid]).toString('base64');
}
