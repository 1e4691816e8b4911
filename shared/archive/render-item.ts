import type {
  ExportChat,
  ExportEvent,
  ExportFile,
  ExportNote,
  ExportPost,
  ExportTask,
} from '../ringcentral/export-records';
import { itemKeyOf, type ItemKind } from '../store/item-keys';
import type { ArchiveAttachment, ArchiveMessage, FileNotice } from './archive-message';
import { escapeHtml, oneLine } from './html';
import { markupToHtml, markupToText, type MentionResolver } from './markup';
import { addressOf, chatLabel, type Participant } from './people-directory';
import { formatBytes, kindLabel, renderFrame, type Frame } from './render-frame';

export interface RenderInput {
  kind: ItemKind;
  /** The validated record as exported (unknown fields included). */
  record: { id: string; creationTime?: string; lastModifiedTime?: string; deleted?: boolean; [field: string]: unknown };
  folder?: string;
  version: string;
  previousVersion?: string;
  chat?: ExportChat;
  creator: Participant;
  members: Participant[];
  guests: Participant[];
  resolveMention?: MentionResolver;
  personName?: (id: string) => string;
  /** The post a thread reply answers. */
  parent?: { author: string; text: string };
  attachments?: ArchiveAttachment[];
  notices?: FileNotice[];
}

/** Any captured item version, as an email a reviewer can read. Pure: same input, same message. */
export function renderItem(input: RenderInput): ArchiveMessage {
  const { kind, record, version } = input;
  const from = addressOf(input.creator);
  const label = oneLine(chatLabel(input.chat, labelPeople(input)), 120);
  const created = record.creationTime ?? record.lastModifiedTime ?? version;
  const sentAt = Number.isNaN(Date.parse(created)) ? new Date(0).toISOString() : new Date(created).toISOString();
  const change: ArchiveMessage['change'] = record.deleted ? 'deleted' : input.previousVersion ? 'edited' : 'new';
  const chatId = String(
    (record as { chatId?: unknown }).chatId ?? (record as { chatIds?: unknown[] }).chatIds?.[0] ?? input.chat?.id ?? '',
  );
  const itemKey = itemKeyOf(kind, record.id, version);
  const resolve = input.resolveMention ?? (() => undefined);
  const personName = input.personName ?? ((id: string) => `RingCentral user ${id}`);
  const attachments = input.attachments ?? [];
  const notices = input.notices ?? [];

  const body = bodyOf(kind, record, resolve, personName);
  const frame: Frame = {
    kind,
    change,
    version,
    previousVersion: input.previousVersion,
    heading: {
      who: `${from.name} <${from.address}>`,
      where: `${oneLine(input.chat?.name ?? label, 2000)} (${oneLine(input.chat?.Type ?? 'chat', 40)})`,
      when: sentAt,
    },
    fields: body.fields,
    bodyHtml: body.html,
    bodyText: body.text,
    quote: input.parent
      ? {
          author: input.parent.author,
          html: markupToHtml(input.parent.text, resolve),
          text: markupToText(input.parent.text, resolve),
        }
      : undefined,
    attachments,
    notices,
    footer: `Archived from RingCentral Team Messaging. Chat ${chatId}, ${kind} ${record.id}, version ${version}.`,
  };
  const { html, text } = renderFrame(frame);
  const title = body.title ? ` — ${oneLine(body.title, 80)}` : '';

  return {
    itemKey,
    kind,
    source: { accountId: input.chat?.accountId, chatId, itemId: record.id, version, folder: input.folder },
    previousItemKey: input.previousVersion ? itemKeyOf(kind, record.id, input.previousVersion) : undefined,
    change,
    subject: `[RingCentral] ${label} — ${kindLabel(kind)}${title}${change === 'deleted' ? ' (deleted)' : change === 'edited' ? ' (edited)' : ''}`,
    from,
    to: input.members.map(addressOf),
    cc: input.guests.map(addressOf),
    sentAt,
    html,
    text,
    conversation: { topic: oneLine(`[RingCentral] ${label}`, 250), chatId },
    headers: {
      'X-RingCentral-Item-Key': oneLine(itemKey, 400),
      'X-RingCentral-Kind': kind,
      'X-RingCentral-Chat-Id': oneLine(chatId, 100),
      'X-RingCentral-Item-Id': oneLine(record.id, 100),
      'X-RingCentral-Version': oneLine(version, 40),
      ...(input.previousVersion ? { 'X-RingCentral-Previous-Version': oneLine(input.previousVersion, 40) } : {}),
      ...(input.chat?.accountId ? { 'X-RingCentral-Account-Id': oneLine(input.chat.accountId, 100) } : {}),
    },
    attachments,
    notices,
  };
}

/**
 * Everyone in the chat in the chat's own order, whoever posted: the label is also the conversation
 * topic, so it must be the same for every message of a chat (creator-first ordering split direct
 * chats into one Outlook conversation per sender).
 */
