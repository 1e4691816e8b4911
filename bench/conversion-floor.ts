import MailComposer from 'nodemailer/lib/mail-composer';
import type { Readable } from 'node:stream';
import { renderItem } from '../shared/archive/render-item';
import { composeEml } from '../shared/archive/eml';
import type { Participant } from '../shared/archive/people-directory';
import type { ArchiveMessage } from '../shared/archive/archive-message';
import type { ExportOrganisation } from '../shared/ringcentral/export-records';

export interface ConversionFloor {
  messages: number;
  /** renderItem + composeEml (the archiver's conversion code, without storage), per CPU-second. */
  archiverPerCpuSecond: number;
  /** MailComposer alone on the already-rendered fields, per CPU-second. */
  floorPerCpuSecond: number;
  ratio: number;
}

/**
 * The conversion floor, measured in this process on the organisation's own posts: the same
 * messages built (a) by the archiver's render + compose and (b) by nodemailer's MailComposer alone
 * from the rendered fields. CPU time, not wall time, so other load on the machine matters less;
 * the median of `rounds` rounds.
 */
export async function measureConversionFloor(
  org: ExportOrganisation,
  count: number,
  rounds = 3,
): Promise<ConversionFloor> {
  const people = new Map<string, Participant>();
  for (const m of org.members) people.set(m.id, { id: m.id, person: m, guest: false });
  for (const g of org.guests) people.set(g.id, { id: g.id, person: g, guest: true });
  const chats = new Map(org.chats.map((c) => [c.id, c]));
  const posts = org.posts.filter((p) => !p.deleted).slice(0, count);
  const inputs = posts.map((post) => {
    const chat = chats.get(post.chatId);
    const guestIds = new Set(chat?.guestIds ?? []);
    return {
      kind: 'post' as const,
      folder: 'posts',
      record: post as unknown as Parameters<typeof renderItem>[0]['record'],
      version: post.lastModifiedTime,
      chat,
      creator: people.get(post.creator.id) ?? { id: post.creator.id, guest: false },
      members: (chat?.memberIds ?? []).map((id) => people.get(id) ?? { id, guest: false }),
      guests: [...guestIds].map((id) => people.get(id) ?? { id, guest: true }),
    };
  });
  const rendered = inputs.map((i) => renderItem(i));

  const archiver = async () => {
    for (const input of inputs) await drain(composeEml(renderItem(input)));
  };
  const floor = async () => {
    for (const m of rendered) await drain(floorEml(m));
  };
  await archiver(); // warm-up
  await floor();
  const archiverTimes: number[] = [];
  const floorTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    archiverTimes.push(await cpuSeconds(archiver));
    floorTimes.push(await cpuSeconds(floor));
  }
  const archiverPerCpuSecond = inputs.length / median(archiverTimes);
  const floorPerCpuSecond = inputs.length / median(floorTimes);
  return {
    messages: inputs.length,
    archiverPerCpuSecond,
    floorPerCpuSecond,
    ratio: archiverPerCpuSecond / floorPerCpuSecond,
  };
}

/** The same message through MailComposer with nothing of ours around it. */
function floorEml(m: ArchiveMessage): Readable {
  return new MailComposer({
    from: m.from,
    to: m.to,
    cc: m.cc,
    subject: m.subject,
    date: new Date(m.sentAt),
    messageId: '<floor@bench.invalid>',
    text: m.text,
    html: m.html,
    headers: m.headers,
    xMailer: false,
  })
    .compile()
    .createReadStream();
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) {
    /* consume */
  }
}

async function cpuSeconds(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
