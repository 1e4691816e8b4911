import type { Client } from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import type { ArchiveMessage } from '../archive/archive-message';
import type { MailboxRef, MailboxTarget } from './mailbox-target';
import { extendedPropertiesFor, ITEM_KEY_PROPERTY } from './mapi-properties';
import { asMailboxError, beforeWrite, GraphCallError, timeoutSignal, translateGraphError } from './graph-client';

/** Creates archive messages in Inbox/<folder> through Microsoft Graph. */
export class GraphMailbox implements MailboxTarget {
  // Folder ids never change once created; a miss falls back to Graph.
  private readonly folders = new Map<string, Promise<string>>();

  constructor(
    private readonly graph: Client,
    private readonly folderName: string,
  ) {}

  archiveFolder(target: MailboxRef, fence?: AbortSignal): Promise<string> {
    let folder = this.folders.get(target.userId);
    if (!folder) {
      // The look-up is shared by every delivery of this mailbox in the process, so one caller's
      // fence must not end it; a fenced-off caller only does not start it. A second create is
      // harmless anyway: Exchange refuses it with ErrorFolderExists.
      beforeWrite(fence);
      folder = this.findOrCreateFolder(target).catch((err) => {
        this.folders.delete(target.userId);
        throw asMailboxError(err);
      });
      this.folders.set(target.userId, folder);
    }
    return folder;
  }

  private async findOrCreateFolder(target: MailboxRef): Promise<string> {
    const existing = await this.findFolder(target);
    if (existing) return existing;
    try {
      const created: MicrosoftGraph.MailFolder = await this.graph
        .api(`/users/${encodeURIComponent(target.userId)}/mailFolders/inbox/childFolders`)
        .options({ signal: timeoutSignal() })
        .post({ displayName: this.folderName });
      return created.id!;
    } catch (err) {
      const e = translateGraphError(err, 'create archive folder');
      // Two workers raced to create it: the loser looks it up again.
      if (e instanceof GraphCallError && e.code === 'ErrorFolderExists') {
        const found = await this.findFolder(target);
        if (found) return found;
      }
      throw e;
    }
  }

  private async findFolder(target: MailboxRef): Promise<string | undefined> {
    try {
      const res: { value: MicrosoftGraph.MailFolder[] } = await this.graph
        .api(`/users/${encodeURIComponent(target.userId)}/mailFolders/inbox/childFolders`)
        .filter(`displayName eq '${this.folderName.replace(/'/g, "''")}'`)
        .select('id,displayName')
        .options({ signal: timeoutSignal() })
        .get();
      return res.value[0]?.id;
    } catch (err) {
      throw translateGraphError(err, 'find archive folder');
    }
  }

  async findByItemKey(
    target: MailboxRef,
    folderId: string,
    itemKey: string,
    fence?: AbortSignal,
  ): Promise<string | undefined> {
    try {
      const res: { value: MicrosoftGraph.Message[] } = await this.graph
        .api(`/users/${encodeURIComponent(target.userId)}/mailFolders/${encodeURIComponent(folderId)}/messages`)
        .filter(
          `singleValueExtendedProperties/Any(ep: ep/id eq '${ITEM_KEY_PROPERTY}' and ep/value eq '${itemKey.replace(/'/g, "''")}')`,
        )
        .select('id')
        .top(5)
        .options({ signal: timeoutSignal(fence) })
        .get();
      return res.value[0]?.id;
    } catch (err) {
      throw asMailboxError(translateGraphError(err, 'look up archived item', fence));
    }
  }

  async create(target: MailboxRef, folderId: string, message: ArchiveMessage, fence?: AbortSignal): Promise<string> {
    const body: MicrosoftGraph.Message & { singleValueExtendedProperties: Array<{ id: string; value: string }> } = {
      subject: message.subject,
      body: { contentType: 'html', content: message.html },
      from: { emailAddress: message.from },
      sender: { emailAddress: message.from },
      toRecipients: message.to.map((a) => ({ emailAddress: a })),
      ccRecipients: message.cc.map((a) => ({ emailAddress: a })),
      isRead: true,
      internetMessageHeaders: Object.entries(message.headers).map(([name, value]) => ({ name, value })),
      singleValueExtendedProperties: extendedPropertiesFor(message),
    };
    beforeWrite(fence);
    try {
      const created: MicrosoftGraph.Message = await this.graph
        .api(`/users/${encodeURIComponent(target.userId)}/mailFolders/${encodeURIComponent(folderId)}/messages`)
        .select('id')
        .options({ signal: timeoutSignal(fence) })
        .post(body);
      return created.id!;
    } catch (err) {
      throw asMailboxError(translateGraphError(err, 'create message', fence, { write: true }));
    }
  }
}
