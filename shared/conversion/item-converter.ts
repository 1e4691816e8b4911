import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import type { RawRecords } from '../store/raw-records';
import { CONTAINERS } from '../store/names';
import type { ExportChat, ExportPerson, ExportPost, ExportTask } from '../ringcentral/export-records';
import { validatorFor, versionOf } from '../ringcentral/record-validation';
import { renderItem, type RenderInput } from '../archive/render-item';
import { addressOf, type Participant } from '../archive/people-directory';
import type { RecipientPlanner } from '../mapping/recipient-plan';
import type { ConvertItemMessage } from '../pipeline/messages';
import type { ItemKind } from '../store/item-keys';
import { InvalidInputError } from '../errors';
import type { AttachmentPlanner, FileRef } from './attachment-planner';
import type { ArchiveOutput, ConvertResult } from './archive-output';

export type { ConvertResult } from './archive-output';

type ItemRecord = RenderInput['record'] & { chatId?: string; chatIds?: string[]; creator?: { id: string } };

const MENTION_TOKEN = /!\[:(\w+)\]\(([^)\s]+)\)/g;
const FOLDER_OF_TYPE: Record<string, string> = {
  Person: 'members',
  Contact: 'members',
  Team: 'chats',
  File: 'files',
  Task: 'tasks',
  Note: 'notes',
  Event: 'events',
};

/**
 * Item version + chat + people + files → archive message (JSON and .eml, stored once); then
 * one deliver message per mailbox the recipient planner picks, and a not-delivered ledger row,
 * with its reason, for everyone else.
 */
