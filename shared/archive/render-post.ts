import type { ExportChat, ExportPost } from '../ringcentral/export-records';
import { itemKeyOf } from '../pipeline/messages';
import type { ArchiveMessage } from './archive-message';
import { escapeHtml, oneLine } from './html';
import { addressOf, chatLabel, type Participant } from './people-directory';

export interface PostContext {
  chat?: ExportChat;
  creator: Participant;
  members: Participant[];
  guests: Participant[];
}

/** A post and its context, as an email a reviewer can read. Pure: same input, same message. */
export function renderPost(post: ExportPost, version: string, ctx: PostContext): ArchiveMessage {
  const from = addressOf(ctx.creator);
  const others = [...ctx.members, ...ctx.guests].filter((p) => p.id !== ctx.creator.id);
  const label = oneLine(chatLabel(ctx.chat, ctx.chat?.Type === 'Direct' ? [ctx.creator, ...others] : others), 120);
  const when = new Date(post.creationTime).toISOString();
  const text = post.text ?? '';
  const chatName = ctx.chat?.name ?? label;
  const itemKey = itemKeyOf('post', post.id, version);
  const edited = version !== new Date(post.creationTime).toISOString() && !post.deleted;

  const banner = post.deleted ? 'This post was deleted in RingCentral.' : edited ? `This post was edited in RingCentral (version ${version}).` : '';
  const html = [
    '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="font-family:Segoe UI,Arial,sans-serif">',
    banner ? `<p style="background:#fff4ce;border:1px solid #e0c060;padding:6px"><strong>${escapeHtml(banner)}</strong></p>` : '',
    `<p style="color:#555"><strong>${escapeHtml(from.name)}</strong> &lt;${escapeHtml(from.address)}&gt; in <strong>${escapeHtml(chatName)}</strong> (${escapeHtml(ctx.chat?.Type ?? 'chat')})<br>${escapeHtml(when)}</p>`,
    `<div style="white-space:pre-wrap">${escapeHtml(text)}</div>`,
    `<hr><p style="color:#888;font-size:smaller">Archived from RingCentral Team Messaging. Chat ${escapeHtml(post.chatId)}, post ${escapeHtml(post.id)}, version ${escapeHtml(version)}.</p>`,
    '</body></html>',
  ].join('');
  const plain = [
    banner,
    `${from.name} <${from.address}> in ${chatName} (${ctx.chat?.Type ?? 'chat'})`,
    when,
    '',
    text,
    '',
    `-- Archived from RingCentral Team Messaging. Chat ${post.chatId}, post ${post.id}, version ${version}.`,
  ].filter((line, i) => i > 0 || line).join('\n');

  return {
    itemKey,
    kind: 'post',
    source: { accountId: ctx.chat?.accountId, chatId: post.chatId, itemId: post.id, version },
    subject: `[RingCentral] ${label} — Post`,
    from,
    to: ctx.members.map(addressOf),
    cc: ctx.guests.map(addressOf),
    sentAt: when,
    html,
    text: plain,
    conversation: { topic: oneLine(`[RingCentral] ${label}`, 250), chatId: post.chatId },
    headers: {
      'X-RingCentral-Item-Key': oneLine(itemKey, 400),
      'X-RingCentral-Chat-Id': oneLine(post.chatId, 100),
      'X-RingCentral-Post-Id': oneLine(post.id, 100),
      'X-RingCentral-Version': version,
      ...(ctx.chat?.accountId ? { 'X-RingCentral-Account-Id': oneLine(ctx.chat.accountId, 100) } : {}),
    },
  };
}