function labelPeople(input: RenderInput): Participant[] {
  const order = [...(input.chat?.memberIds ?? []), ...(input.chat?.guestIds ?? [])].map(String);
  const rank = (p: Participant) => (order.includes(p.id) ? order.indexOf(p.id) : order.length);
  const everyone = [...new Map([...input.members, ...input.guests].map((p) => [p.id, p])).values()];
  return everyone.sort((a, b) => rank(a) - rank(b));
}

interface Body {
  title?: string;
  fields?: Array<[string, string]>;
  html: string;
  text: string;
}

function bodyOf(
  kind: ItemKind,
  record: RenderInput['record'],
  resolve: MentionResolver,
  personName: (id: string) => string,
): Body {
  const text = (value: unknown) =>
    typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  switch (kind) {
    case 'post': {
      const post = record as unknown as ExportPost;
      // Files travel as attachments; everything else a post carries is named where it is read.
      const linked = (post.attachments ?? []).filter((a) => a.type !== 'File');
      const fields: Array<[string, string]> | undefined = linked.length
        ? linked.map((a) => [
            `Attached ${text(a.type).toLowerCase()}`,
            resolve(text(a.type), text(a.id)) ?? `${text(a.type)} ${text(a.id)}`,
          ])
        : undefined;
      return { fields, html: markupToHtml(text(post.text), resolve), text: markupToText(text(post.text), resolve) };
    }
    case 'task': {
      const task = record as unknown as ExportTask;
      const assignees = (task.assignees ?? [])
        .map((a) => `${personName(String(a.id))} (${a.status ?? 'Pending'})`)
        .join(', ');
      const fields: Array<[string, string]> = [
        ['Task', text(task.subject)],
        ['Status', text(task.status)],
        ['Assignees', assignees || 'none'],
        ['Due', text(task.dueDate) || 'none'],
      ];
      if (task.startDate) fields.push(['Start', task.startDate]);
      if (task.completenessPercentage !== undefined) fields.push(['Complete', `${task.completenessPercentage}%`]);
      if (task.section) fields.push(['Section', task.section]);
      if (task.recurrence?.schedule) fields.push(['Recurrence', describeRecurrence(task.recurrence)]);
      return {
        title: text(task.subject),
        fields,
        html: markupToHtml(text(task.description), resolve),
        text: markupToText(text(task.description), resolve),
      };
    }
    case 'note': {
      const note = record as unknown as ExportNote;
      const fields: Array<[string, string]> = [
        ['Note', text(note.title)],
        ['Status', text(note.status)],
      ];
      return { title: text(note.title), fields, html: noteHtml(text(note.body)), text: htmlishToText(text(note.body)) };
    }
    case 'event': {
      const event = record as unknown as ExportEvent;
      const fields: Array<[string, string]> = [
        ['Event', text(event.subject)],
        ['Starts', text(event.startTime)],
        ['Ends', text(event.endTime)],
        ['Location', text(event.location) || 'none'],
      ];
      if (event.recurrence?.schedule) fields.push(['Recurrence', describeRecurrence(event.recurrence)]);
      return {
        title: text(event.subject),
        fields,
        html: markupToHtml(text(event.description), resolve),
        text: markupToText(text(event.description), resolve),
      };
    }
    case 'file': {
      const file = record as unknown as ExportFile;
      const fields: Array<[string, string]> = [
        ['File', text(file.name)],
        ['Size', file.size !== undefined ? `${formatBytes(Number(file.size))} (${file.size} bytes)` : 'unknown'],
      ];
      return { title: text(file.name), fields, html: '', text: '' };
    }
    default: {
      // Unknown record types are archived whole, so nothing the export holds is dropped.
      const json = JSON.stringify(record, null, 2);
      return { html: `<pre style="white-space:pre-wrap">${escapeHtml(json)}</pre>`, text: json };
    }
  }
}

function describeRecurrence(r: {
  schedule?: string;
  endingCondition?: string;
  endingAfter?: number;
  endingOn?: string;
}): string {
  const parts = [r.schedule ?? ''];
  if (r.endingCondition) parts.push(`ending ${r.endingCondition}`);
  if (r.endingAfter !== undefined) parts.push(`after ${r.endingAfter} occurrences`);
  if (r.endingOn) parts.push(`on ${r.endingOn}`);
  return parts.filter(Boolean).join(', ');
}

/** Note bodies arrive as HTML from RingCentral's editor; they are shown as escaped text with line breaks. */
function noteHtml(body: string): string {
  return escapeHtml(htmlishToText(body)).replace(/\n/g, '<br>');
}

function htmlishToText(body: string): string {
  return body
    .replace(/<\s*br\s*\/?>/gi, '\n')
    .replace(/<\/\s*(p|div|li|h\d)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}