export class ItemConverter {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly raw: RawRecords,
    private readonly output: ArchiveOutput,
    private readonly recipients: RecipientPlanner,
    private readonly attachments: AttachmentPlanner,
    private readonly errors: ErrorLog,
  ) {}

  async handle(message: ConvertItemMessage): Promise<ConvertResult> {
    const folder = message.folder ?? 'posts';
    const checked = validatorFor(folder)(await this.blobs.getJson<unknown>(CONTAINERS.raw, message.rawBlob));
    if (!checked.ok)
      throw new InvalidInputError(`stored ${folder} record ${message.rawBlob} is malformed: ${checked.reason}`);
    const record = checked.record as ItemRecord;
    const kind = message.kind;
    const version = versionOf(record);

    const chatIds = [...new Set((record.chatId ? [record.chatId] : (record.chatIds ?? [])).map(String))];
    const chats = (await Promise.all(chatIds.map((id) => this.raw.latest<ExportChat>('chats', id)))).filter(
      (c): c is ExportChat => !!c,
    );
    if (chatIds.length && !chats.length)
      await this.errors.report({
        stage: 'convert',
        itemKey: message.itemKey,
        reason: `chat ${chatIds.join(', ')} is not in the export; delivering to the creator only`,
      });
    const guestIds = new Set(chats.flatMap((c) => c.guestIds ?? []).map(String));
    const creatorId = record.creator?.id !== undefined ? String(record.creator.id) : undefined;
    const assigneeIds =
      kind === 'task' ? ((record as unknown as ExportTask).assignees ?? []).map((a) => String(a.id)) : [];
    const memberIds = [
      ...new Set([
        ...(creatorId ? [creatorId] : []),
        ...chats.flatMap((c) => c.memberIds ?? []).map(String),
        ...assigneeIds,
      ]),
    ].filter((id) => !guestIds.has(id));
    const members = await Promise.all(memberIds.map((id) => this.participant(id, false)));
    const guests = await Promise.all([...guestIds].map((id) => this.participant(id, true)));
    const creator = [...members, ...guests].find((p) => p.id === creatorId) ?? {
      id: creatorId ?? 'unknown',
      guest: false,
    };

    const names = await this.mentionNames(record, kind, [...members, ...guests]);
    const files = await this.attachments.plan(await this.fileRefs(record, kind), message.itemKey);
    const archived = renderItem({
      kind,
      folder,
      record,
      version,
      // The first version (modified when created) has nothing before it: skip the listing.
      previousVersion:
        record.lastModifiedTime &&
        record.creationTime &&
        Date.parse(record.lastModifiedTime) <= Date.parse(record.creationTime)
          ? undefined
          : await this.raw.previousVersion(folder, record.id, version),
      chat: chats[0],
      creator,
      members,
      guests,
      resolveMention: (type, id) => names.get(`${type}:${id}`),
      personName: (id) => names.get(`Person:${id}`) ?? `RingCentral user ${id}`,
      parent: kind === 'post' ? await this.parentOf(record as unknown as ExportPost) : undefined,
      attachments: files.attachments,
      notices: files.notices,
    });
    const plan = await this.recipients.plan([...members, ...guests], {
      creatorId: creator.id,
      chatMemberCount: memberIds.length + guestIds.size,
    });
    return this.output.publish(archived, plan, files.notices);
  }

  private async participant(id: string, guest: boolean): Promise<Participant> {
    const person = await this.raw.latest<ExportPerson>(guest ? 'guests' : 'members', id);
    return { id, person, guest };
  }

  /** Names for every mention and attachment the item points at: people, chats, files, tasks… */
  private async mentionNames(record: ItemRecord, kind: ItemKind, people: Participant[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const p of people) names.set(`Person:${p.id}`, addressOf(p).name);
    const wanted: Array<{ type: string; id: string; name?: string }> = [];
    const text =
      typeof record.text === 'string' ? record.text : typeof record.description === 'string' ? record.description : '';
    for (const m of text.matchAll(MENTION_TOKEN)) wanted.push({ type: m[1], id: m[2] });
    if (kind === 'post')
      for (const m of (record as unknown as ExportPost).mentions ?? [])
        wanted.push({ type: m.type, id: String(m.id), name: m.name });
    // Attached tasks, notes and events are shown by what they are called, like mentions.
    if (kind === 'post')
      for (const a of (record as unknown as ExportPost).attachments ?? [])
        if (a.type !== 'File') wanted.push({ type: a.type, id: String(a.id) });
    for (const w of wanted) {
      const key = `${w.type}:${w.id}`;
      if (names.has(key)) continue;
      if (w.name) {
        names.set(key, w.name);
        continue;
      }
      const folder = FOLDER_OF_TYPE[w.type];
      if (!folder) continue;
      const target =
        (await this.raw.latest<Record<string, unknown>>(folder, w.id)) ??
        (w.type === 'Person' ? await this.raw.latest<Record<string, unknown>>('guests', w.id) : undefined);
      const name =
        target &&
        (target.name ??
          target.subject ??
          target.title ??
          [target.firstName, target.lastName].filter(Boolean).join(' '));
      if (typeof name === 'string' && name) names.set(key, name);
    }
    return names;
  }

  private async fileRefs(record: ItemRecord, kind: ItemKind): Promise<FileRef[]> {
    if (kind === 'file') return [record as unknown as FileRef];
    const refs: FileRef[] = [];
    if (kind === 'post') {
      for (const a of (record as unknown as ExportPost).attachments ?? []) {
        if (a.type !== 'File') continue;
        const file = await this.raw.latest<FileRef>('files', String(a.id));
        refs.push(file ?? { id: String(a.id) });
      }
    }
    if (kind === 'task') {
      for (const a of (record as unknown as ExportTask).attachments ?? []) {
        if (a.type !== 'File') continue;
        const file = await this.raw.latest<FileRef>('files', String(a.id));
        refs.push(file ?? { id: String(a.id), name: a.name, contentUri: a.contentUri });
      }
    }
    return refs;
  }

  private async parentOf(post: ExportPost): Promise<{ author: string; text: string } | undefined> {
    if (!post.chainId || String(post.chainId) === String(post.id)) return undefined;
    const parent = await this.raw.latest<ExportPost>('posts', String(post.chainId));
    if (!parent) return { author: 'an earlier post', text: `(post ${post.chainId}, not in the archive window)` };
    const author = await this.participant(String(parent.creator?.id), false);
    return { author: addressOf(author).name, text: parent.text ?? '' };
  }
}
