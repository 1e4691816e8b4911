import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { exchangeId } from './ids';

export interface GraphDoubleUser {
  id: string;
  mail: string;
  userPrincipalName: string;
  proxyAddresses?: string[];
  displayName: string;
  accountEnabled?: boolean;
  /** Default true; false makes every mailbox call answer 404 MailboxNotEnabledForRESTAPI. */
  hasMailbox?: boolean;
}

export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  lastModifiedDateTime: string;
  /** How it arrived: a plain POST (or inline in the create) or an upload session. */
  via: 'post' | 'uploadSession';
  bytes: Buffer;
}

export type StoredMessage = Omit<MicrosoftGraph.Message, 'attachments'> & {
  id: string;
  parentFolderId: string;
  isDraft: boolean;
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  singleValueExtendedProperties: MicrosoftGraph.SingleValueLegacyExtendedProperty[];
  internetMessageHeaders: MicrosoftGraph.InternetMessageHeader[];
  attachments: StoredAttachment[];
};

export interface StoredFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName?: string;
}

export interface Mailbox {
  user: GraphDoubleUser;
  rootId: string;
  folders: Map<string, StoredFolder>;
  messages: Map<string, StoredMessage>;
}

const WELL_KNOWN_FOLDERS: Array<[string, string]> = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['outbox', 'Outbox'],
  ['archive', 'Archive'],
];

/** The tenant's users and their mailboxes. */
export class TenantState {
  private readonly users = new Map<string, GraphDoubleUser>();
  private readonly mailboxes = new Map<string, Mailbox>();

  constructor(users: GraphDoubleUser[]) {
    for (const user of users) this.addUser(user);
  }

  addUser(user: GraphDoubleUser): void {
    const proxyAddresses = user.proxyAddresses ?? [`SMTP:${user.mail}`];
    this.users.set(user.id.toLowerCase(), { accountEnabled: true, hasMailbox: true, ...user, proxyAddresses });
  }

  allUsers(): GraphDoubleUser[] {
    return [...this.users.values()];
  }

  /** Mailbox routes accept the object id, the UPN or any SMTP address of the user. */
  findUser(key: string): GraphDoubleUser | undefined {
    const lower = key.toLowerCase();
    const byId = this.users.get(lower);
    if (byId) return byId;
    return this.allUsers().find(
      (u) =>
        u.userPrincipalName.toLowerCase() === lower ||
        u.mail.toLowerCase() === lower ||
        (u.proxyAddresses ?? []).some((p) => p.toLowerCase() === `smtp:${lower}`),
    );
  }

  /** Directory routes (/users/{key}) accept only the object id or the UPN. */
  findUserByIdOrUpn(key: string): GraphDoubleUser | undefined {
    const lower = key.toLowerCase();
    return this.users.get(lower) ?? this.allUsers().find((u) => u.userPrincipalName.toLowerCase() === lower);
  }

  mailboxOf(user: GraphDoubleUser): Mailbox {
    let mailbox = this.mailboxes.get(user.id);
    if (!mailbox) {
      mailbox = newMailbox(user);
      this.mailboxes.set(user.id, mailbox);
    }
    return mailbox;
  }

  clearMailboxes(): void {
    this.mailboxes.clear();
  }
}

function newMailbox(user: GraphDoubleUser): Mailbox {
  const rootId = exchangeId('AQMkAD');
  const folders = new Map<string, StoredFolder>();
  for (const [wellKnownName, displayName] of WELL_KNOWN_FOLDERS) {
    const id = exchangeId('AQMkAD');
    folders.set(id, { id, displayName, parentFolderId: rootId, wellKnownName });
  }
  return { user, rootId, folders, messages: new Map() };
}

/** Resolves a folder reference from a URL: a well-known name or a folder id. */
export function findFolder(mailbox: Mailbox, ref: string): StoredFolder | undefined {
  const lower = ref.toLowerCase();
  if (lower === 'msgfolderroot')
    return { id: mailbox.rootId, displayName: 'Top of Information Store', parentFolderId: '' };
  const direct = mailbox.folders.get(ref);
  if (direct) return direct;
  return [...mailbox.folders.values()].find((f) => f.wellKnownName === lower);
}

export function childFolders(mailbox: Mailbox, parentId: string): StoredFolder[] {
  return [...mailbox.folders.values()].filter((f) => f.parentFolderId === parentId);
}

/** Follows a display-name path such as 'Inbox/RingCentral' (the first step may be a well-known name). */
export function folderByPath(mailbox: Mailbox, path: string): StoredFolder | undefined {
  let parentId = mailbox.rootId;
  let found: StoredFolder | undefined;
  for (const step of path.split('/').filter(Boolean)) {
    const lower = step.toLowerCase();
    found = childFolders(mailbox, parentId).find(
      (f) => f.displayName.toLowerCase() === lower || f.wellKnownName === lower,
    );
    if (!found) return undefined;
    parentId = found.id;
  }
  return found;
}

export function messagesInFolder(mailbox: Mailbox, folderId: string): StoredMessage[] {
  return [...mailbox.messages.values()].filter((m) => m.parentFolderId === folderId);
}

export function messageSize(message: StoredMessage): number {
  const bodyBytes = Buffer.byteLength(message.body?.content ?? '', 'utf8');
  return bodyBytes + message.attachments.reduce((sum, a) => sum + a.size, 0);
}

/** A message written straight into a mailbox's state (size tests), as the archiver's create would leave it. */
export interface SeededMessage {
  receivedDateTime: string;
  subject?: string;
  /** Extended properties, e.g. the archiver's item key. */
  singleValueExtendedProperties?: MicrosoftGraph.SingleValueLegacyExtendedProperty[];
}

/**
 * Puts messages into a folder path (created as needed) without HTTP: seeding a mailbox with a
 * large history through creates would take hours. Messages are non-draft, without attachments.
 */
export function seedMessages(mailbox: Mailbox, folderPath: string, messages: SeededMessage[]): number {
  let parentId = mailbox.rootId;
  for (const step of folderPath.split('/').filter(Boolean)) {
    const lower = step.toLowerCase();
    let folder = childFolders(mailbox, parentId).find(
      (f) => f.displayName.toLowerCase() === lower || f.wellKnownName === lower,
    );
    if (!folder) {
      folder = { id: exchangeId('AQMkAD'), displayName: step, parentFolderId: parentId };
      mailbox.folders.set(folder.id, folder);
    }
    parentId = folder.id;
  }
  for (const m of messages) {
    const id = exchangeId('AAMkAG');
    mailbox.messages.set(id, {
      id,
      changeKey: id.slice(-16),
      parentFolderId: parentId,
      isDraft: false,
      isRead: true,
      hasAttachments: false,
      subject: m.subject ?? '',
      createdDateTime: m.receivedDateTime,
      lastModifiedDateTime: m.receivedDateTime,
      receivedDateTime: m.receivedDateTime,
      sentDateTime: m.receivedDateTime,
      singleValueExtendedProperties: m.singleValueExtendedProperties ?? [],
      internetMessageHeaders: [],
      attachments: [],
    });
  }
  return messages.length;
}
