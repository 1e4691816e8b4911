import { escapeHtml } from './html';

/** Resolves a mention id (person, team, file, task…) to what a reviewer should read. */
export type MentionResolver = (type: string, id: string) => string | undefined;

// RingCentral Team Messaging text is light markup: `![:Person](id)` mentions, `**bold**`,
// `*italic*`/`_italic_`, `[label](url)` links, bare URLs and `> ` quotes. Everything is escaped
// first; only the constructs below are turned back into tags, so no input markup survives.
const MENTION = /!\[:(Person|Team|File|Task|Note|Event|Everyone|Contact|Unknown)\]\(([^)\s]*)\)/g;
const LINK = /\[([^\]\n]{1,500})\]\((https?:\/\/[^\s)]+)\)/g;
const URL_RE = /\bhttps?:\/\/[^\s<>"')]+[^\s<>"').,;:!?]/g;

export function markupToText(text: string, resolve: MentionResolver): string {
  return text
    .replace(MENTION, (_m, type: string, id: string) => `@${resolve(type, id) ?? `${type} ${id}`}`)
    .replace(LINK, (_m, label: string, url: string) => `${label} (${url})`);
}

export function markupToHtml(text: string, resolve: MentionResolver): string {
  const tokens: string[] = [];
  // Placeholders keep generated tags away from the escaping and the inline rules.
  const hold = (html: string) => `\u0000${tokens.push(html) - 1}\u0000`;
  let s = text
    .replace(/\u0000/g, '')
    .replace(MENTION, (_m, type: string, id: string) =>
      hold(`<strong class="mention">@${escapeHtml(resolve(type, id) ?? `${type} ${id}`)}</strong>`),
    )
    .replace(LINK, (_m, label: string, url: string) => hold(`<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`))
    .replace(URL_RE, (url) => hold(`<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`));
  s = escapeHtml(s)
    .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[\s(])[*_]([^*_\n]+)[*_](?=$|[\s).,!?])/g, '$1<em>$2</em>');
  const lines = s
    .split('\n')
    .map((line) =>
      line.startsWith('&gt; ')
        ? `<blockquote style="margin:0 0 0 8px;border-left:3px solid #ccc;padding-left:8px">${line.slice(5)}</blockquote>`
        : line,
    );
  return lines.join('<br>').replace(/\u0000(\d+)\u0000/g, (_m, i: string) => tokens[Number(i)]);
}
