// Shapes of the records inside a Team Messaging compliance export zip
// (compliance-export-structure.md). @rc-ex/core types the export *task*, not
// the zip contents, so these are ours. Fields the docs mark optional stay optional:
// real exports omit them, and bad input must be reported, not crash the parser.
import type { ItemKind } from '../store/item-keys';

export type ExportFolder = 'chats' | 'members' | 'guests' | 'posts' | 'events' | 'tasks' | 'notes' | 'files';
export const EXPORT_FOLDERS: readonly ExportFolder[] = [
  'chats',
  'members',
  'guests',
  'posts',
  'events',
  'tasks',
  'notes',
  'files',
];

/** Export folders whose records are archived as messages, by kind. */
export const ITEM_FOLDERS: Record<string, ItemKind> = {
  posts: 'post',
  tasks: 'task',
  notes: 'note',
  events: 'event',
  files: 'file',
};
/** Export folders that are context for items (who, where), not messages themselves. */
export const CONTEXT_FOLDERS = ['chats', 'members', 'guests'] as const satisfies readonly ExportFolder[];

export interface IdRef {
  id: string;
}

export interface ExportChat {
  id: string;
  accountId?: string;
  creationTime: string;
  lastModifiedTime: string;
  /** Capital T, as in the export. */
  Type: 'Personal' | 'Direct' | 'Group' | 'Team' | 'Everyone' | string;
  name?: string;
  description?: string;
  public?: boolean;
  status?: 'Active' | 'Archived' | string;
  totalMemberCount?: number;
  memberIds?: string[];
  totalGuestCount?: number;
  guestIds?: string[];
  deleted?: boolean;
}

export interface ExportPerson {
  id: string;
  accountId?: string;
  creationTime?: string;
  lastModifiedTime?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  jobTitle?: string;
  profileImage?: { uri?: string };
  deactivated?: boolean;
}

export interface ExportPost {
  id: string;
  creationTime: string;
  lastModifiedTime: string;
  creator: IdRef;
  chatId: string;
  chainId?: string;
  text?: string;
  attachments?: Array<{ id: string; type: 'Event' | 'File' | 'Note' | 'Task' | 'Unknown' | string }>;
  mentions?: Array<{ id: string; type: string; name?: string }>;
  deleted?: boolean;
}

export interface ExportEvent {
  id: string;
  creationTime: string;
  lastModifiedTime: string;
  type: 'Event';
  creator: IdRef;
  chatIds: string[];
  subject?: string;
  startTime?: string;
  endTime?: string;
  color?: string;
  location?: string;
  description?: string;
  recurrence?: { schedule?: string; endingCondition?: string; endingAfter?: number; endingOn?: string };
  deleted?: boolean;
}

export interface ExportFile {
  id: string;
  creationTime: string;
  lastModifiedTime: string;
  type: 'File';
  creator: IdRef;
  lastModifiedBy?: IdRef;
  chatIds: string[];
  name: string;
  size: number;
  contentUri: string;
  deleted?: boolean;
}

export interface ExportNote {
  id: string;
  creationTime: string;
  lastModifiedTime: string;
  type: 'Note';
  creator: IdRef;
  lastModifiedBy?: IdRef;
  lockedBy?: IdRef;
  chatIds: string[];
  status?: 'Draft' | 'Active' | string;
  title?: string;
  body?: string;
  deleted?: boolean;
}

export interface ExportTask {
  id: string;
  creationTime: string;
  lastModifiedTime: string;
  type: 'Task';
  creator: IdRef;
  chatIds: string[];
  status?: 'Pending' | 'InProgress' | 'Completed' | string;
  subject?: string;
  assignees?: Array<{ id: string; status?: string }>;
  completenessCondition?: string;
  completenessPercentage?: number;
  startDate?: string;
  dueDate?: string;
  color?: string;
  section?: string;
  description?: string;
  recurrence?: { schedule?: string; endingCondition?: string; endingAfter?: number; endingOn?: string };
  attachments?: Array<{ id: string; type: 'File' | string; contentUri?: string; name?: string }>;
  deleted?: boolean;
}

/** One export file: `<folder>/<folder>_<n>.json`. */
export interface ExportRecordFile<T> {
  records: T[];
}

/** `request_info.json` at the root of the zip. */
export interface ExportRequestInfo {
  id?: string;
  timeFrom?: string;
  timeTo?: string;
  [key: string]: unknown;
}

/** Everything a RingCentral account holds for the export, as a seedable organisation. */
export interface ExportOrganisation {
  accountId: string;
  chats: ExportChat[];
  members: ExportPerson[];
  guests: ExportPerson[];
  /** Every version of every post; versions share `id` and differ in `lastModifiedTime`. */
  posts: ExportPost[];
  events: ExportEvent[];
  tasks: ExportTask[];
  notes: ExportNote[];
  files: ExportFile[];
}
