import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ArchiveMessage } from './archive-message';
import { messageClassOf } from './render-frame';

export interface EmlAttachment {
  filename: string;
  contentType?: string;
  content: Readable | Buffer;
}

/**
 * The RFC 5322 archive copy of a message, built by nodemailer's MIME composer (never by hand)
 * and produced as a stream, so attachments of any size flow through without being buffered.
 */
export function composeEml(message: ArchiveMessage, attachments: EmlAttachment[] = []): Readable {
  const mail = new MailComposer({
    from: message.from,
    to: message.to,
    cc: message.cc,
    date: new Date(message.sentAt),
    messageId: messageIdOf(message.itemKey),
    text: message.text,
    html: message.html,
    headers: {
      ...Object.fromEntries(
        Object.entries(message.headers).map(([name, value]) => [
          name,
          { prepared: true, value: encodedSubject(value) },
        ]),
      ),
      'X-RingCentral-Message-Class': messageClassOf(message.kind),
      Subject: { prepared: true, value: encodedSubject(message.subject) },
    },
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

/**
 * RFC 2047 encoded-words cut on character boundaries (subject and X-RingCentral-* values). nodemailer 7 can cut a character outside
 * the BMP (emoji, math letters) between two encoded-words, which readers turn into U+FFFD.
 */
export function encodedSubject(subject: string): string {
  if (/^[\x20-\x7e]*$/.test(subject) && !subject.includes('=?')) return subject;
  const words: string[] = [];
  let chunk = '';
  for (const char of subject) {
    // 45 UTF-8 bytes make 60 base64 characters: the word stays within 75 characters.
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}
