import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { badRequest, GraphHttpError, itemNotFound, type GraphCall, type GraphReply } from './http-types';
import { requireMailbox, type GraphContext } from './graph-context';
import { exchangeId, randomToken } from './ids';
import {
  childFolders,
  findFolder,
  messagesInFolder,
  type Mailbox,
  type StoredFolder,
  type StoredMessage,
} from './mailbox-state';
import { buildMessage, graphDate } from './message-rules';
import { listParam, messageView, parseOrBadRequest } from './message-view';
import { matchesFilter } from './odata-filter';
import { page } from './paging';
import type { PathParts } from './http-types';

export function getFolder(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const mailbox = requireMailbox(ctx, p.user);
  const folder = requireFolder(mailbox, p.folder);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users('${p.user}')/mailFolders/$entity`,
      ...folderView(mailbox, folder, call.query),
    },
  };
}

export function listChildFolders(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const mailbox = requireMailbox(ctx, p.user);
  const parent = p.folder === undefined ? mailbox.rootId : requireFolder(mailbox, p.folder).id;
  let views = childFolders(mailbox, parent).map((f) => folderView(mailbox, f, new URLSearchParams()));
  const filterText = call.query.get('$filter');
  if (filterText) {
    const filter = parseOrBadRequest(filterText);
    views = views.filter((v) => matchesFilter(filter, v));
  }
  const select = listParam(call.query.get('$select'));
  const paged = page(views, call.query, selfUrl(ctx, call), { defaultTop: 10, maxTop: 1000 });
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users('${p.user}')/mailFolders`,
      ...paged,
      value: paged.value.map((v) => (select ? pick(v as Record<string, unknown>, select) : v)),
    },
  };
}

