import { Readable } from 'node:stream';
import type CallLogRecord from '@rc-ex/core/definitions/CallLogRecord';
import type GetExtensionListInfoResponse from '@rc-ex/core/definitions/GetExtensionListInfoResponse';
import type GetMessageInfoResponse from '@rc-ex/core/definitions/GetMessageInfoResponse';
import type MessageAttachmentInfo from '@rc-ex/core/definitions/MessageAttachmentInfo';
import { fileContentStream } from '../../generated-content';

/**
 * The voice-and-messaging side of a RingCentral account the double serves: extensions, the
 * message store of each extension (SMS/MMS, pager, fax, voicemail) and the call log with its
 * recordings. Records are the vendor's own shapes; the double adds `uri`s (API host) and
 * `contentUri`s (media host) when it serves them, so one organisation works on any port.
 */
export interface VoiceOrganisation {
  accountId: string;
  extensions: VoiceExtension[];
  messages: VoiceMessage[];
  calls: VoiceCall[];
}

/** An extension as the extension list shows it; `uri` is added when served. */
export type VoiceExtension = Omit<GetExtensionListInfoResponse, 'id' | 'uri'> & { id: number; extensionNumber: string };

export type MessageType = NonNullable<GetMessageInfoResponse['type']>;
export const REPORT_MESSAGE_TYPES = ['Fax', 'SMS', 'VoiceMail', 'Pager'] as const;

/**
 * One message in one extension's message store. A message between two extensions of the account
 * (a pager message) is two messages, one in each store, with their own ids, as RingCentral keeps them.
 * `record.attachments` is ignored: the attachments come from `attachments`, with URIs added.
 */
export interface VoiceMessage {
  extensionId: string;
  record: Omit<GetMessageInfoResponse, 'id' | 'uri' | 'attachments' | 'extensionId'> & {
    id: number;
    type: MessageType;
    creationTime: string;
    lastModifiedTime: string;
  };
  attachments: VoiceAttachment[];
}

/** An attachment's metadata, plus `text` for text attachments (SMS text, voicemail transcription); other bytes are generated. */
export interface VoiceAttachment {
  info: Omit<MessageAttachmentInfo, 'id' | 'uri'> & { id: number; contentType: string; size: number };
  text?: string;
}

/**
 * One call log record (the Detailed view; the Simple view drops `legs` and `lastModifiedTime`).
 * `record.recording` is ignored: it is built from `recording` when served.
 */
export interface VoiceCall {
  record: Omit<CallLogRecord, 'recording' | 'uri'> & {
    id: string;
    sessionId: string;
    startTime: string;
    duration: number;
    direction: NonNullable<CallLogRecord['direction']>;
    type: NonNullable<CallLogRecord['type']>;
  };
  recording?: VoiceRecording;
}

export interface VoiceRecording {
  id: string;
  type: 'Automatic' | 'OnDemand';
  contentType: 'audio/mpeg' | 'audio/wav';
  size: number;
  /** Overrides the double's `recordingDelayMs` for this recording: content answers 404 until this long after the call ends. */
  delayMs?: number;
}

/** When a call ends: start + duration. */
export function callEndMs(call: VoiceCall): number {
  return Date.parse(call.record.startTime) + call.record.duration * 1000;
}

/** The bytes of an attachment: its text, or deterministic bytes from its id and size. `end` inclusive. */
export function attachmentContentStream(
  attachment: VoiceAttachment,
  start = 0,
  end = attachment.info.size - 1,
): Readable {
  if (attachment.text !== undefined)
    return Readable.from([Buffer.from(attachment.text, 'utf8').subarray(start, end + 1)]);
  return fileContentStream(`attachment-${attachment.info.id}`, attachment.info.size, start, end);
}

/** The bytes of a call recording, deterministic from its id and size. `end` inclusive. */
export function recordingContentStream(recording: VoiceRecording, start = 0, end = recording.size - 1): Readable {
  return fileContentStream(`recording-${recording.id}`, recording.size, start, end);
}

const EXTENSIONS: Record<string, string> = {
  'text/plain': 'txt',
  'application/pdf': 'pdf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'video/mp4': 'mp4',
  'image/tiff': 'tif',
};

/** The file name of an attachment inside an archive zip: `<attachmentId>.<ext>` (ext from the content type). */
export function archiveFileName(info: VoiceAttachment['info']): string {
  return `${info.id}.${EXTENSIONS[info.contentType.split(';')[0].trim().toLowerCase()] ?? 'bin'}`;
}

export function emptyVoiceOrganisation(accountId: string): VoiceOrganisation {
  return { accountId, extensions: [], messages: [], calls: [] };
}
