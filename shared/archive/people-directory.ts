import type { ExportChat, ExportPerson } from '../ringcentral/export-records';
import type { Address } from './archive-message';
import { oneLine } from './html';
import { isPlausibleEmail } from '../email-address';

export interface Participant {
  id: string;
  person?: ExportPerson;
  guest: boolean;
}

/** Display name and address of a RingCentral person, with a placeholder for unknown ids. */
export function addressOf(p: Participant): Address {
  const name = [p.person?.firstName, p.person?.lastName].filter(Boolean).join(' ').trim();
  const email = p.person?.email?.trim() ?? '';
  return {
    // Display names end up in From/To headers: no CR/LF or other controls from the export.
    name: oneLine(name || email || `RingCentral user ${p.id}`, 200),
    address: isPlausibleEmail(email)
      ? email.toLowerCase()
      : `rc-${p.id.replace(/[^A-Za-z0-9._-]/g, '')}@unknown.invalid`,
  };
}

/** The chat's subject line label: its name, or the participants' names for direct chats. */
export function chatLabel(chat: ExportChat | undefined, participants: Participant[]): string {
  if (chat?.name && chat.Type !== 'Direct' && chat.Type !== 'Personal') return chat.name;
  const names = participants.map((p) => addressOf(p).name);
  if (names.length) return names.join(', ');
  return chat?.name || `chat ${chat?.id ?? 'unknown'}`;
}
