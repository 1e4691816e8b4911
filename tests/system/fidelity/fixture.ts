import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { fileContentPath, fileContentStream, MEDIA_PLACEHOLDER } from '../../../dev/demo-org';
import type { StoredMessage } from '../../../dev/doubles/graph/server';
import type { ExportChat, ExportFile, ExportPerson, ExportPost } from '../../../shared/ringcentral/export-records';
import { ITEM_KEY_PROPERTY, PROPERTY_SET } from '../../../shared/mailbox/mapi-properties';

export { repoRoot } from '../../support/repo-root';
import { repoRoot } from '../../support/repo-root';
export const MB = 1024 * 1024;

/** Builds a small organisation by hand: every record is what a test names, nothing random. */
export function orgBuilder(accountId: string, start: Date) {
  const at = (minutes: number, ms = 0) => new Date(start.getTime() + minutes * 60_000 + ms).toISOString();
  const members: ExportPerson[] = [];
  const guests: ExportPerson[] = [];
  const chats: ExportChat[] = [];
  const posts: ExportPost[] = [];
  const files: ExportFile[] = [];
  let minute = 10;
  return {
    at,
    members,
    guests,
    chats,
    posts,
    files,
    person(id: string, firstName: string, email: string | undefined, guest = false): ExportPerson {
      const p: ExportPerson = { id, firstName, lastName: 'Fid', email, creationTime: at(0), lastModifiedTime: at(0) };
      (guest ? guests : members).push(p);
      return p;
    },
    chat(
      id: string,
      Type: ExportChat['Type'],
      name: string | undefined,
      memberIds: string[],
      guestIds: string[] = [],
    ): ExportChat {
      const c: ExportChat = {
        id,
        Type,
        name,
        memberIds,
        guestIds,
        creationTime: at(0),
        lastModifiedTime: at(0),
        accountId,
        status: 'Active',
      };
      chats.push(c);
      return c;
    },
    /** A post one minute after the previous one, with milliseconds Exchange will drop. */
    post(
      id: string,
      chatId: string,
      creatorId: string,
      text: string,
      fileSpecs: Array<{ name: string; size: number }> = [],
    ): ExportPost {
      minute += 1;
      const t = at(minute, 437);
      const p: ExportPost = { id, chatId, creator: { id: creatorId }, creationTime: t, lastModifiedTime: t, text };
      if (fileSpecs.length) p.attachments = [];
      fileSpecs.forEach((spec, i) => {
        const fileId = `${id}-f${i}`;
        files.push({
          id: fileId,
          type: 'File',
          creationTime: t,
          lastModifiedTime: t,
          creator: { id: creatorId },
          chatIds: [chatId],
          name: spec.name,
          size: spec.size,
          contentUri: MEDIA_PLACEHOLDER + fileContentPath(fileId),
        });
        p.attachments!.push({ id: fileId, type: 'File' });
      });
      posts.push(p);
      return p;
    },
    organisation() {
      return { accountId, chats, members, guests, posts, events: [], tasks: [], notes: [], files };
    },
  };
}

export const itemKeyOfPost = (p: ExportPost) => `post:${p.id}:${new Date(p.lastModifiedTime).toISOString()}`;

/** SHA-256 of the bytes the RingCentral double serves for a file. */
export async function sourceSha256(file: ExportFile): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fileContentStream(file.id, file.size)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

export function property(m: StoredMessage, id: string): string | undefined {
  return m.singleValueExtendedProperties.find((p) => p.id === id)?.value ?? undefined;
}

export const named = (name: string) => `String ${PROPERTY_SET} Name ${name}`;
export const itemKeyIn = (m: StoredMessage) => property(m, ITEM_KEY_PROPERTY) ?? '';

export { header } from '../../support/stored-message';

export function blobs(connectionString: string) {
  return BlobServiceClient.fromConnectionString(connectionString);
}

export async function readBlob(connectionString: string, container: string, name: string): Promise<Buffer> {
  return blobs(connectionString).getContainerClient(container).getBlockBlobClient(name).downloadToBuffer();
}
