// Message-store and call-log records as the archiver reads them. The shapes are @rc-ex/core's
// (GetMessageInfoResponse, CallLogRecord); only what the archiver cannot work without is required,
// and everything else is kept as it came in the raw blob.
import { z } from 'zod';
import type CallLogRecord from '@rc-ex/core/definitions/CallLogRecord';
import type CallLogFromParty from '@rc-ex/core/definitions/CallLogFromParty';
import type GetMessageInfoResponse from '@rc-ex/core/definitions/GetMessageInfoResponse';
import type { VoiceItemKind } from '../store/item-keys';
import type { Validated } from './record-validation';

export type StoredMessage = Omit<GetMessageInfoResponse, 'id'> & {
  id: string;
  type: string;
  creationTime: string;
  /** The extension whose message store holds this copy (from the record, else from the archive path). */
  extensionId: string;
};
export type StoredCall = Omit<CallLogRecord, 'id'> & { id: string; startTime: string };
export type CallParty = CallLogFromParty;

/** Raw folders (`raw/<folder>/<id>/<version>.json`) of voice records. */
export const MESSAGES_FOLDER = 'messages';
export const CALLS_FOLDER = 'calls';

const MESSAGE_KINDS: Record<string, VoiceItemKind> = {
  SMS: 'sms',
  Pager: 'pager',
  Fax: 'fax',
  VoiceMail: 'voicemail',
};

/** The item kind of a message-store record's `type`; undefined for a type the archiver does not know. */
export function messageKindOf(type: string): VoiceItemKind | undefined {
  return MESSAGE_KINDS[type];
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not a date-time');
const id = z.union([z.string().min(1), z.number()]).transform(String);

const messageSchema = z.looseObject({
  id,
  type: z.string().refine((t) => t in MESSAGE_KINDS, 'is not SMS, Pager, Fax or VoiceMail'),
  creationTime: isoTime,
  extensionId: id.optional(),
  attachments: z
    .array(z.looseObject({ id, size: z.number().int().min(0).nullish(), contentType: z.string().nullish() }))
    .optional(),
});
const callSchema = z.looseObject({ id, startTime: isoTime, duration: z.number().min(0).nullish() });

function validate<T>(schema: z.ZodType, raw: unknown): Validated<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, record: result.data as T };
  const rawId = (raw as { id?: unknown } | null)?.id;
  const reason = result.error.issues.map((i) => `${i.path.join('.') || 'record'} ${i.message}`).join('; ');
  return { ok: false, id: typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : undefined, reason };
}

/** A message-store record; `extensionId` from the archive path when the record lacks it. */
export function validateMessage(raw: unknown, extensionId?: string): Validated<StoredMessage> {
  const checked = validate<StoredMessage>(messageSchema, raw);
  if (!checked.ok) return checked;
  const owner = checked.record.extensionId ?? extensionId;
  if (!owner) return { ok: false, id: checked.record.id, reason: 'extensionId is missing' };
  return { ok: true, record: { ...checked.record, extensionId: String(owner) } };
}

export const validateCall = (raw: unknown) => validate<StoredCall>(callSchema, raw);

/** A voice item's version: its creation (messages) or start (calls) time, which never changes. */
export function voiceVersionOf(time: string): string {
  return new Date(time).toISOString();
}

/**
 * The file id of a message attachment in the `files` container: the attachment archives and a
 * download by content URI store it under the same name, so either finds the other's copy.
 */
export function messageAttachmentFileId(messageId: string, attachmentId: string): string {
  return `message-${messageId}-${attachmentId}`;
}

/** The file id of a call recording in the `files` container. */
export function recordingFileId(recordingId: string): string {
  return `recording-${recordingId}`;
}

/** A message attachment's place in a report archive: `.../extension/<ext>/message-store/content/<messageId>/<attachmentId>.<ext>`. */
export function archivedAttachmentOf(
  path: string,
): { extensionId: string; messageId: string; attachmentId: string } | undefined {
  const m = /(?:^|\/)extension\/([^/]+)\/message-store\/content\/([^/]+)\/([^/.]+)(?:\.[^/]*)?$/.exec(path);
  return m ? { extensionId: m[1], messageId: m[2], attachmentId: m[3] } : undefined;
}

/** A report archive's records file: `.../extension/<ext>/message-store.json`. */
export function messageStoreFileOf(path: string): { extensionId: string } | undefined {
  const m = /(?:^|\/)extension\/([^/]+)\/message-store\.json$/.exec(path);
  return m ? { extensionId: m[1] } : undefined;
}

/** Every extension a call involves: caller, callee and each leg's parties and extension. */
export function callExtensionIds(call: StoredCall): string[] {
  const ids = new Set<string>();
  const add = (p?: { extensionId?: string } | null) => {
    if (p?.extensionId) ids.add(String(p.extensionId));
  };
  add(call.from);
  add(call.to);
  for (const leg of call.legs ?? []) {
    add(leg.from);
    add(leg.to);
    if (leg.extension?.id) ids.add(String(leg.extension.id));
  }
  return [...ids];
}

/** Message attachments and recordings never change: one stored version each. */
export const VOICE_CONTENT_VERSION = 'content';

/** Content types of voice attachments and recordings, with the file extension each is saved under. */
const EXTENSION_OF_TYPE: Record<string, string> = {
  'text/plain': 'txt',
  'application/pdf': 'pdf',
  'image/tiff': 'tif',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'video/mp4': 'mp4',
};
const TYPE_OF_EXTENSION: Record<string, string> = {
  ...Object.fromEntries(Object.entries(EXTENSION_OF_TYPE).map(([type, ext]) => [ext, type])),
  wav: 'audio/wav',
  tiff: 'image/tiff',
  jpeg: 'image/jpeg',
};

/** `pdf` for `application/pdf; …`; `bin` for a type not listed. */
export function fileExtensionOf(contentType: string | undefined): string {
  return EXTENSION_OF_TYPE[(contentType ?? '').split(';')[0].trim().toLowerCase()] ?? 'bin';
}

/** `application/pdf` for `…/1234.pdf`; `application/octet-stream` for an extension not listed. */
export function contentTypeOfFileName(fileName: string): string {
  const ext = /\.([^./]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  return TYPE_OF_EXTENSION[ext] ?? 'application/octet-stream';
}
