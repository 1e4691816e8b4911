import type CallLogRecord from '@rc-ex/core/definitions/CallLogRecord';
import type GetMessageInfoResponse from '@rc-ex/core/definitions/GetMessageInfoResponse';
import { itemKeyOf, type VoiceItemKind } from '../store/item-keys';
import type { Address, ArchiveAttachment, ArchiveMessage, FileNotice } from './archive-message';
import { escapeHtml, oneLine } from './html';
import { addressOf, type Participant } from './people-directory';
import { kindLabel, renderFrame, type Frame } from './render-frame';

/** One side of a message or call: a phone number, an extension, or both. */
export interface VoiceParty {
  role: 'from' | 'to';
  phoneNumber?: string;
  extensionNumber?: string;
  extensionId?: string;
  name?: string;
  location?: string;
  /** set when the party is an internal extension we know */
  participant?: Participant;
}

export type VoiceMessageKind = Exclude<VoiceItemKind, 'call'>;

export interface VoiceMessageInput {
  kind: VoiceMessageKind;
  /** A message-store record. `id` may arrive as a string or a number (the export is read defensively). */
  record: Omit<GetMessageInfoResponse, 'id'> & { id: string | number; extensionId?: string };
  /** The record's creationTime: the item key is itemKeyOf(kind, String(id), version). */
  version: string;
  accountId?: string;
  /** The extension whose message store holds this copy (the mailbox it goes to). */
  owner: Participant;
  from?: VoiceParty;
  to: VoiceParty[];
  /** SMS/pager text (from the Text attachment), undefined when absent. */
  text?: string;
  /** Voicemail transcription text, when RingCentral has one. */
  transcription?: string;
  attachments?: ArchiveAttachment[];
  notices?: FileNotice[];
}

export interface CallInput {
  record: CallLogRecord & { id: string };
  /** The call's startTime. */
  version: string;
  accountId?: string;
  /** from, to, and every further party from the legs, de-duplicated. */
  parties: VoiceParty[];
  /** Why a recorded call carries no recording, when it does not. */
  recording: 'attached' | 'none' | { missing: string };
  attachments?: ArchiveAttachment[];
  notices?: FileNotice[];
}

/** Where an external phone party "lives": a domain that can never deliver anything. */
export const PHONE_DOMAIN = 'phone.ringcentral.invalid';

const SOURCE_LABEL: Record<VoiceItemKind, string> = {
  sms: 'SMS',
  pager: 'pager',
  fax: 'fax',
  voicemail: 'voicemail',
  call: 'call log',
};

