import type { ArchiveBlobs } from '../store/archive-blobs';
import type { ErrorLog } from '../store/error-log';
import type { CaptureWindows } from '../store/capture-windows';
import { CONTAINERS } from '../store/names';
import type { VoiceItemKind } from '../store/item-keys';
import {
  VOICE_CONTENT_VERSION,
  callExtensionIds,
  fileExtensionOf,
  messageAttachmentFileId,
  recordingFileId,
  validateCall,
  validateMessage,
  voiceVersionOf,
  type StoredCall,
  type StoredMessage,
} from '../ringcentral/voice-records';
import { renderCall, renderVoiceMessage, type VoiceParty } from '../archive/render-voice';
import type { Participant } from '../archive/people-directory';
import type { ExtensionDirectory } from '../mapping/extension-directory';
import type { RecipientPlanner } from '../mapping/recipient-plan';
import type { FileCapture } from '../capture/file-capture';
import type { ConvertItemMessage } from '../pipeline/messages';
import { InvalidInputError, PermissionMissingError, RetryLaterError } from '../errors';
import type { AttachmentPlanner, FileRef } from './attachment-planner';
import type { ArchiveOutput, ConvertResult } from './archive-output';

/** A recording that has not appeared this long after its call ended is reported, and the call delivered without it. */
export const RECORDING_WAIT_MS = 24 * 3_600_000;
const MIN_RECORDING_RETRY_SECONDS = 60;
const MAX_RECORDING_RETRY_SECONDS = 3600;
/** Text attachments (SMS text, voicemail transcription) become the body; longer text stays an attachment only. */
const MAX_BODY_TEXT_BYTES = 256 * 1024;
const TEXT_TYPES = new Set(['Text', 'AudioTranscription']);

/**
 * Message-store records (SMS/MMS, pager, fax, voicemail) and call-log records → one archive
 * message each, with its files, for the mailboxes of the extensions involved: a message to the
 * extension whose store holds it (each party keeps its own copy), a call to every internal party.
 */
