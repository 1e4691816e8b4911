import { z } from 'zod';
import type { ExportChat, ExportPerson, ExportPost } from './export-records';

// Only what the archiver cannot work without is required. Everything else in a record is kept
// as it came (the raw blob is the archive of record), so unknown fields are never dropped.
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not a date-time');
const id = z.union([z.string().min(1), z.number()]).transform(String);
const idRef = z.looseObject({ id });

const postSchema = z.looseObject({
  id,
  creationTime: isoTime,
  lastModifiedTime: isoTime,
  creator: idRef,
  chatId: id,
  text: z.string().nullish(),
});
/** Tasks, notes, events and files share this frame: they live in one or more chats. */
const chatItemSchema = z.looseObject({
  id,
  creationTime: isoTime,
  lastModifiedTime: isoTime,
  creator: idRef.optional(),
  chatIds: z.array(id).default([]),
});
const fileSchema = chatItemSchema.extend({
  name: z.string().nullish(),
  size: z.number().int().min(0).nullish(),
  contentUri: z.string().nullish(),
});
const chatSchema = z.looseObject({ id, lastModifiedTime: isoTime.optional(), creationTime: isoTime.optional() });
const personSchema = z.looseObject({ id, email: z.string().nullish() });
/** Unknown folders: we archive whatever has an id. */
const genericSchema = z.looseObject({ id, lastModifiedTime: isoTime.optional(), creationTime: isoTime.optional() });

export type Validated<T> = { ok: true; record: T } | { ok: false; id?: string; reason: string };

function validate<T>(schema: z.ZodType, raw: unknown): Validated<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, record: result.data as T };
  const rawId = (raw as { id?: unknown } | null)?.id;
  const reason = result.error.issues.map((i) => `${i.path.join('.') || 'record'} ${i.message}`).join('; ');
  return { ok: false, id: typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : undefined, reason };
}

export interface ChatItemRecord {
  id: string;
  creationTime: string;
  lastModifiedTime: string;
  creator?: { id: string };
  chatIds: string[];
  deleted?: boolean;
  [field: string]: unknown;
}

export const validatePost = (raw: unknown) => validate<ExportPost>(postSchema, raw);
export const validateChat = (raw: unknown) => validate<ExportChat>(chatSchema, raw);
export const validatePerson = (raw: unknown) => validate<ExportPerson>(personSchema, raw);

/** The validator for any export folder; unknown folders get the generic one. */
export function validatorFor(
  folder: string,
): (raw: unknown) => Validated<{ id: string; lastModifiedTime?: string; creationTime?: string }> {
  switch (folder) {
    case 'posts':
      return validatePost;
    case 'chats':
      return validateChat;
    case 'members':
    case 'guests':
      return validatePerson;
    case 'files':
      return (raw) => validate(fileSchema, raw);
    case 'tasks':
    case 'notes':
    case 'events':
      return (raw) => validate(chatItemSchema, raw);
    default:
      return (raw) => validate(genericSchema, raw);
  }
}

/** Version of a record for its blob name: lastModifiedTime, else creationTime, else 'unversioned'. */
export function versionOf(record: { lastModifiedTime?: string; creationTime?: string }): string {
  const t = record.lastModifiedTime ?? record.creationTime;
  return t && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : 'unversioned';
}