export function createChildFolder(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const mailbox = requireMailbox(ctx, p.user);
  const parentId = p.folder === undefined ? mailbox.rootId : requireFolder(mailbox, p.folder).id;
  const input = jsonBody(call) as MicrosoftGraph.MailFolder;
  const displayName = typeof input.displayName === 'string' ? input.displayName.trim() : '';
  if (!displayName) throw badRequest('The folder display name is required.', 'ErrorInvalidRequest');
  const clash = childFolders(mailbox, parentId).some((f) => f.displayName.toLowerCase() === displayName.toLowerCase());
  if (clash) throw new GraphHttpError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  const folder: StoredFolder = { id: exchangeId('AQMkAD'), displayName, parentFolderId: parentId };
  mailbox.folders.set(folder.id, folder);
  return {
    status: 201,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users('${p.user}')/mailFolders/$entity`,
      ...folderView(mailbox, folder, new URLSearchParams()),
    },
  };
}

export function createMessage(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const mailbox = requireMailbox(ctx, p.user);
  // A create on /messages without a folder lands in Drafts, as in Exchange.
  const folder = requireFolder(mailbox, p.folder ?? 'drafts');
  const message = buildMessage(jsonBody(call), folder.id, ctx.now());
  const size = Buffer.byteLength(message.body?.content ?? '') + message.attachments.reduce((s, a) => s + a.size, 0);
  if (size > ctx.limits.maxMessageBytes) {
    throw new GraphHttpError(400, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
  }
  mailbox.messages.set(message.id, message);
  return {
    status: 201,
    body: { '@odata.context': messageContext(ctx, p), ...messageView(message, new URLSearchParams()) },
  };
}

export function listMessages(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const mailbox = requireMailbox(ctx, p.user);
  let messages =
    p.folder === undefined
      ? [...mailbox.messages.values()]
      : messagesInFolder(mailbox, requireFolder(mailbox, p.folder).id);
  const filterText = call.query.get('$filter');
  if (filterText) {
    const filter = parseOrBadRequest(filterText);
    messages = messages.filter((m) => matchesFilter(filter, m));
  }
  messages = sortMessages(messages, call.query.get('$orderby'));
  const paged = page(messages, call.query, selfUrl(ctx, call), { defaultTop: 10, maxTop: 1000 });
  return {
    status: 200,
    body: {
      '@odata.context': `${messageContext(ctx, p)}`,
      ...paged,
      value: paged.value.map((m) => messageView(m, call.query)),
    },
  };
}

export function getMessage(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const { mailbox, message } = requireMessage(ctx, p);
  void mailbox;
  return {
    status: 200,
    body: { '@odata.context': `${messageContext(ctx, p)}/$entity`, ...messageView(message, call.query) },
  };
}

// After the first save Exchange keeps these fixed unless the item is still a draft.
const DRAFT_ONLY = new Set([
  'subject',
  'body',
  'internetmessageid',
  'torecipients',
  'ccrecipients',
  'bccrecipients',
  'from',
  'sender',
  'replyto',
  'internetmessageheaders',
]);
const ALWAYS_UPDATABLE = new Set([
  'isread',
  'categories',
  'flag',
  'importance',
  'inferenceclassification',
  'singlevalueextendedproperties',
  'isdeliveryreceiptrequested',
  'isreadreceiptrequested',
]);

export function updateMessage(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const { message } = requireMessage(ctx, p);
  const patch = jsonBody(call) as Record<string, unknown>;
  for (const key of Object.keys(patch)) {
    const lower = key.toLowerCase();
    if (DRAFT_ONLY.has(lower)) {
      if (!message.isDraft) {
        throw new GraphHttpError(
          400,
          'ErrorInvalidPropertyUpdateSentMessage',
          `Update is not allowed for property '${key}' on a sent message.`,
        );
      }
    } else if (!ALWAYS_UPDATABLE.has(lower)) {
      throw badRequest(`The property '${key}' cannot be updated.`, 'ErrorInvalidPropertySet');
    }
  }
  const merged = buildMessage(
    { ...storedAsInput(message), ...patch, singleValueExtendedProperties: upsertProperties(message, patch) },
    message.parentFolderId,
    ctx.now(),
  );
  // PidTagMessageFlags is read-only after the first save: the draft state never changes.
  Object.assign(message, {
    ...pickKeys(merged, Object.keys(patch)),
    isDraft: message.isDraft,
    lastModifiedDateTime: graphDate(ctx.now()),
    changeKey: randomToken(12),
  });
  const isReadKey = Object.keys(patch).find((k) => k.toLowerCase() === 'isread');
  if (isReadKey) setReadFlag(message, patch[isReadKey] === true);
  return {
    status: 200,
    body: { '@odata.context': `${messageContext(ctx, p)}/$entity`, ...messageView(message, new URLSearchParams()) },
  };
}

export function deleteMessage(ctx: GraphContext, _call: GraphCall, p: PathParts): GraphReply {
  const { mailbox, message } = requireMessage(ctx, p);
  const deletedItems = findFolder(mailbox, 'deleteditems')!;
  if (message.parentFolderId === deletedItems.id) mailbox.messages.delete(message.id);
  else message.parentFolderId = deletedItems.id;
  return { status: 204 };
}

export function requireMessage(ctx: GraphContext, p: PathParts): { mailbox: Mailbox; message: StoredMessage } {
  const mailbox = requireMailbox(ctx, p.user);
  if (p.folder !== undefined) requireFolder(mailbox, p.folder);
  const message = mailbox.messages.get(p.message ?? '');
  if (!message) throw itemNotFound();
  if (p.folder !== undefined && message.parentFolderId !== findFolder(mailbox, p.folder)?.id) throw itemNotFound();
  return { mailbox, message };
}

function requireFolder(mailbox: Mailbox, ref: string | undefined): StoredFolder {
  const folder = ref === undefined ? undefined : findFolder(mailbox, ref);
  if (!folder) throw itemNotFound();
  return folder;
}

function folderView(mailbox: Mailbox, folder: StoredFolder, query: URLSearchParams): MicrosoftGraph.MailFolder {
  const messages = messagesInFolder(mailbox, folder.id);
  const view: MicrosoftGraph.MailFolder = {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: childFolders(mailbox, folder.id).length,
    unreadItemCount: messages.filter((m) => !m.isRead).length,
    totalItemCount: messages.length,
    isHidden: false,
  };
  const select = listParam(query.get('$select'));
  return select ? (pick(view as Record<string, unknown>, select) as MicrosoftGraph.MailFolder) : view;
}

function sortMessages(messages: StoredMessage[], orderBy: string | null): StoredMessage[] {
  const [field = 'receivedDateTime', direction = 'desc'] = (orderBy ?? 'receivedDateTime desc').trim().split(/\s+/);
  const key = field.toLowerCase();
  const allowed: Record<string, keyof StoredMessage> = {
    receiveddatetime: 'receivedDateTime',
    sentdatetime: 'sentDateTime',
    createddatetime: 'createdDateTime',
    lastmodifieddatetime: 'lastModifiedDateTime',
    subject: 'subject',
  };
  const property = allowed[key];
  if (!property) throw badRequest(`The $orderby property '${field}' is not supported by the double.`);
  const sign = direction.toLowerCase() === 'asc' ? 1 : -1;
  // Insertion order breaks ties, newest first for desc.
  return messages
    .map((m, index) => ({ m, index }))
    .sort((a, b) => {
      const av = String(a.m[property] ?? '');
      const bv = String(b.m[property] ?? '');
      return (av < bv ? -1 : av > bv ? 1 : a.index - b.index) * sign;
    })
    .map(({ m }) => m);
}

function messageContext(ctx: GraphContext, p: PathParts): string {
  return `${ctx.graphBaseUrl}/v1.0/$metadata#users('${p.user}')/${p.folder !== undefined ? `mailFolders('${p.folder}')/` : ''}messages`;
}

function selfUrl(ctx: GraphContext, call: GraphCall): string {
  return `${ctx.graphBaseUrl}/v1.0/${call.segments.map(encodeURIComponent).join('/')}`;
}

export function jsonBody(call: GraphCall): unknown {
  const text = call.body.toString('utf8');
  if (!text.trim()) throw badRequest('Empty Payload. JSON content expected.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
}

export function pick(record: Record<string, unknown>, keys: Set<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k === 'id' || keys.has(k.toLowerCase())));
}

