// Queue message shapes. Small JSON pointing at blobs and table rows; never content.

/** exports queue: drive one capture window's export task to a stored dataset. */
export interface ExportWindowMessage { windowId: string; reschedules?: number }

/** unpack queue: one downloaded dataset zip of a window. */
export interface UnpackDatasetMessage { windowId: string; datasetBlob: string; reschedules?: number }

/** convert queue: one captured item version. */
export interface ConvertItemMessage { itemKey: string; kind: ItemKind; rawBlob: string; windowId: string; reschedules?: number }

/** deliver queue: one archive message into one mailbox. */
export interface DeliverItemMessage { itemKey: string; mailbox: string; userId: string; messageBlob: string; reschedules?: number }

export type ItemKind = 'post';

/** `post:<id>:<lastModifiedTime>` - a version never changes, so the key names exactly one archive message. */
export function itemKeyOf(kind: ItemKind, id: string, version: string): string {
  return `${kind}:${id}:${version}`;
}