/** An SMS/MMS, pager message, fax or voicemail from one extension's message store, as an email. Pure. */
export function renderVoiceMessage(input: VoiceMessageInput): ArchiveMessage {
  const { kind, record, version, owner } = input;
  const id = String(record.id);
  const itemKey = itemKeyOf(kind, id, version);
  const sentAt = isoOf(record.creationTime ?? version);
  const attachments = input.attachments ?? [];
  const notices = input.notices ?? [];
  const outbound = record.direction === 'Outbound';
  const ownerAddress = addressOf(owner);
  const isOwner = (p: VoiceParty) => p.participant?.id === owner.id || (!!p.extensionId && p.extensionId === owner.id);

  // The owner's mailbox is on its own side: the sender of an outbound message, a recipient of an inbound one.
  const from = outbound || (input.from && isOwner(input.from)) ? ownerAddress : partyAddress(input.from);
  const to = input.to.map((p) => (isOwner(p) ? ownerAddress : partyAddress(p)));
  if (!outbound && !input.to.some(isOwner)) to.push(ownerAddress);

  // Who the owner talks with: the sender of an inbound message (and any other recipients of a group
  // message), the recipients of an outbound one.
  const otherRecipients = input.to.filter((p) => !isOwner(p));
  const others = uniqueParties(
    outbound
      ? otherRecipients.length
        ? otherRecipients
        : input.to
      : [...(input.from ? [input.from] : []), ...(input.to.length > 1 ? otherRecipients : [])],
  );
  const othersLabel = others.length ? others.map(subjectLabel).join(', ') : 'unknown';

  const conversationId =
    kind === 'sms' || kind === 'pager'
      ? (stringId(record.conversationId) ?? stringId(record.conversation?.id))
      : undefined;
  const chatId = conversationId ?? id;
  const extensionId = stringId(record.extensionId) ?? owner.id;

  const mms =
    kind === 'sms' &&
    ((record.attachments ?? []).some((a) => a.type !== undefined && a.type !== 'Text') ||
      attachments.length > 0 ||
      notices.length > 0);
  const typeLabel = mms ? 'MMS' : kindLabel(kind);

  const fields: Array<[string, string]> = [['Type', typeLabel]];
  fields.push(['From', input.from ? partyText(input.from) : 'unknown']);
  fields.push(['To', input.to.length ? input.to.map(partyText).join('; ') : 'none']);
  if (record.direction) fields.push(['Direction', record.direction]);
  if (record.messageStatus) fields.push(['Status', record.messageStatus]);
  if (record.priority === 'High') fields.push(['Priority', 'High']);

  let subject: string;
  let topic: string;
  let bodyText = '';
  switch (kind) {
    case 'sms':
    case 'pager': {
      const noun = kind === 'sms' ? 'SMS' : 'Pager';
      subject = `${kind === 'sms' ? typeLabel : 'Pager message'} with ${othersLabel}`;
      // The topic names numbers (or extensions) only, so every message of a thread has the same one.
      topic = `${noun} with ${others.map(partyKey).sort().join(', ') || 'unknown'}`;
      if (record.smsDeliveryTime) fields.push(['Delivered', isoOf(record.smsDeliveryTime)]);
      if (kind === 'pager' && record.pgToDepartment) fields.push(['To department', 'yes']);
      bodyText = input.text ?? '';
      break;
    }
    case 'fax': {
      subject = outbound ? `Fax to ${othersLabel}` : `Fax from ${othersLabel}`;
      if (record.subject?.trim()) subject += ` — ${oneLine(record.subject, 80)}`;
      topic = subject;
      fields.push(['Pages', record.faxPageCount !== undefined ? String(record.faxPageCount) : 'unknown']);
      fields.push(['Resolution', record.faxResolution ?? 'unknown']);
      if (record.subject?.trim()) fields.push(['Fax subject', oneLine(record.subject, 1000)]);
      const errors = (record.to ?? [])
        .filter((t) => t.faxErrorCode)
        .map((t) => `${normalisePhone(t.phoneNumber) ?? t.name ?? 'recipient'}: ${t.faxErrorCode}`);
      if (errors.length) fields.push(['Fax error', errors.join('; ')]);
      bodyText = record.coverPageText?.trim() ? `Cover page: ${record.coverPageText}` : '';
      break;
    }
    case 'voicemail': {
      subject = `Voicemail from ${input.from ? subjectLabel(input.from) : 'unknown'}`;
      topic = subject;
      const audio = (record.attachments ?? []).find((a) => a.type === 'AudioRecording' && a.vmDuration !== undefined);
      fields.push(['Duration', formatDuration(audio?.vmDuration)]);
      fields.push(['Transcription', record.vmTranscriptionStatus ?? 'unknown']);
      bodyText =
        input.transcription !== undefined && input.transcription.trim() !== ''
          ? input.transcription
          : `No transcription (RingCentral transcription status: ${record.vmTranscriptionStatus ?? 'unknown'}).`;
      break;
    }
  }

  const frame: Frame = {
    kind,
    change: 'new',
    version,
    heading: {
      who: `${from.name} <${from.address}>`,
      where: `RingCentral ${typeLabel} (message store of ${ownerAddress.name})`,
      when: sentAt,
    },
    fields,
    bodyHtml: textToHtml(bodyText),
    bodyText,
    attachments,
    notices,
    footer: `Archived from RingCentral ${SOURCE_LABEL[kind]}. ${kind} ${id}, version ${version}.`,
  };
  const { html, text } = renderFrame(frame);

  return {
    itemKey,
    kind,
    source: { accountId: input.accountId, chatId, itemId: id, version, extensionId, conversationId },
    change: 'new',
    subject: oneLine(`[RingCentral] ${subject}`, 250),
    from,
    to: uniqueAddresses(to),
    cc: [],
    sentAt,
    html,
    text,
    conversation: { topic: oneLine(`[RingCentral] ${topic}`, 250), chatId },
    headers: headersOf({
      itemKey,
      kind,
      chatId,
      itemId: id,
      version,
      accountId: input.accountId,
      extensionId,
      conversationId,
    }),
    attachments,
    notices,
  };
}

