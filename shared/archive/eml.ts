import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ArchiveMessage } from './archive-message';

export interface EmlAttachment { filename: string; contentType?: string; content: Readable | Buffer }

/**
 * The RFC 5322 archive copy of a message, built by nodemailer's MIME composer (never by hand)
 * and produced as a stream, so attachments of any size flow through without being buffered.
 */
export function composeEml(message: ArchiveMessage, attachments: EmlAttachment[] = []): Readable {
  const mail = new MailComposer({
    from: message.from,
    to: message.to,
    cc: message.cc,
    subject: message.subject,
    date: new Date(message.sentAt),
    messageId: messageIdOf(message.itemKey),
    text: message.text,
    html: message.html,
    headers: { ...message.headers, 'X-RingCentral-Message-Class': `IPM.Note.RingCentral.${message.kind}` },
    attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    // Keep exactly what we give it: no generated X-Mailer, no text from HTML.
    xMailer: false,
  });
  return mail.compile().createReadStream();
}

/** Stable Message-ID per item version, so every copy of one version shares it. */
export function messageIdOf(itemKey: string): string {
  return `<${createHash('sha256').update(itemKey).digest('hex').slice(0, 32)}@ringcentral-archive.invalid>`;
}
