/**
 * What Exchange does with a JSON message create, as far as an importer can observe it:
 * - the item is a draft unless PidTagMessageFlags (Integer 0x0E07) is given without mfUnsent (0x8);
 *   isDraft itself is read-only and ignored;
 * - receivedDateTime / sentDateTime are read-only; only PidTagMessageDeliveryTime (SystemTime 0x0E06)
 *   and PidTagClientSubmitTime (SystemTime 0x0039) set them;
 * - internetMessageHeaders accepts only X- headers;
 * - unknown properties are rejected, as Graph's OData reader does.
 */
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { createHash } from 'node:crypto';
import { badRequest, GraphHttpError } from './http-types';
import { exchangeId, randomToken } from './ids';
import type { StoredAttachment, StoredMessage } from './mailbox-state';

const MF_READ = 0x1;
const MF_UNSENT = 0x8;

const WRITABLE = new Set(
  [
    'bccRecipients',
    'body',
    'categories',
    'ccRecipients',
    'flag',
    'from',
    'importance',
    'inferenceClassification',
    'internetMessageHeaders',
    'internetMessageId',
    'isDeliveryReceiptRequested',
    'isRead',
    'isReadReceiptRequested',
    'replyTo',
    'sender',
    'subject',
    'toRecipients',
    'singleValueExtendedProperties',
    'multiValueExtendedProperties',
    'attachments',
    'uniqueBody',
    'extensions',
  ].map((k) => k.toLowerCase()),
);
// Read-only properties Graph accepts in a create body and silently ignores.
const IGNORED = new Set(
  [
    'id',
    'createdDateTime',
    'lastModifiedDateTime',
    'changeKey',
    'receivedDateTime',
    'sentDateTime',
    'hasAttachments',
    'parentFolderId',
    'conversationId',
    'conversationIndex',
    'isDraft',
    'webLink',
    'bodyPreview',
  ].map((k) => k.toLowerCase()),
);

const PROPERTY_ID =
  /^(Binary|Boolean|Currency|CLSID|Double|Float|Integer|Long|Object|Short|SystemTime|String|ApplicationTime)\s+(0x[0-9a-f]{4}|\{[0-9a-f-]{36}\}\s+(Name\s+\S.*|Id\s+0x[0-9a-f]+))$/i;