/** A call log record with its legs, as an email. Pure. */
export function renderCall(input: CallInput): ArchiveMessage {
  const { record, version } = input;
  const kind = 'call' as const;
  const id = String(record.id);
  const itemKey = itemKeyOf(kind, id, version);
  const sentAt = isoOf(record.startTime ?? version);
  const attachments = input.attachments ?? [];
  const notices = input.notices ?? [];
  const sessionId = stringId(record.sessionId) ?? stringId(record.telephonySessionId);
  const chatId = sessionId ?? id;
  const extensionId = stringId(record.extension?.id);

  const callers = uniqueParties(input.parties.filter((p) => p.role === 'from'));
  const callees = uniqueParties(input.parties.filter((p) => p.role === 'to'));
  const caller = callers[0];
  const from = partyAddress(caller);
  const to = uniqueAddresses(callees.map(partyAddress));
  const cc = uniqueAddresses(callers.slice(1).map(partyAddress)).filter(
    (a) => a.address !== from.address && !to.some((t) => t.address === a.address),
  );

  const find = (raw: RawParty | undefined): VoiceParty | RawParty | undefined => {
    if (!raw) return undefined;
    const number = normalisePhone(raw.phoneNumber);
    return (
      input.parties.find(
        (p) =>
          (raw.extensionId && p.extensionId === String(raw.extensionId)) ||
          (number && normalisePhone(p.phoneNumber) === number) ||
          (raw.extensionNumber && p.extensionNumber === raw.extensionNumber),
      ) ?? raw
    );
  };
  const fromParty = find(record.from) ?? caller;
  const toParty = find(record.to) ?? callees[0];

  const recording =
    input.recording === 'attached'
      ? 'attached'
      : input.recording === 'none'
        ? 'not recorded'
        : `recording not available: ${oneLine(input.recording.missing, 300)}`;
  const noun = record.type === 'Fax' ? 'Fax call' : 'Call';

  const fields: Array<[string, string]> = [
    ['Direction', record.direction ?? 'unknown'],
    ['Result', record.result ?? 'unknown'],
  ];
  if (record.reason) fields.push(['Reason', record.reason]);
  if (record.reasonDescription) fields.push(['Reason description', oneLine(record.reasonDescription, 500)]);
  fields.push(
    ['Start', sentAt],
    ['Duration', formatDuration(record.duration)],
    ['From', fromParty ? partyText(fromParty) : 'unknown'],
    ['To', toParty ? partyText(toParty) : 'unknown'],
    ['Parties', input.parties.length ? uniqueParties(input.parties).map(partyText).join('; ') : 'none'],
    ['Call type', [record.type ?? 'unknown', record.transport].filter(Boolean).join(', ')],
    ['Action', record.action ?? 'unknown'],
    ['Recording', recording],
  );
  if (record.recording?.type) fields.push(['Recording type', record.recording.type]);
  if (record.message?.id) fields.push(['Message', `${record.message.type ?? 'message'} ${record.message.id}`]);
  (record.legs ?? []).forEach((leg, i) => {
    const parts = [
      leg.legType ?? 'leg',
      `${describe(find(leg.from))} → ${describe(find(leg.to))}`,
      leg.action,
      leg.result,
      leg.duration !== undefined ? formatDuration(leg.duration) : undefined,
      leg.startTime ? `started ${isoOf(leg.startTime)}` : undefined,
      leg.extension?.id !== undefined ? `extension ${leg.extension.id}` : undefined,
    ];
    fields.push([`Leg ${i + 1}${leg.master ? ' (master)' : ''}`, parts.filter(Boolean).join(', ')]);
  });

  const callerLabel = caller ? subjectLabel(caller) : fromParty ? subjectLabel(fromParty) : 'unknown';
  const calleeLabel = callees.length
    ? callees.map(subjectLabel).join(', ')
    : toParty
      ? subjectLabel(toParty)
      : 'unknown';
  const between = `${noun} from ${callerLabel} to ${calleeLabel}`;
  const frame: Frame = {
    kind,
    change: 'new',
    version,
    heading: { who: `${from.name} <${from.address}>`, where: 'RingCentral call log', when: sentAt },
    fields,
    bodyHtml: '',
    bodyText: '',
    attachments,
    notices,
    footer: `Archived from RingCentral ${SOURCE_LABEL[kind]}. ${kind} ${id}, version ${version}.`,
  };
  const { html, text } = renderFrame(frame);

  return {
    itemKey,
    kind,
    source: { accountId: input.accountId, chatId, itemId: id, version, extensionId, sessionId },
    change: 'new',
    subject: oneLine(`[RingCentral] ${between}${record.result ? ` (${record.result})` : ''}`, 250),
    from,
    to,
    cc,
    sentAt,
    html,
    text,
    conversation: { topic: oneLine(`[RingCentral] ${between}`, 250), chatId },
    headers: headersOf({
      itemKey,
      kind,
      chatId,
      itemId: id,
      version,
      accountId: input.accountId,
      extensionId,
      sessionId,
    }),
    attachments,
    notices,
  };
}

