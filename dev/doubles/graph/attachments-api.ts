import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { badRequest, GraphHttpError, itemNotFound, type GraphCall, type GraphReply } from './http-types';
import type { GraphContext } from './graph-context';
import { jsonBody, pick, requireMessage } from './mail-api';
import { messageSize, type StoredMessage } from './mailbox-state';
import { buildFileAttachment } from './message-rules';
import { attachmentView, listParam } from './message-view';
import type { PathParts } from './http-types';
import { uploadUrlFor } from './upload-sessions';

const MB = 1024 * 1024;
const POST_ATTACHMENT_MAX_BYTES = 3 * MB;
// The docs say 3 MB; the service accepts sessions from 2 MiB (msgraph-sdk-java#52), which lets a
// file just under 3 MB whose base64 POST would pass the 4 MB request cap use a session.
const UPLOAD_SESSION_MIN_BYTES = 2 * MB;
const UPLOAD_SESSION_MAX_BYTES = 150 * MB;

export function addAttachment(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const { message } = requireMessage(ctx, p);
  const attachment = buildFileAttachment(jsonBody(call), ctx.now());
  if (attachment.size > POST_ATTACHMENT_MAX_BYTES) {
    throw new GraphHttpError(413, 'BadRequest', 'The maximum request length supported is 4MB.');
  }
  ensureFits(ctx, message, attachment.size);
  message.attachments.push(attachment);
  if (!attachment.isInline) message.hasAttachments = true;
  return {
    status: 201,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users('${p.user}')/messages('${message.id}')/attachments/$entity`,
      ...attachmentView(attachment, true),
    },
  };
}

export function listAttachments(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const { message } = requireMessage(ctx, p);
  // As in Graph, $select keeps contentBytes out of the listing. Graph promises no order either, so
  // the double lists the largest first rather than in the order they were added.
  const select = attachmentSelect(call.query.get('$select'));
  const listed = [...message.attachments].sort((a, b) => b.size - a.size);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users('${p.user}')/messages('${message.id}')/attachments`,
      value: listed.map((a) => (select ? pick(attachmentView(a, true), select) : attachmentView(a, true))),
    },
  };
}

// The properties of the base type microsoft.graph.attachment. A collection of attachments is of the
// base type, so Graph refuses a $select of a fileAttachment property (contentId, contentBytes…)
// with RequestBroker--ParseUri unless it is qualified with the derived type, as OData allows:
// $select=microsoft.graph.fileAttachment/contentId (microsoft-graph-explorer-v4#3916).
const ATTACHMENT_PROPERTIES = new Set(['id', 'name', 'contenttype', 'size', 'isinline', 'lastmodifieddatetime']);
const FILE_ATTACHMENT_CAST = 'microsoft.graph.fileattachment/';

function attachmentSelect(value: string | null): Set<string> | undefined {
  const requested = listParam(value);
  if (!requested) return undefined;
  const select = new Set<string>();
  for (const name of requested) {
    if (name.startsWith(FILE_ATTACHMENT_CAST)) select.add(name.slice(FILE_ATTACHMENT_CAST.length));
    else if (ATTACHMENT_PROPERTIES.has(name)) select.add(name);
    else
      throw badRequest(
        `Could not find a property named '${name}' on type 'microsoft.graph.attachment'.`,
        'RequestBroker--ParseUri',
      );
  }
  return select;
}

export function getAttachment(ctx: GraphContext, _call: GraphCall, p: PathParts): GraphReply {
  const attachment = requireAttachment(ctx, p);
  return { status: 200, body: attachmentView(attachment, true) };
}

export function attachmentValue(ctx: GraphContext, _call: GraphCall, p: PathParts): GraphReply {
  const attachment = requireAttachment(ctx, p);
  return { status: 200, headers: { 'Content-Type': attachment.contentType }, body: attachment.bytes };
}

export function deleteAttachment(ctx: GraphContext, _call: GraphCall, p: PathParts): GraphReply {
  const { message } = requireMessage(ctx, p);
  const before = message.attachments.length;
  message.attachments = message.attachments.filter((a) => a.id !== p.attachment);
  if (message.attachments.length === before) throw itemNotFound();
  message.hasAttachments = message.attachments.some((a) => !a.isInline);
  return { status: 204 };
}

export function createUploadSession(ctx: GraphContext, call: GraphCall, p: PathParts): GraphReply {
  const { message } = requireMessage(ctx, p);
  const body = jsonBody(call) as Record<string, unknown>;
  const itemKey = Object.keys(body).find((k) => k.toLowerCase() === 'attachmentitem');
  const item = (itemKey ? body[itemKey] : undefined) as MicrosoftGraph.AttachmentItem | undefined;
  if (!item || typeof item !== 'object')
    throw badRequest("The parameter 'AttachmentItem' is required.", 'ErrorInvalidRequest');
  if (item.attachmentType !== 'file')
    throw badRequest('Only file attachments can be uploaded in a session.', 'ErrorInvalidRequest');
  if (!item.name) throw badRequest('The attachment name is required.', 'ErrorInvalidRequest');
  if (typeof item.size !== 'number' || !Number.isInteger(item.size) || item.size <= 0) {
    throw badRequest('The attachment size is required.', 'ErrorInvalidRequest');
  }
  if (item.size < UPLOAD_SESSION_MIN_BYTES) {
    throw badRequest(
      'Attachment size must be greater than the minimum size.',
      'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
    );
  }
  if (item.size > UPLOAD_SESSION_MAX_BYTES) {
    throw badRequest(
      'Attachment size must be less than the maximum size.',
      'ErrorAttachmentSizeShouldNotBeMoreThanMaximumSize',
    );
  }
  ensureFits(ctx, message, item.size);
  const session = ctx.uploads.open(
    {
      userId: ctx.state.findUser(p.user)!.id,
      messageId: message.id,
      name: item.name,
      size: item.size,
      contentType: item.contentType ?? 'application/octet-stream',
      isInline: item.isInline ?? false,
      contentId: item.contentId ?? null,
    },
    ctx.now(),
  );
  const uploadSession: MicrosoftGraph.UploadSession = {
    uploadUrl: uploadUrlFor(ctx, session),
    expirationDateTime: new Date(session.expiresAt).toISOString(),
    nextExpectedRanges: ['0-'],
  };
  return {
    status: 201,
    body: { '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#microsoft.graph.uploadSession`, ...uploadSession },
  };
}

function requireAttachment(ctx: GraphContext, p: PathParts) {
  const { message } = requireMessage(ctx, p);
  const attachment = message.attachments.find((a) => a.id === p.attachment);
  if (!attachment) throw itemNotFound();
  return attachment;
}

function ensureFits(ctx: GraphContext, message: StoredMessage, extraBytes: number): void {
  if (messageSize(message) + extraBytes > ctx.limits.maxMessageBytes) {
    throw new GraphHttpError(400, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
  }
}
