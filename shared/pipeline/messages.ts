// Queue message shapes. Small JSON pointing at blobs and table rows; never content.
import type { ItemKind } from '../store/item-keys';

/** poll-export queue: drive one capture window's export task to a stored dataset. */
export interface ExportWindowMessage {
  windowId: string;
  reschedules?: number;
}

/** unpack queue: one downloaded dataset zip of a window. */
export interface UnpackDatasetMessage {
  windowId: string;
  datasetBlob: string;
  reschedules?: number;
}

/** convert queue: one captured item version. `folder` is the export folder it came from. */
export interface ConvertItemMessage {
  itemKey: string;
  kind: ItemKind;
  folder: string;
  rawBlob: string;
  windowId: string;
  reschedules?: number;
}

/** deliver queue: one archive message into one mailbox. */
export interface DeliverItemMessage {
  itemKey: string;
  mailbox: string;
  userId: string;
  messageBlob: string;
  reschedules?: number;
}