/**
 * A phone number as `+<digits>` (E.164) when it has a plus or 11-15 digits (RingCentral writes E.164
 * with or without the plus), else its digits alone; undefined when it holds no digit.
 */
export function normalisePhone(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const trimmed = raw.trim();
  const digits = trimmed.replace(/\D/g, '');
  if (!digits) return undefined;
  return trimmed.startsWith('+') || (digits.length >= 11 && digits.length <= 15) ? `+${digits}` : digits;
}

/** `+1 415 555 0123` for a North American number; any other number as normalised. */
export function displayPhone(number: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  return nanp ? `+1 ${nanp[1]} ${nanp[2]} ${nanp[3]}` : number;
}

/** `0:05:12 (312 seconds)`; `unknown` when RingCentral gave none. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return 'unknown';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${h}:${pad(m)}:${pad(s % 60)} (${s} ${s === 1 ? 'second' : 'seconds'})`;
}

/**
 * The address of a party: a known extension's mailbox, else one that shows the number and can never
 * be delivered (`+14155550123@phone.ringcentral.invalid`).
 */
export function partyAddress(p: VoiceParty | undefined): Address {
  if (p?.participant) return addressOf(p.participant);
  const name = p?.name?.trim();
  const number = normalisePhone(p?.phoneNumber);
  if (number)
    return { name: oneLine(name ? `${name} (${number})` : number, 200), address: `${number}@${PHONE_DOMAIN}` };
  const ext = p?.extensionNumber?.replace(/\D/g, '');
  if (ext)
    return {
      name: oneLine(name ? `${name} (ext. ${ext})` : `ext. ${ext}`, 200),
      address: `ext-${ext}@${PHONE_DOMAIN}`,
    };
  return { name: oneLine(name || 'Unknown party', 200), address: `unknown@${PHONE_DOMAIN}` };
}

