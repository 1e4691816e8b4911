import type CreateDataExportTaskRequest from '@rc-ex/core/definitions/CreateDataExportTaskRequest';
import type {
  ExportChat,
  ExportEvent,
  ExportFile,
  ExportFolder,
  ExportNote,
  ExportOrganisation,
  ExportPerson,
  ExportPost,
  ExportTask,
} from '../../../shared/ringcentral/export-records';
import { MEDIA_PLACEHOLDER } from '../../demo-org';

/** The records of one export (or one dataset of it), folder by folder. */
export interface ExportContent {
  chats: ExportChat[];
  members: ExportPerson[];
  guests: ExportPerson[];
  posts: ExportPost[];
  events: ExportEvent[];
  tasks: ExportTask[];
  notes: ExportNote[];
  files: ExportFile[];
}

const ITEM_FOLDERS = ['posts', 'events', 'tasks', 'notes', 'files'] as const satisfies readonly ExportFolder[];

/**
 * What an export of [timeFrom, timeTo) holds: each post/event/task/note/file whose version has
 * `lastModifiedTime` in the window, only the latest such version per id (an export shows current
 * state); the chats those items are in; all members; the guests of those chats.
 * `chatIds` keeps items of those chats; `contacts` keeps items of chats a listed person is in.
 */
export function selectExport(
  org: ExportOrganisation,
  request: Required<Pick<CreateDataExportTaskRequest, 'timeFrom' | 'timeTo'>> & CreateDataExportTaskRequest,
  mediaUrl: string,
): ExportContent {
  const from = Date.parse(request.timeFrom);
  const to = Date.parse(request.timeTo);
  const chatAllowed = chatFilter(org, request);
  const inWindow = (r: { lastModifiedTime: string }) => {
    const t = Date.parse(r.lastModifiedTime);
    return t >= from && t < to;
  };
  const posts = latest(org.posts.filter((p) => inWindow(p) && chatAllowed(p.chatId)));
  const pick = <T extends { id: string; lastModifiedTime: string; chatIds: string[] }>(records: T[]) =>
    latest(records.filter((r) => inWindow(r) && r.chatIds.some(chatAllowed)));
  const events = pick(org.events);
  const tasks = pick(org.tasks).map((t) => ({
    ...t,
    ...(t.attachments
      ? {
          attachments: t.attachments.map((a) => ({
            ...a,
            ...(a.contentUri ? { contentUri: onMediaHost(a.contentUri, mediaUrl) } : {}),
          })),
        }
      : {}),
  }));
  const notes = pick(org.notes);
  const files = pick(org.files).map((f) => ({ ...f, contentUri: onMediaHost(f.contentUri, mediaUrl) }));

  const chatIds = new Set<string>(posts.map((p) => p.chatId));
  for (const item of [...events, ...tasks, ...notes, ...files])
    for (const id of item.chatIds) if (chatAllowed(id)) chatIds.add(id);
  const chats = org.chats.filter((c) => chatIds.has(c.id));
  const guestIds = new Set(chats.flatMap((c) => c.guestIds ?? []));
  return {
    chats,
    members: org.members,
    guests: org.guests.filter((g) => guestIds.has(g.id)),
    posts,
    events,
    tasks,
    notes,
    files,
  };
}

/** Splits the items over datasets of at most `maxRecords` items; each dataset repeats chats, members and guests. */
export function splitIntoDatasets(content: ExportContent, maxRecords: number | undefined): ExportContent[] {
  const items = ITEM_FOLDERS.flatMap((folder) => (content[folder] as unknown[]).map((record) => ({ folder, record })));
  if (!maxRecords || items.length <= maxRecords) return [content];
  const datasets: ExportContent[] = [];
  for (let i = 0; i < items.length; i += maxRecords) {
    const part: ExportContent = {
      chats: content.chats,
      members: content.members,
      guests: content.guests,
      posts: [],
      events: [],
      tasks: [],
      notes: [],
      files: [],
    };
    for (const { folder, record } of items.slice(i, i + maxRecords)) (part[folder] as unknown[]).push(record);
    datasets.push(part);
  }
  return datasets;
}

function chatFilter(org: ExportOrganisation, request: CreateDataExportTaskRequest): (chatId: string) => boolean {
  let allowed: Set<string> | undefined = request.chatIds?.length ? new Set(request.chatIds) : undefined;
  if (request.contacts?.length) {
    const people = [...org.members, ...org.guests];
    const ids = new Set(
      request.contacts.flatMap((c) =>
        people
          .filter((p) => (c.id && p.id === c.id) || (c.email && p.email?.toLowerCase() === c.email.toLowerCase()))
          .map((p) => p.id),
      ),
    );
    const ofContacts = org.chats
      .filter((c) => [...(c.memberIds ?? []), ...(c.guestIds ?? [])].some((id) => ids.has(id)))
      .map((c) => c.id);
    allowed = new Set(ofContacts.filter((id) => !allowed || allowed.has(id)));
  }
  return allowed ? (id) => allowed.has(id) : () => true;
}

function latest<T extends { id: string; lastModifiedTime: string }>(records: T[]): T[] {
  const byId = new Map<string, T>();
  for (const r of records) {
    const seen = byId.get(r.id);
    if (!seen || Date.parse(r.lastModifiedTime) >= Date.parse(seen.lastModifiedTime)) byId.set(r.id, r);
  }
  return [...byId.values()];
}

function onMediaHost(uri: string, mediaUrl: string): string {
  return uri.startsWith(MEDIA_PLACEHOLDER) ? mediaUrl + uri.slice(MEDIA_PLACEHOLDER.length) : uri;
}