export class VoiceConverter {
  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly directory: ExtensionDirectory,
    private readonly recipients: RecipientPlanner,
    private readonly attachments: AttachmentPlanner,
    private readonly files: FileCapture,
    private readonly output: ArchiveOutput,
    private readonly errors: ErrorLog,
    private readonly callWindows: CaptureWindows,
    private readonly accountId: () => string | undefined = () => undefined,
  ) {}

  async handle(message: ConvertItemMessage, now = new Date()): Promise<ConvertResult> {
    const raw = await this.blobs.getJson<unknown>(CONTAINERS.raw, message.rawBlob);
    if (message.kind === 'call') {
      const checked = validateCall(raw);
      if (!checked.ok)
        throw new InvalidInputError(`stored call record ${message.rawBlob} is malformed: ${checked.reason}`);
      return this.convertCall(checked.record, message, now);
    }
    const checked = validateMessage(raw);
    if (!checked.ok)
      throw new InvalidInputError(`stored message record ${message.rawBlob} is malformed: ${checked.reason}`);
    return this.convertMessage(checked.record, message.kind as Exclude<VoiceItemKind, 'call'>, message);
  }

  private async convertMessage(
    record: StoredMessage,
    kind: Exclude<VoiceItemKind, 'call'>,
    message: ConvertItemMessage,
  ): Promise<ConvertResult> {
    const owner = await this.directory.participant(record.extensionId);
    const party = async (p: StoredMessage['from']): Promise<VoiceParty | undefined> =>
      p
        ? {
            role: 'from',
            phoneNumber: p.phoneNumber,
            extensionNumber: p.extensionNumber,
            extensionId: p.extensionId,
            name: p.name,
            location: p.location,
            participant: p.extensionId ? await this.directory.participant(String(p.extensionId)) : undefined,
          }
        : undefined;
    const from = await party(record.from);
    const to = (await Promise.all((record.to ?? []).map(party)))
      .filter((p): p is VoiceParty => !!p)
      .map((p) => ({ ...p, role: 'to' as const }));

    let text: string | undefined;
    let transcription: string | undefined;
    const refs: FileRef[] = [];
    for (const a of record.attachments ?? []) {
      const ref: FileRef = {
        id: messageAttachmentFileId(record.id, String(a.id)),
        name: a.fileName || `${kind}-${record.id}-${a.id}.${fileExtensionOf(a.contentType)}`,
        size: a.size,
        contentUri: a.uri,
        version: VOICE_CONTENT_VERSION,
        rateGroup: 'Medium',
      };
      if (TEXT_TYPES.has(a.type ?? '') && (a.size ?? 0) <= MAX_BODY_TEXT_BYTES) {
        const body = await this.readText(ref, message.itemKey);
        if (body !== undefined) {
          if (a.type === 'AudioTranscription') transcription = body;
          else text = (text ? `${text}\n` : '') + body;
          continue;
        }
      }
      refs.push(ref);
    }
    const files = await this.attachments.plan(refs, message.itemKey);
    const archived = renderVoiceMessage({
      kind,
      record,
      version: voiceVersionOf(record.creationTime),
      accountId: this.accountId(),
      owner,
      from,
      to,
      text,
      transcription,
      attachments: files.attachments,
      notices: files.notices,
    });
    // Each extension's store holds its own copy of a message: it goes to that extension's mailbox.
    const plan = await this.recipients.plan([owner], { creatorId: owner.id, chatMemberCount: 1 });
    return this.output.publish(archived, plan, files.notices);
  }

  private async convertCall(call: StoredCall, message: ConvertItemMessage, now: Date): Promise<ConvertResult> {
    const ids = callExtensionIds(call);
    const internal = new Map<string, Participant>();
    for (const id of ids) internal.set(id, await this.directory.participant(id));
    const seen = new Set<string>();
    const parties: VoiceParty[] = [];
    const add = (role: 'from' | 'to', p?: StoredCall['from'] | null) => {
      if (!p) return;
      const key = p.extensionId ? `ext:${p.extensionId}` : `tel:${p.phoneNumber ?? p.name ?? ''}`;
      if (seen.has(key)) return;
      seen.add(key);
      parties.push({
        role,
        phoneNumber: p.phoneNumber,
        extensionNumber: p.extensionNumber,
        extensionId: p.extensionId,
        name: p.name,
        location: p.location,
        participant: p.extensionId ? internal.get(String(p.extensionId)) : undefined,
      });
    };
    add('from', call.from);
    add('to', call.to);
    for (const leg of call.legs ?? []) {
      add('from', leg.from);
      add('to', leg.to);
    }

    const refs: FileRef[] = [];
    let recording: 'attached' | 'none' | { missing: string } = 'none';
    if (call.recording?.id) {
      const ref = this.recordingRef(call);
      const state = await this.recordingState(call, ref, message.itemKey, now);
      if (state === 'ready') {
        refs.push(ref);
        recording = 'attached';
      } else recording = { missing: state.missing };
    }
    const files = await this.attachments.plan(refs, message.itemKey);
    if (recording === 'attached' && files.attachments.length === 0)
      recording = { missing: files.notices[0]?.reason ?? 'not attached' };
    const archived = renderCall({
      record: call,
      version: voiceVersionOf(call.startTime),
      accountId: this.accountId(),
      parties,
      recording,
      attachments: files.attachments,
      notices: files.notices,
    });
    const people = [...internal.values()];
    const caller = call.from?.extensionId ? String(call.from.extensionId) : (people[0]?.id ?? 'unknown');
    const plan = await this.recipients.plan(people, { creatorId: caller, chatMemberCount: people.length });
    return this.output.publish(archived, plan, files.notices);
  }

  private recordingRef(call: StoredCall): FileRef {
    const recording = call.recording!;
    return {
      id: recordingFileId(String(recording.id)),
      name: `call-${call.startTime.replace(/[:.]/g, '-')}-recording-${recording.id}`,
      contentUri: recording.contentUri,
      version: VOICE_CONTENT_VERSION,
      rateGroup: 'Heavy',
    };
  }

  /**
   * A recording appears some minutes after its call ends: until then its content answers 404, and
   * the conversion is tried again later, at half the time since the call ended (1 min to 1 h), so
   * a late recording costs a few Heavy requests, not one a minute. After RECORDING_WAIT_MS the call
   * is delivered without it and the loss reported.
   */
  private async recordingState(
    call: StoredCall,
    ref: FileRef,
    itemKey: string,
    now: Date,
  ): Promise<'ready' | { missing: string }> {
    let captured;
    try {
      captured = await this.files.ensure({ ...ref, version: ref.version! });
    } catch (err) {
      if (!(err instanceof PermissionMissingError)) throw err;
      const missing = `the RingCentral app lacks the ${err.permission} permission`;
      await this.callWindows.degrade(`recordings not captured: ${missing}`);
      await this.errors.report({
        stage: 'convert',
        itemKey,
        reason: `recording ${call.recording!.id} not captured: ${missing}`,
      });
      return { missing };
    }
    if (captured.ok) {
      ref.name = `${ref.name}.${fileExtensionOf(captured.file.contentType)}`;
      return 'ready';
    }
    const ended = Date.parse(call.startTime) + (call.duration ?? 0) * 1000;
    const waited = now.getTime() - ended;
    if (captured.status === 404 && waited < RECORDING_WAIT_MS) {
      const delay = Math.min(
        MAX_RECORDING_RETRY_SECONDS,
        Math.max(MIN_RECORDING_RETRY_SECONDS, Math.round(waited / 2000)),
      );
      throw new RetryLaterError(
        delay,
        `recording ${call.recording!.id} not available yet (${Math.round(waited / 60_000)} min after the call)`,
      );
    }
    const missing =
      captured.status === 404
        ? `RingCentral still had no recording ${Math.round(waited / 3_600_000)} h after the call ended`
        : captured.reason;
    await this.errors.report({
      stage: 'convert',
      itemKey,
      reason: `recording ${call.recording!.id} not captured: ${missing}`,
    });
    return { missing };
  }

  /** A text attachment's content (stored by unpack, else downloaded); undefined when it cannot be had. */
  private async readText(ref: FileRef, itemKey: string): Promise<string | undefined> {
    const captured = await this.files.ensure({ ...ref, version: ref.version! });
    if (!captured.ok) {
      await this.errors.report({
        stage: 'convert',
        itemKey,
        reason: `text ${ref.id} not captured: ${captured.reason}`,
      });
      return undefined;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.blobs.openRead(CONTAINERS.files, captured.file.blob))
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
}