type RawParty = {
  phoneNumber?: string;
  extensionNumber?: string;
  extensionId?: string;
  name?: string;
  location?: string;
};

function nameOf(p: RawParty & { participant?: Participant }): string {
  return oneLine(p.name?.trim() || (p.participant ? addressOf(p.participant).name : ''), 200);
}

/** `+1 415 555 0123 (Carla Customer)`, `Dev Dahl (ext. 104)`: a party as a subject names it. */
function subjectLabel(p: RawParty & { participant?: Participant }): string {
  const name = nameOf(p);
  const number = normalisePhone(p.phoneNumber);
  if (number) return name ? `${displayPhone(number)} (${name})` : displayPhone(number);
  const ext = p.extensionNumber?.trim();
  if (ext) return name ? `${name} (ext. ${oneLine(ext, 20)})` : `ext. ${oneLine(ext, 20)}`;
  return name || 'unknown';
}

/** `Carla Customer (+14155550123) — San Francisco, CA`: a party in full, as a field shows it. */
function partyText(p: RawParty & { participant?: Participant }): string {
  const name = nameOf(p);
  const number = normalisePhone(p.phoneNumber);
  const ids = [number, p.extensionNumber?.trim() ? `ext. ${p.extensionNumber.trim()}` : undefined].filter(Boolean);
  let text = name ? (ids.length ? `${name} (${ids.join(', ')})` : name) : ids.join(', ') || 'unknown';
  if (p.participant) {
    const address = addressOf(p.participant).address;
    if (!address.endsWith('.invalid')) text += ` <${address}>`;
  }
  if (p.location?.trim()) text += ` — ${p.location.trim()}`;
  return oneLine(text, 400);
}

function describe(p: (RawParty & { participant?: Participant }) | undefined): string {
  return p ? partyText(p) : 'unknown';
}

/** What identifies a party in a conversation topic: its number, else its extension, else its name. */
function partyKey(p: VoiceParty): string {
  const number = normalisePhone(p.phoneNumber);
  if (number) return number;
  if (p.extensionNumber?.trim()) return `ext. ${oneLine(p.extensionNumber, 20)}`;
  return nameOf(p) || 'unknown';
}

function uniqueParties(parties: VoiceParty[]): VoiceParty[] {
  const seen = new Set<string>();
  return parties.filter((p) => {
    const key = p.participant ? `participant:${p.participant.id}` : `${partyKey(p)}|${p.extensionId ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function uniqueAddresses(addresses: Address[]): Address[] {
  const seen = new Set<string>();
  return addresses.filter((a) => {
    const key = a.address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function headersOf(h: {
  itemKey: string;
  kind: VoiceItemKind;
  chatId: string;
  itemId: string;
  version: string;
  accountId?: string;
  extensionId?: string;
  sessionId?: string;
  conversationId?: string;
}): Record<string, string> {
  const optional = (name: string, value: string | undefined) =>
    value ? { [`X-RingCentral-${name}`]: oneLine(value, 100) } : {};
  return {
    'X-RingCentral-Item-Key': oneLine(h.itemKey, 400),
    'X-RingCentral-Kind': h.kind,
    'X-RingCentral-Chat-Id': oneLine(h.chatId, 100),
    'X-RingCentral-Item-Id': oneLine(h.itemId, 100),
    'X-RingCentral-Version': oneLine(h.version, 40),
    ...optional('Account-Id', h.accountId),
    ...optional('Extension-Id', h.extensionId),
    ...optional('Session-Id', h.sessionId),
    ...optional('Conversation-Id', h.conversationId),
  };
}

function stringId(value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim() || undefined : typeof value === 'number' ? String(value) : undefined;
}

function isoOf(time: string): string {
  return Number.isNaN(Date.parse(time)) ? new Date(0).toISOString() : new Date(time).toISOString();
}

function textToHtml(text: string): string {
  return text ? escapeHtml(text).replace(/\r\n|\r|\n/g, '<br>') : '';
}
