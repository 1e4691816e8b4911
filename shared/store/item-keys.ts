/**
 * What becomes an archive message. Team Messaging: post, task, note, event, file, and `record` for
 * anything the export holds that we do not know yet. Voice and messaging: sms (SMS and MMS), pager,
 * fax, voicemail, call.
 */
export type ItemKind = 'post' | 'task' | 'note' | 'event' | 'file' | 'record' | VoiceItemKind;
export type VoiceItemKind = 'sms' | 'pager' | 'fax' | 'voicemail' | 'call';
export const VOICE_ITEM_KINDS: readonly VoiceItemKind[] = ['sms', 'pager', 'fax', 'voicemail', 'call'];
export const isVoiceKind = (kind: string): kind is VoiceItemKind =>
  (VOICE_ITEM_KINDS as readonly string[]).includes(kind);

/**
 * `post:<id>:<lastModifiedTime>` - a version never changes, so the key names exactly one archive
 * message. Voice items take their creation (start) time as version: a message or call is one item
 * however often its read status or record changes.
 */
export function itemKeyOf(kind: ItemKind, id: string, version: string): string {
  return `${kind}:${id}:${version}`;
}
