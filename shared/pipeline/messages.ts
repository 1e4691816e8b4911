// Queue message shapes. Small JSON pointing at blobs and table rows; never content.

/** poll-export queue: drive one capture window's export task to a stored dataset. */
export interface ExportWindowMessage { windowId: string; reschedules?: number }

/** unpack queue: one downloaded dataset zip of a window. */
export interface UnpackDatasetMessage { windowId: string; datasetBlob: string; reschedules?: number }

/** convert queue: one captured item version. `folder` is the export folder it came from. */
export interface ConvertItemMessage { itemKey: string; kind: ItemKind; folder: string; rawBlob: string; windowId: string; reschedules?: number }

/** deliver queue: one archive message into one mailbox. */
export interface DeliverItemMessage { itemKey: string; mailbox: string; userId: string; messageBlob: string; reschedules?: number }

/** What becomes an archive message. `record` is anything the export holds that we do not know yet. */
export type ItemKind = 'post' | 'task' | 'note' | 'event' | 'file' | 'record';
export const ITEM_KINDS: readonly ItemKind[] = ['post', 'task', 'note', 'event', 'file', 'record'];

/** Export folders whose records are archived as messages, by kind. */
export const ITEM_FOLDERS: Record<string, ItemKind> = { posts: 'post', tasks: 'task', notes: 'note', events: 'event', files: 'file' };
/** Export folders that are context for items (who, where), not messages themselves. */
export const CONTEXT_FOLDERS = ['chats', 'members', 'guests'] as const;

/** `post:<id>:<lastModifiedTime>` - a version never changes, so the key names exactly one archive message. */
export function itemKeyOf(kind: ItemKind, id: string, version: string): string {
  return `${kind}:${id}:${version}`;
}