export function buildMessage(input: unknown, folderId: string, now: Date): StoredMessage {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest('Empty Payload. JSON content expected.');
  }
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    const lower = key.toLowerCase();
    if (key.startsWith('@odata.') || key.includes('@odata.')) continue;
    if (!WRITABLE.has(lower) && !IGNORED.has(lower)) {
      throw badRequest(
        `The property '${key}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
        'RequestBodyRead',
      );
    }
  }
  const message = body as MicrosoftGraph.Message;
  const extendedProperties = validateExtendedProperties(message.singleValueExtendedProperties);
  const headers = validateHeaders(message.internetMessageHeaders);

  const flags = integerProperty(extendedProperties, 'Integer 0x0E07');
  const isDraft = flags === undefined || (flags & MF_UNSENT) !== 0;
  const nowIso = graphDate(now);
  const received = timeProperty(extendedProperties, 'SystemTime 0x0E06') ?? nowIso;
  const sent = timeProperty(extendedProperties, 'SystemTime 0x0039') ?? nowIso;
  const conversationIndex = stringProperty(extendedProperties, 'Binary 0x0071');
  const id = exchangeId('AAMkAG');
  const attachments = (message.attachments ?? []).map((a) => buildFileAttachment(a, now));

  return {
    id,
    createdDateTime: nowIso,
    lastModifiedDateTime: nowIso,
    changeKey: randomToken(12),
    categories: message.categories ?? [],
    receivedDateTime: received,
    sentDateTime: sent,
    hasAttachments: attachments.some((a) => !a.isInline),
    internetMessageId: message.internetMessageId ?? `<${randomToken(16)}@double.graph.local>`,
    subject: message.subject ?? '',
    bodyPreview: preview(message.body?.content ?? ''),
    importance: message.importance ?? 'normal',
    parentFolderId: folderId,
    conversationId: conversationIdFrom(conversationIndex) ?? exchangeId('AAMkAA'),
    conversationIndex: conversationIndex ?? null,
    isDeliveryReceiptRequested: message.isDeliveryReceiptRequested ?? false,
    isReadReceiptRequested: message.isReadReceiptRequested ?? false,
    isRead: flags !== undefined ? (flags & MF_READ) !== 0 : (message.isRead ?? true),
    isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: message.inferenceClassification ?? 'focused',
    body: { contentType: message.body?.contentType ?? 'text', content: message.body?.content ?? '' },
    sender: message.sender ?? message.from ?? null,
    from: message.from ?? null,
    toRecipients: message.toRecipients ?? [],
    ccRecipients: message.ccRecipients ?? [],
    bccRecipients: message.bccRecipients ?? [],
    replyTo: message.replyTo ?? [],
    flag: message.flag ?? { flagStatus: 'notFlagged' },
    singleValueExtendedProperties: extendedProperties,
    internetMessageHeaders: headers,
    attachments,
  };
}

/** Validates a fileAttachment from a POST body or an inline create. */
export function buildFileAttachment(input: unknown, now: Date): StoredAttachment {
  const attachment = (input ?? {}) as MicrosoftGraph.FileAttachment & { '@odata.type'?: string };
  const type = attachment['@odata.type'];
  if (type === undefined) {
    throw badRequest("The property '@odata.type' is required for attachments.", 'ErrorInvalidRequest');
  }
  if (type.replace(/^#/, '').toLowerCase() !== 'microsoft.graph.fileattachment') {
    throw badRequest(`The double supports only fileAttachment, not '${type}'.`, 'ErrorInvalidRequest');
  }
  if (!attachment.name) throw badRequest('The attachment name is required.', 'ErrorInvalidRequest');
  if (typeof attachment.contentBytes !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(attachment.contentBytes)) {
    throw badRequest('contentBytes must be base64.', 'ErrorInvalidRequest');
  }
  const bytes = Buffer.from(attachment.contentBytes, 'base64');
  return {
    id: exchangeId('AAMkAA'),
    name: attachment.name,
    contentType: attachment.contentType ?? 'application/octet-stream',
    size: bytes.length,
    isInline: attachment.isInline ?? false,
    contentId: attachment.contentId ?? null,
    lastModifiedDateTime: graphDate(now),
    via: 'post',
    bytes,
  };
}

function validateExtendedProperties(input: unknown): MicrosoftGraph.SingleValueLegacyExtendedProperty[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw badRequest('singleValueExtendedProperties must be a collection.', 'RequestBodyRead');
  const seen = new Set<string>();
  return input.map((p: MicrosoftGraph.SingleValueLegacyExtendedProperty) => {
    const id = typeof p?.id === 'string' ? p.id.trim() : '';
    const match = PROPERTY_ID.exec(id);
    if (!match) throw badRequest(`The extended property id '${id}' is not valid.`, 'ErrorInvalidProperty');
    if (typeof p.value !== 'string') {
      throw badRequest(`The value of extended property '${id}' must be a string.`, 'ErrorInvalidExtendedPropertyValue');
    }
    const type = match[1]!.toLowerCase();
    if ((type === 'integer' || type === 'short' || type === 'long') && !/^-?\d+$/.test(p.value)) {
      throw badRequest(`The value '${p.value}' is not valid for '${id}'.`, 'ErrorInvalidExtendedPropertyValue');
    }
    if (type === 'systemtime' && Number.isNaN(Date.parse(p.value))) {
      throw badRequest(`The value '${p.value}' is not valid for '${id}'.`, 'ErrorInvalidExtendedPropertyValue');
    }
    const key = id.toLowerCase().replace(/\s+/g, ' ');
    if (seen.has(key)) throw badRequest(`The extended property '${id}' is set twice.`, 'ErrorInvalidProperty');
    seen.add(key);
    return { id, value: p.value };
  });
}

function validateHeaders(input: unknown): MicrosoftGraph.InternetMessageHeader[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw badRequest('internetMessageHeaders must be a collection.', 'RequestBodyRead');
  return input.map((h: MicrosoftGraph.InternetMessageHeader) => {
    const name = h?.name ?? '';
    if (!/^x-/i.test(name)) {
      throw new GraphHttpError(
        400,
        'InvalidInternetMessageHeader',
        `The internet message header name '${name}' should start with 'x-' or 'X-'.`,
      );
    }
    return { name, value: h.value ?? '' };
  });
}

function findProperty(props: MicrosoftGraph.SingleValueLegacyExtendedProperty[], id: string): string | undefined {
  const wanted = id.toLowerCase();
  return props.find((p) => p.id?.toLowerCase().replace(/\s+/g, ' ') === wanted)?.value ?? undefined;
}

function integerProperty(props: MicrosoftGraph.SingleValueLegacyExtendedProperty[], id: string): number | undefined {
  const value = findProperty(props, id);
  return value === undefined ? undefined : Number.parseInt(value, 10);
}

function timeProperty(props: MicrosoftGraph.SingleValueLegacyExtendedProperty[], id: string): string | undefined {
  const value = findProperty(props, id);
  return value === undefined ? undefined : graphDate(new Date(value));
}

function stringProperty(props: MicrosoftGraph.SingleValueLegacyExtendedProperty[], id: string): string | undefined {
  return findProperty(props, id);
}

/** Exchange groups a conversation by the GUID inside PidTagConversationIndex (bytes 6-21). */
function conversationIdFrom(conversationIndexBase64: string | undefined): string | undefined {
  if (!conversationIndexBase64) return undefined;
  const bytes = Buffer.from(conversationIndexBase64, 'base64');
  if (bytes.length < 22) return undefined;
  const digest = createHash('sha256').update(bytes.subarray(6, 22)).digest('base64url');
  return `AAQkAG${digest}=`;
}

/** Graph returns times in UTC without fractional seconds. */
export function graphDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function preview(content: string): string {
  return content
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 255);
}
