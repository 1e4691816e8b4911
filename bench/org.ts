import { generateOrganisation } from '../dev/demo-org';
import type { ExportOrganisation, ExportPost } from '../shared/ringcentral/export-records';

export interface BenchOrgOptions {
  posts: number;
  chats: number;
  members: number;
  tasks: number;
  notes: number;
  events: number;
  filesRatio: number;
  largeFileMb: number[];
  /** Share of posts moved into one member's personal chat: the hot mailbox the Graph ceiling is measured on. */
  hotShare: number;
  /** Pads post texts so the record files of the export add up to about this many MB (0 = no padding). */
  exportMb: number;
  seed: number;
  /** Days of history the posts spread over, ending an hour ago (default 2). */
  spanDays?: number;
}

export interface BenchOrg {
  org: ExportOrganisation;
  from: Date;
  to: Date;
  hotMailbox: string;
  hotPosts: number;
  itemVersions: number;
}

const WORDS = [
  'ledger',
  'forecast',
  'rollout',
  'customer',
  'invoice',
  'sprint',
  'review',
  'migration',
  'contract',
  'pipeline',
  'budget',
  'release',
  'incident',
  'roadmap',
  'renewal',
  'quota',
];

/** The synthetic organisation, plus the two shapes the goals need: a hot mailbox and large files in small chats. */
export function benchOrganisation(o: BenchOrgOptions): BenchOrg {
  const to = new Date(Date.now() - 3_600_000);
  const from = new Date(to.getTime() - (o.spanDays ?? 2) * 86_400_000);
  // 300 chats: 60% direct, 27% group, 13% team, plus personal chats and Everyone.
  const direct = Math.round(o.chats * 0.6);
  const group = Math.round(o.chats * 0.27);
  const team = Math.max(1, o.chats - direct - group - 2);
  const org = generateOrganisation({
    seed: o.seed,
    members: o.members,
    guests: 6,
    posts: o.posts,
    tasks: o.tasks,
    notes: o.notes,
    events: o.events,
    filesRatio: o.filesRatio,
    largeFiles: o.largeFileMb.map((mb) => ({ sizeBytes: Math.round(mb * 1024 * 1024) })),
    edits: Math.round(o.posts * 0.005),
    deletions: Math.round(o.posts * 0.002),
    chats: { direct, group, team, personal: 1, everyone: true },
    from,
    to,
    domain: 'bench.example',
  });

  const personal = org.chats.find((c) => c.Type === 'Personal')!;
  const hotMember = org.members.find((m) => m.id === personal.memberIds![0])!;
  const smallChat = org.chats.find((c) => c.Type === 'Direct' && (c.guestIds ?? []).length === 0)!;
  const largeIds = new Set(org.files.filter((f) => (f.size ?? 0) >= 5 * 1024 * 1024).map((f) => f.id));
  const hotEvery = o.hotShare > 0 ? Math.max(1, Math.round(1 / o.hotShare)) : 0;
  let hotPosts = 0;
  for (const [i, post] of org.posts.entries()) {
    const attachments = post.attachments ?? [];
    if (attachments.some((a) => largeIds.has(a.id))) {
      // Large files go to a two-person chat: the goal is one 100 MB file flowing, not 200 copies of it.
      movePost(org, post, smallChat.id, smallChat.memberIds![0]);
    } else if (hotEvery && i % hotEvery === 0 && attachments.length === 0 && !post.chainId) {
      movePost(org, post, personal.id, hotMember.id);
      hotPosts++;
    }
  }
  if (o.exportMb > 0) padPosts(org.posts, o.exportMb * 1024 * 1024, o.seed);
  const itemVersions = org.posts.length + org.tasks.length + org.notes.length + org.events.length + org.files.length;
  return { org, from, to, hotMailbox: hotMember.email!.toLowerCase(), hotPosts, itemVersions };
}

function movePost(org: ExportOrganisation, post: ExportPost, chatId: string, creatorId: string): void {
  // Every version of the post moves, and its attachments follow it into the chat.
  for (const version of org.posts.filter((p) => p.id === post.id)) {
    version.chatId = chatId;
    version.creator = { id: creatorId };
    delete version.mentions;
    if (typeof version.text === 'string') version.text = version.text.replace(/!\[:(Person|Team)\]\([^)]*\)\s*/g, '');
  }
  const ids = new Set((post.attachments ?? []).map((a) => a.id));
  for (const list of [org.files, org.tasks, org.notes, org.events] as Array<Array<{ id: string; chatIds: string[] }>>) {
    for (const record of list) if (ids.has(record.id)) record.chatIds = [chatId];
  }
}

/** Long pasted texts, spread evenly, so the record files (not file content) make up the export size. */
function padPosts(posts: ExportPost[], targetBytes: number, seed: number): void {
  const current = posts.reduce((n, p) => n + JSON.stringify(p).length, 0);
  const extra = targetBytes - current;
  const live = posts.filter((p) => !p.deleted && typeof p.text === 'string');
  if (extra <= 0 || live.length === 0) return;
  const per = Math.ceil(extra / live.length);
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state;
  };
  for (const post of live) {
    const words: string[] = [];
    let length = 0;
    while (length < per) {
      const word = WORDS[next() % WORDS.length];
      words.push(word);
      length += word.length + 1;
    }
    post.text = `${post.text}\n${words.join(' ')}`;
  }
}