function pickKeys(record: object, keys: string[]): Record<string, unknown> {
  const wanted = new Set(keys.map((k) => k.toLowerCase()));
  return Object.fromEntries(Object.entries(record).filter(([k]) => wanted.has(k.toLowerCase())));
}

/** isRead is the mfRead bit of PidTagMessageFlags, so both move together. */
function setReadFlag(message: StoredMessage, isRead: boolean): void {
  message.isRead = isRead;
  const flags = message.singleValueExtendedProperties.find(
    (p) => p.id?.toLowerCase().replace(/\s+/g, ' ') === 'integer 0x0e07',
  );
  if (flags) flags.value = String((Number.parseInt(flags.value ?? '0', 10) & ~1) | (isRead ? 1 : 0));
}

/** PATCH adds or replaces the extended properties it names and keeps the others. */
function upsertProperties(
  message: StoredMessage,
  patch: Record<string, unknown>,
): MicrosoftGraph.SingleValueLegacyExtendedProperty[] {
  const key = Object.keys(patch).find((k) => k.toLowerCase() === 'singlevalueextendedproperties');
  const updates = key ? ((patch[key] as MicrosoftGraph.SingleValueLegacyExtendedProperty[] | null) ?? []) : [];
  if (!Array.isArray(updates)) return message.singleValueExtendedProperties;
  const names = new Set(updates.map((u) => u.id?.toLowerCase()));
  return [...message.singleValueExtendedProperties.filter((p) => !names.has(p.id?.toLowerCase())), ...updates];
}

function storedAsInput(message: StoredMessage): Record<string, unknown> {
  const { attachments: _attachments, ...rest } = message;
  return rest;
}
