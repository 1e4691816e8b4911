import type { ItemKind } from '../store/item-keys';
import type { ArchiveAttachment, FileNotice } from './archive-message';
import { escapeHtml } from './html';

export interface Frame {
  kind: ItemKind;
  change: 'new' | 'edited' | 'deleted';
  version: string;
  previousVersion?: string;
  /** "Alice <a@x> in Deals desk (Team)" and the time. */
  heading: { who: string; where: string; when: string };
  /** Label/value rows for structured items (task status, event times…). Values are plain text. */
  fields?: Array<[string, string]>;
  /** Already-safe HTML body and its plain-text twin. */
  bodyHtml: string;
  bodyText: string;
  quote?: { author: string; html: string; text: string };
  attachments: ArchiveAttachment[];
  notices: FileNotice[];
  footer: string;
}

const KIND_LABEL: Record<ItemKind, string> = {
  post: 'Post',
  task: 'Task',
  note: 'Note',
  event: 'Event',
  file: 'File',
  record: 'Record',
  sms: 'SMS',
  pager: 'Pager message',
  fax: 'Fax',
  voicemail: 'Voicemail',
  call: 'Call',
};
const CLASS_SUFFIX: Record<ItemKind, string> = {
  post: 'Post',
  task: 'Task',
  note: 'Note',
  event: 'Event',
  file: 'File',
  record: 'Record',
  sms: 'Sms',
  pager: 'Pager',
  fax: 'Fax',
  voicemail: 'Voicemail',
  call: 'Call',
};
export const kindLabel = (kind: ItemKind) => KIND_LABEL[kind];
/** `IPM.Note.RingCentral.<Kind>`, as in PidTagMessageClass and the eml copy's header. */
export const messageClassOf = (kind: ItemKind) => `IPM.Note.RingCentral.${CLASS_SUFFIX[kind] ?? 'Record'}`;

/** The one layout every archived item uses, in HTML and in plain text. */
export function renderFrame(f: Frame): { html: string; text: string } {
  const banner =
    f.change === 'deleted'
      ? `This ${kindLabel(f.kind).toLowerCase()} was deleted in RingCentral (deletion recorded ${f.version}).`
      : f.change === 'edited'
        ? `This ${kindLabel(f.kind).toLowerCase()} was edited in RingCentral. This is version ${f.version}${f.previousVersion ? `; the previous version is ${f.previousVersion}` : ''}.`
        : '';
  const html: string[] = [
    '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="font-family:Segoe UI,Arial,sans-serif;font-size:14px">',
  ];
  if (banner) {
    const colour = f.change === 'deleted' ? '#fde7e9;border:1px solid #d13438' : '#fff4ce;border:1px solid #c19c00';
    html.push(`<p style="background:${colour};padding:6px"><strong>${escapeHtml(banner)}</strong></p>`);
  }
  html.push(
    `<p style="color:#444"><strong>${escapeHtml(f.heading.who)}</strong> in <strong>${escapeHtml(f.heading.where)}</strong><br>${escapeHtml(f.heading.when)}</p>`,
  );
  if (f.quote) {
    html.push(
      `<blockquote style="margin:0 0 8px 0;border-left:3px solid #8a8886;padding-left:8px;color:#605e5c">In reply to <strong>${escapeHtml(f.quote.author)}</strong>:<br>${f.quote.html}</blockquote>`,
    );
  }
  if (f.fields?.length) {
    html.push('<table style="border-collapse:collapse">');
    for (const [label, value] of f.fields)
      html.push(
        `<tr><td style="padding:2px 8px 2px 0;color:#605e5c">${escapeHtml(label)}</td><td style="padding:2px 0">${escapeHtml(value)}</td></tr>`,
      );
    html.push('</table>');
  }
  if (f.bodyHtml) html.push(`<div>${f.bodyHtml}</div>`);
  if (f.attachments.length) {
    html.push(
      `<p>Attachments: ${f.attachments.map((a) => `${escapeHtml(a.name)} (${formatBytes(a.size)})`).join(', ')}</p>`,
    );
  }
  for (const n of f.notices)
    html.push(`<p style="background:#f3f2f1;border:1px solid #8a8886;padding:6px">${escapeHtml(noticeText(n))}</p>`);
  html.push(`<hr><p style="color:#8a8886;font-size:smaller">${escapeHtml(f.footer)}</p></body></html>`);

  const text: string[] = [];
  if (banner) text.push(banner, '');
  text.push(`${f.heading.who} in ${f.heading.where}`, f.heading.when, '');
  if (f.quote) text.push(`In reply to ${f.quote.author}:`, ...f.quote.text.split('\n').map((l) => `> ${l}`), '');
  for (const [label, value] of f.fields ?? []) text.push(`${label}: ${value}`);
  if (f.fields?.length) text.push('');
  if (f.bodyText) text.push(f.bodyText, '');
  if (f.attachments.length)
    text.push(`Attachments: ${f.attachments.map((a) => `${a.name} (${formatBytes(a.size)})`).join(', ')}`, '');
  for (const n of f.notices) text.push(noticeText(n), '');
  text.push(`-- ${f.footer}`);
  return { html: html.join(''), text: text.join('\n') };
}

export function noticeText(n: FileNotice): string {
  const parts = [`File "${n.name}" is not attached: ${n.reason}.`];
  if (n.size !== undefined) parts.push(`Size: ${formatBytes(n.size)} (${n.size} bytes).`);
  if (n.sha256) parts.push(`SHA-256: ${n.sha256}.`);
  if (n.location) parts.push(`Archived copy: ${n.location}.`);
  return parts.join(' ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
