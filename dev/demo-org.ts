import { seededRandom } from './seeded-random';
import { fileContentStream } from './generated-content';

export { fileContentStream };
import type {
  ExportChat,
  ExportEvent,
  ExportFile,
  ExportNote,
  ExportOrganisation,
  ExportPerson,
  ExportPost,
  ExportTask,
} from '../shared/ringcentral/export-records';
import type {
  VoiceAttachment,
  VoiceCall,
  VoiceExtension,
  VoiceMessage,
  VoiceOrganisation,
  VoiceRecording,
} from './doubles/ringcentral/voice-records';

export const DEMO_ORGANISATION_LABEL = 'DEMO DATA';

/**
 * File `contentUri`s start with this placeholder; the RingCentral double rewrites it to its media
 * host when it writes a dataset, so one generated organisation works with any port.
 */
export const MEDIA_PLACEHOLDER = '{MEDIA}';
export function fileContentPath(fileId: string): string {
  return `/file/${encodeURIComponent(fileId)}`;
}

export interface OrganisationOptions {
  seed?: number;
  members?: number;
  guests?: number;
  chats?: { direct?: number; group?: number; team?: number; personal?: number; everyone?: boolean };
  posts?: number;
  tasks?: number;
  notes?: number;
  events?: number;
  /** Share of posts carrying a file. */
  filesRatio?: number;
  /** Extra files of exactly these sizes, attached to posts spread over the range. */
  largeFiles?: Array<{ sizeBytes: number }>;
  /** Posts that get a second, edited version (same id, later lastModifiedTime). */
  edits?: number;
  /** Posts that get a later version with `deleted: true`. */
  deletions?: number;
  from: Date;
  to: Date;
  domain?: string;
}

interface Naming {
  firstNames: readonly string[];
  lastNames: readonly string[];
  guestFirstNames: readonly string[];
  guestLastNames: readonly string[];
  teamNames: readonly string[];
  guestDomain: (index: number) => string;
  chatLabel: string;
}

const FIRST_NAMES = [
  'Alice',
  'Bruno',
  'Chloe',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Keiko',
  'Liam',
  'Maya',
  'Nikhil',
  'Olga',
  'Pedro',
  'Quinn',
  'Rosa',
  'Samir',
  'Tara',
  'Uma',
  'Victor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
];
const LAST_NAMES = [
  'Anders',
  'Baker',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Hughes',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Murphy',
  'Nakamura',
  'Okafor',
  'Patel',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Varga',
  'Walsh',
  'Young',
];
const TEAM_NAMES = [
  'Project Falcon',
  'Quarterly Close',
  'Customer Success',
  'Platform Ops',
  'Marketing Launch',
  'Legal Review',
  'Hiring Pipeline',
  'Field Sales',
  'Design Crit',
  'Security Council',
];
const COLORS = ['Black', 'Red', 'Orange', 'Yellow', 'Green', 'Blue', 'Indigo', 'Violet'];
const PHRASES = [
  'Can we move the review to Thursday?',
  'Numbers for last week are in the shared folder.',
  'Thanks, that works for me.',
  'I will follow up with the customer today.',
  'Please check the attached draft before noon.',
  'Who owns the rollout checklist?',
  'The build is green again.',
  'Reminder: expenses are due Friday.',
  'Agreed - let us go with option B.',
  'Any blockers on your side?',
  'Here is the summary from the call.',
  'I have updated the forecast.',
  'Lunch at 12:30?',
  'Ticket escalated to tier two.',
];
const FILE_KINDS = [
  ['report', 'pdf'],
  ['notes', 'txt'],
  ['photo', 'jpg'],
  ['budget', 'xlsx'],
  ['slides', 'pptx'],
  ['diagram', 'png'],
] as const;

const REGULAR_NAMING: Naming = {
  firstNames: FIRST_NAMES,
  lastNames: LAST_NAMES,
  guestFirstNames: [...FIRST_NAMES].reverse(),
  guestLastNames: [...LAST_NAMES].reverse(),
  teamNames: TEAM_NAMES,
  guestDomain: (i) => `partner${(i % 3) + 1}.example`,
  chatLabel: '',
};

/** A synthetic RingCentral account, deterministic from `seed`; posts spread evenly over [from, to). */
export function generateOrganisation(opts: OrganisationOptions): ExportOrganisation {
  return buildOrganisation(opts, REGULAR_NAMING);
}

/**
 * The small organisation `npm start` shows: six members (one without a mailbox, to show the
 * catch-all path), one guest, one chat of each type, ~40 posts over the two days before `now`.
 */
export function demoOrganisation(now: Date): ExportOrganisation {
  const label = DEMO_ORGANISATION_LABEL;
  return buildOrganisation(
    {
      seed: 20240601,
      members: 6,
      guests: 1,
      chats: { direct: 1, group: 1, team: 1, personal: 1, everyone: true },
      posts: 40,
      tasks: 2,
      notes: 2,
      events: 2,
      filesRatio: 0.05,
      largeFiles: [{ sizeBytes: 4_500_000 }],
      edits: 2,
      deletions: 1,
      from: new Date(now.getTime() - 2 * 86_400_000),
      to: now,
      domain: 'demo.example',
    },
    {
      firstNames: ['Ada', 'Ben', 'Cleo', 'Dev', 'Eve', 'Finn'],
      lastNames: ['Demo', 'Demo', 'Demo', 'Demo', 'Demo', 'No-Mailbox'],
      guestFirstNames: ['Gus'],
      guestLastNames: ['Guest-Demo'],
      teamNames: [`${label} Launch Team`],
      guestDomain: () => 'guest.demo-partner.example',
      chatLabel: `${label} `,
    },
  );
}

function buildOrganisation(opts: OrganisationOptions, naming: Naming): ExportOrganisation {
  const rand = seededRandom(opts.seed ?? 1);
  const from = opts.from.getTime();
  const to = opts.to.getTime();
  if (!(to > from)) throw new Error('generateOrganisation: `to` must be after `from`');
  const domain = opts.domain ?? 'demo.example';
  const accountId = String(400_000_000 + ((opts.seed ?? 1) % 100_000));
  const setupTime = iso(from - 30 * 86_400_000);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const ids = idFactory();

  const members = people(
    opts.members ?? 10,
    naming.firstNames,
    naming.lastNames,
    () => domain,
    'member',
    ids,
    setupTime,
    accountId,
  );
  const guests = people(
    opts.guests ?? 2,
    naming.guestFirstNames,
    naming.guestLastNames,
    naming.guestDomain,
    'guest',
    ids,
    setupTime,
    accountId,
  ).map(({ creationTime: _c, lastModifiedTime: _l, ...guest }) => guest);
  const chats = buildChats(opts.chats ?? {}, members, guests, naming, rand, ids, setupTime, accountId);
  if (chats.length === 0) throw new Error('generateOrganisation: no chats to post in');

  const postCount = opts.posts ?? 100;
  const posts: ExportPost[] = [];
  const rootsByChat = new Map<string, string[]>();
  for (let i = 0; i < postCount; i++) {
    const chat = pick(chats);
    const participants = [...(chat.memberIds ?? []), ...(chat.guestIds ?? [])];
    const creator = pick(participants);
    const time = iso(from + Math.floor((i * (to - from)) / postCount));
    const post: ExportPost = {
      id: ids.next('post'),
      creationTime: time,
      lastModifiedTime: time,
      creator: { id: creator },
      chatId: chat.id,
      text: pick(PHRASES),
    };
    const roots = rootsByChat.get(chat.id) ?? [];
    if (roots.length > 0 && rand() < 0.3) post.chainId = pick(roots);
    else rootsByChat.set(chat.id, [...roots, post.id]);
    const others = (chat.memberIds ?? []).filter((m) => m !== creator);
    if (others.length > 0 && rand() < 0.15) {
      const mentionedId = pick(others);
      const mentioned = members.find((m) => m.id === mentionedId)!;
      const name = `${mentioned.firstName} ${mentioned.lastName}`;
      post.mentions = [{ id: mentioned.id, type: 'Contact', name }];
      post.text = `![:Person](${mentioned.id}) ${post.text}`;
    } else if (chat.Type === 'Team' && rand() < 0.05) {
      post.mentions = [{ id: chat.id, type: 'Team', name: chat.name }];
      post.text = `![:Team](${chat.id}) ${post.text}`;
    }
    posts.push(post);
  }

  const attach = (post: ExportPost, id: string, type: 'File' | 'Task' | 'Note' | 'Event') => {
    post.attachments = [...(post.attachments ?? []), { id, type }];
  };
  const chatOf = (post: ExportPost) => chats.find((c) => c.id === post.chatId)!;
  const spread = (count: number, offset: number) =>
    Array.from(
      { length: count },
      (_, k) => posts[Math.min(posts.length - 1, Math.floor(((k + offset) * posts.length) / count))],
    ).filter(Boolean);

  const files: ExportFile[] = [];
  const addFile = (post: ExportPost, size: number) => {
    const [stem, ext] = pick(FILE_KINDS);
    const id = ids.next('file');
    files.push({
      id,
      creationTime: post.creationTime,
      lastModifiedTime: post.creationTime,
      type: 'File',
      creator: post.creator,
      lastModifiedBy: post.creator,
      chatIds: [post.chatId],
      name: `${stem}-${files.length + 1}.${ext}`,
      size,
      contentUri: MEDIA_PLACEHOLDER + fileContentPath(id),
    });
    attach(post, id, 'File');
  };
  const filesRatio = opts.filesRatio ?? 0.1;
  for (const post of posts)
    if (rand() < filesRatio)
      addFile(post, Math.round(Math.exp(Math.log(200) + rand() * (Math.log(512_000) - Math.log(200)))));
  const large = opts.largeFiles ?? [];
  spread(large.length, 0.5).forEach((post, k) => addFile(post, large[k].sizeBytes));

  const tasks: ExportTask[] = [];
  spread(opts.tasks ?? 5, 0.3).forEach((post, k) => {
    const chat = chatOf(post);
    const id = ids.next('task');
    const start = Date.parse(post.creationTime);
    const task: ExportTask = {
      id,
      creationTime: post.creationTime,
      lastModifiedTime: post.creationTime,
      type: 'Task',
      creator: post.creator,
      chatIds: [chat.id],
      status: 'Pending',
      subject: `${naming.chatLabel}Follow-up ${k + 1}: ${pick(PHRASES).replace(/[?.!]$/, '')}`,
      assignees: (chat.memberIds ?? []).slice(0, 2).map((m) => ({ id: m, status: 'Pending' })),
      completenessCondition: 'Simple',
      startDate: iso(start),
      dueDate: iso(start + 3 * 86_400_000),
      color: pick(COLORS),
      section: 'General',
      description: 'Generated task for the archiver tests.',
    };
    tasks.push(task);
    attach(post, id, 'Task');
    // Every third task is completed later: a second version of the same id.
    const done = laterTime(start, to, rand);
    if (k % 3 === 2 && done !== undefined) {
      tasks.push({
        ...task,
        lastModifiedTime: iso(done),
        status: 'Completed',
        assignees: task.assignees?.map((a) => ({ ...a, status: 'Completed' })),
      });
    }
  });

  const notes: ExportNote[] = [];
  spread(opts.notes ?? 3, 0.6).forEach((post, k) => {
    const id = ids.next('note');
    notes.push({
      id,
      creationTime: post.creationTime,
      lastModifiedTime: post.creationTime,
      type: 'Note',
      creator: post.creator,
      lastModifiedBy: post.creator,
      chatIds: [post.chatId],
      status: 'Active',
      title: `${naming.chatLabel}Meeting notes ${k + 1}`,
      body: `<p>${pick(PHRASES)}</p><ul><li>${pick(PHRASES)}</li><li>${pick(PHRASES)}</li></ul>`,
    });
    attach(post, id, 'Note');
  });

  const events: ExportEvent[] = [];
  spread(opts.events ?? 3, 0.8).forEach((post, k) => {
    const id = ids.next('event');
    const start = Date.parse(post.creationTime) + 86_400_000;
    events.push({
      id,
      creationTime: post.creationTime,
      lastModifiedTime: post.creationTime,
      type: 'Event',
      creator: post.creator,
      chatIds: [post.chatId],
      subject: `${naming.chatLabel}Sync ${k + 1}`,
      startTime: iso(start),
      endTime: iso(start + 30 * 60_000),
      color: pick(COLORS),
      location: k % 2 ? 'Room 4.01' : 'Video call',
      description: 'Generated event.',
      ...(k % 2 === 0 ? { recurrence: { schedule: 'Weekly', endingCondition: 'Count', endingAfter: 4 } } : {}),
    });
    attach(post, id, 'Event');
  });

  // Edits and deletions are later versions of distinct posts, still inside [from, to).
  const changeable = shuffled(
    posts.filter((p) => laterTime(Date.parse(p.creationTime), to, () => 0.5) !== undefined),
    rand,
  );
  const versions: ExportPost[] = [];
  for (const post of changeable.splice(0, opts.edits ?? 0)) {
    versions.push({
      ...post,
      lastModifiedTime: iso(laterTime(Date.parse(post.creationTime), to, rand)!),
      text: `${post.text} (edited: corrected)`,
    });
  }
  for (const post of changeable.splice(0, opts.deletions ?? 0)) {
    const { text: _t, attachments: _a, mentions: _m, ...rest } = post;
    versions.push({
      ...rest,
      lastModifiedTime: iso(laterTime(Date.parse(post.creationTime), to, rand)!),
      deleted: true,
    });
  }

  return {
    accountId,
    chats,
    members,
    guests,
    posts: byVersion([...posts, ...versions]),
    events,
    tasks: byVersion(tasks),
    notes,
    files,
  };
}

function people(
  count: number,
  firsts: readonly string[],
  lasts: readonly string[],
  domainFor: (i: number) => string,
  kind: 'member' | 'guest',
  ids: IdFactory,
  time: string,
  accountId: string,
): ExportPerson[] {
  const used = new Set<string>();
  return Array.from({ length: count }, (_, i) => {
    const firstName = firsts[i % firsts.length];
    // Shifting the last name each round through the first names keeps most emails unique.
    const lastName = lasts[(i + Math.floor(i / firsts.length)) % lasts.length];
    const local = `${firstName}.${lastName}`.toLowerCase().replace(/[^a-z0-9.-]/g, '');
    let email = `${local}@${domainFor(i)}`;
    for (let n = 2; used.has(email); n++) email = `${local}${n}@${domainFor(i)}`;
    used.add(email);
    return {
      id: ids.next(kind),
      accountId: kind === 'member' ? accountId : undefined,
      creationTime: time,
      lastModifiedTime: time,
      firstName,
      lastName,
      email,
      jobTitle: kind === 'member' ? pickTitle(i) : 'External partner',
      deactivated: false,
    };
  });
}

function pickTitle(i: number): string {
  return ['Engineer', 'Account Manager', 'Analyst', 'Designer', 'Team Lead', 'Counsel'][i % 6];
}

function buildChats(
  counts: NonNullable<OrganisationOptions['chats']>,
  members: ExportPerson[],
  guests: ExportPerson[],
  naming: Naming,
  rand: () => number,
  ids: IdFactory,
  time: string,
  accountId: string,
): ExportChat[] {
  const memberIds = members.map((m) => m.id);
  const guestIds = guests.map((g) => g.id);
  const chats: ExportChat[] = [];
  const chat = (
    type: ExportChat['Type'],
    name: string | undefined,
    mIds: string[],
    gIds: string[],
    extra: Partial<ExportChat> = {},
  ) => {
    chats.push({
      id: ids.next('chat'),
      accountId,
      creationTime: time,
      lastModifiedTime: time,
      Type: type,
      ...(name ? { name } : {}),
      public: false,
      status: 'Active',
      totalMemberCount: mIds.length,
      memberIds: mIds,
      totalGuestCount: gIds.length,
      guestIds: gIds,
      deleted: false,
      ...extra,
    });
  };
  if (counts.everyone ?? true)
    chat('Everyone', `${naming.chatLabel}All Employees`, [...memberIds], [], {
      public: true,
      description: 'Company-wide announcements',
    });
  for (let i = 0; i < Math.min(counts.personal ?? 1, memberIds.length); i++)
    chat('Personal', undefined, [memberIds[i]], []);
  if (memberIds.length >= 2) {
    for (let i = 0; i < (counts.direct ?? 4); i++) {
      const a = memberIds[i % memberIds.length];
      // Every fourth direct chat is with a guest, when there are guests.
      if (i % 4 === 3 && guestIds.length > 0) chat('Direct', undefined, [a], [guestIds[i % guestIds.length]]);
      else
        chat(
          'Direct',
          undefined,
          [a, memberIds[(i + 1 + Math.floor(i / memberIds.length)) % memberIds.length]].filter(
            (v, k, all) => all.indexOf(v) === k,
          ),
          [],
        );
    }
  }
  for (let i = 0; i < (counts.group ?? 2); i++) {
    const size = Math.min(memberIds.length, 3 + Math.floor(rand() * 3));
    const chosen = shuffled(memberIds, rand).slice(0, size);
    chat('Group', undefined, chosen, i === 0 && guestIds.length > 0 ? [guestIds[0]] : []);
  }
  for (let i = 0; i < (counts.team ?? 2); i++) {
    const size = Math.min(memberIds.length, 3 + Math.floor(rand() * 6));
    const chosen = shuffled(memberIds, rand).slice(0, size);
    const name =
      naming.teamNames[i % naming.teamNames.length] +
      (i >= naming.teamNames.length ? ` ${Math.floor(i / naming.teamNames.length) + 1}` : '');
    chat('Team', name, chosen, i === 0 ? guestIds.slice(0, 2) : [], {
      public: i % 2 === 1,
      description: `${name} discussion`,
    });
  }
  return chats;
}

/** A time strictly after `after` and strictly before `before`, within a day of `after`; undefined if none fits. */
function laterTime(after: number, before: number, rand: () => number): number | undefined {
  const room = Math.min(before - after - 1, 86_400_000);
  if (room < 1) return undefined;
  return after + 1 + Math.floor(rand() * room);
}

function byVersion<T extends { id: string; lastModifiedTime: string }>(records: T[]): T[] {
  return records.sort((a, b) => a.lastModifiedTime.localeCompare(b.lastModifiedTime) || a.id.localeCompare(b.id));
}

function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

type IdKind = 'member' | 'guest' | 'chat' | 'post' | 'file' | 'task' | 'note' | 'event';
type IdFactory = ReturnType<typeof idFactory>;
/** Numeric string ids like RingCentral's, one range per kind so an id never collides across kinds. */
function idFactory() {
  const base: Record<IdKind, number> = {
    member: 1_000_000_000,
    guest: 1_500_000_000,
    chat: 2_000_000_000,
    post: 3_000_000_000,
    file: 4_000_000_000,
    task: 5_000_000_000,
    note: 6_000_000_000,
    event: 7_000_000_000,
  };
  const counters = new Map<IdKind, number>();
  return {
    next(kind: IdKind): string {
      const n = (counters.get(kind) ?? 0) + 1;
      counters.set(kind, n);
      return String(base[kind] + n * 7 + 3);
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Voice and messaging (issue 18): extensions, message stores and the call log of the demo account.

/**
 * The demo account's voice side, for the RingCentral double's `voice` option: one User extension per
 * member of `org` (extension id = person id, as in RingCentral, contact email = the member's email),
 * plus a Reception call queue whose email matches no mailbox; an SMS thread, an MMS with an image, a
 * pager message (a copy in each of the two stores), a fax of three PDF pages, two voicemails (audio
 * and transcription), and calls recorded (Automatic and OnDemand) and unrecorded, missed, internal,
 * to voicemail and a fax call. Everything lies in the two days before `now`, ending at least an hour
 * before it, so every recording is ready. Deterministic from `now` and `org`.
 */
export function demoVoiceOrganisation(now: Date, org: ExportOrganisation): VoiceOrganisation {
  const base = now.getTime() - 2 * 86_400_000;
  const at = (hours: number) => iso(base + Math.round(hours * 3_600_000));
  const accountId = org.accountId;
  const extensions: VoiceExtension[] = org.members.map((m, i) => ({
    id: Number(m.id),
    extensionNumber: String(101 + i),
    name: `${m.firstName} ${m.lastName}`,
    type: 'User',
    status: 'Enabled',
    contact: {
      firstName: m.firstName,
      lastName: m.lastName,
      email: m.email,
      jobTitle: m.jobTitle,
      businessPhone: `+1650555${String(101 + i).padStart(4, '0')}`,
    },
    creationTime: m.creationTime,
  }));
  extensions.push({
    id: 1_800_000_017,
    extensionNumber: '199',
    name: `${DEMO_ORGANISATION_LABEL} Reception`,
    type: 'Department',
    status: 'Enabled',
    contact: { firstName: 'Reception', email: 'reception@frontdesk.demo-voice.example', businessPhone: '+16505550199' },
    creationTime: org.members[0]?.creationTime,
  });
  const ext = (i: number) => extensions[Math.min(i, extensions.length - 1)];
  const phone = (e: VoiceExtension) => e.contact!.businessPhone!.slice(1);
  const party = (e: VoiceExtension, internal = false) => ({
    ...(internal ? { extensionNumber: e.extensionNumber } : { phoneNumber: phone(e) }),
    extensionId: String(e.id),
    name: e.name!,
  });
  const external = {
    carla: { phoneNumber: '14155550123', name: 'Carla Customer', location: 'San Francisco, CA' },
    supplier: { phoneNumber: '12125550188', location: 'New York, NY' },
    legal: { phoneNumber: '13105550142', name: 'Outside Counsel', location: 'Los Angeles, CA' },
  };
  const reception = extensions[extensions.length - 1];
  const finn = extensions.find((e) => /no-mailbox/i.test(e.contact?.email ?? '')) ?? ext(5);

  let seq = 0;
  const nextId = (range: number) => range + ++seq * 7 + 3;
  const messages: VoiceMessage[] = [];
  const text = (body: string, type: 'Text' | 'AudioTranscription' = 'Text'): VoiceAttachment => ({
    info: { id: nextId(9_200_000_000), type, contentType: 'text/plain', size: Buffer.byteLength(body, 'utf8') },
    text: body,
  });
  const message = (
    owner: VoiceExtension,
    record: Omit<VoiceMessage['record'], 'id' | 'lastModifiedTime' | 'availability' | 'readStatus' | 'priority'>,
    attachments: VoiceAttachment[],
  ): VoiceMessage => {
    const m: VoiceMessage = {
      extensionId: String(owner.id),
      record: {
        id: nextId(9_100_000_000),
        availability: 'Alive',
        readStatus: 'Read',
        priority: 'Normal',
        lastModifiedTime: record.creationTime,
        ...record,
      },
      attachments,
    };
    messages.push(m);
    return m;
  };

  // An SMS thread between Ada and a customer.
  const ada = ext(0);
  const thread = 7_000_001;
  const sms = (hours: number, direction: 'Inbound' | 'Outbound', body: string) =>
    message(
      ada,
      {
        type: 'SMS',
        direction,
        creationTime: at(hours),
        conversationId: thread,
        subject: body,
        segmentCount: 1,
        messageStatus: direction === 'Inbound' ? 'Received' : 'Delivered',
        from: direction === 'Inbound' ? external.carla : party(ada),
        to: [direction === 'Inbound' ? party(ada) : external.carla],
      },
      [text(body)],
    );
  sms(3, 'Inbound', 'Hi Ada, is the demo still on for Thursday?');
  sms(3.1, 'Outbound', 'Yes - 10:00, I will send the dial-in details.');
  sms(3.3, 'Inbound', 'Great, thanks! See you then.');

  // An MMS with a photo, to Ben.
  const ben = ext(1);
  const mmsText = 'Photo of the damaged pallet from this morning';
  message(
    ben,
    {
      type: 'SMS',
      direction: 'Inbound',
      creationTime: at(10),
      conversationId: 7_000_002,
      subject: mmsText,
      messageStatus: 'Received',
      from: external.supplier,
      to: [party(ben)],
    },
    [
      {
        info: {
          id: nextId(9_200_000_000),
          type: 'MmsAttachment',
          contentType: 'image/jpeg',
          size: 48_213,
          fileName: 'pallet.jpg',
          width: 1024,
          height: 768,
        },
      },
      text(mmsText),
    ],
  );

  // A pager message from Cleo to Dev: one copy in each store.
  const cleo = ext(2);
  const dev = ext(3);
  const pagerText = 'Can you cover the 3pm customer call?';
  for (const [owner, direction] of [
    [cleo, 'Outbound'],
    [dev, 'Inbound'],
  ] as const) {
    message(
      owner,
      {
        type: 'Pager',
        direction,
        creationTime: at(20),
        conversationId: 7_000_003,
        subject: pagerText,
        messageStatus: direction === 'Inbound' ? 'Received' : 'Sent',
        from: party(cleo, true),
        to: [party(dev, true)],
        pgToDepartment: false,
      },
      [text(pagerText)],
    );
  }

  // A three-page fax to Eve.
  const eve = ext(4);
  const fax = message(
    eve,
    {
      type: 'Fax',
      direction: 'Inbound',
      creationTime: at(26),
      subject: 'Signed contract',
      faxPageCount: 3,
      faxResolution: 'High',
      messageStatus: 'Received',
      from: external.legal,
      to: [party(eve)],
    },
    [
      {
        info: {
          id: nextId(9_200_000_000),
          type: 'RenderedDocument',
          contentType: 'application/pdf',
          size: 3 * 31_744 + 1_203,
          fileName: 'fax.pdf',
        },
      },
    ],
  );

  // Voicemails with audio and transcription: to Ada, and to Reception (no mailbox).
  const voicemail = (
    owner: VoiceExtension,
    hours: number,
    from: { phoneNumber: string; name?: string; location?: string },
    seconds: number,
    transcript: string,
  ) =>
    message(
      owner,
      {
        type: 'VoiceMail',
        direction: 'Inbound',
        creationTime: at(hours),
        subject: `Voice message from ${from.name ?? from.phoneNumber}`,
        messageStatus: 'Received',
        vmTranscriptionStatus: 'Completed',
        from,
        to: [party(owner)],
      },
      [
        {
          info: {
            id: nextId(9_200_000_000),
            type: 'AudioRecording',
            contentType: 'audio/mpeg',
            size: seconds * 16_000,
            vmDuration: seconds,
          },
        },
        text(transcript, 'AudioTranscription'),
      ],
    );
  const adaVoicemail = voicemail(
    ada,
    30,
    external.legal,
    23,
    'Hi Ada, this is outside counsel. The contract is signed, I faxed it to Eve. Call me back when you can.',
  );
  const receptionVoicemail = voicemail(
    reception,
    40,
    external.carla,
    17,
    "Hello, this is Carla. I would like to reschedule Thursday's demo. Please call me back.",
  );

  // An outbound SMS from Finn, whose email has no mailbox.
  message(
    finn,
    {
      type: 'SMS',
      direction: 'Outbound',
      creationTime: at(44),
      conversationId: 7_000_004,
      subject: 'Running 10 minutes late, sorry!',
      messageStatus: 'Delivered',
      from: party(finn),
      to: [external.carla],
    },
    [text('Running 10 minutes late, sorry!')],
  );

  const calls: VoiceCall[] = [];
  const call = (
    hours: number,
    owner: VoiceExtension,
    c: Omit<VoiceCall['record'], 'id' | 'sessionId' | 'startTime' | 'extension' | 'lastModifiedTime' | 'legs'>,
    recording?: Omit<VoiceRecording, 'id' | 'size'>,
    message?: VoiceMessage,
  ) => {
    const n = calls.length + 1;
    const startTime = at(hours);
    const id = `DemoCall${String(n).padStart(3, '0')}Ab`;
    const legType: NonNullable<VoiceCall['record']['legs']>[number]['legType'] =
      c.type === 'Fax'
        ? 'PstnToSip'
        : c.from?.extensionNumber && c.to?.extensionNumber
          ? 'ExtensionToExtension'
          : c.direction === 'Inbound'
            ? 'PstnToSip'
            : 'SipToPstnMetered';
    const leg = { ...c, startTime, extension: { id: owner.id }, legType, master: true };
    const record: VoiceCall['record'] = {
      ...c,
      id,
      sessionId: String(40_000_000_000 + n * 7),
      telephonySessionId: `s-demo-${n}`,
      startTime,
      extension: { id: owner.id },
      lastModifiedTime: iso(Date.parse(startTime) + c.duration * 1000 + 5_000),
      ...(message ? { message: { id: String(message.record.id), type: message.record.type } } : {}),
      legs: [leg],
    };
    calls.push({
      record,
      ...(recording ? { recording: { ...recording, id: String(50_000_000 + n * 13), size: c.duration * 16_000 } } : {}),
    });
  };
  const voice = { type: 'Voice' as const, transport: 'PSTN' as const };
  call(
    9,
    ben,
    {
      ...voice,
      direction: 'Inbound',
      action: 'Phone Call',
      result: 'Accepted',
      reason: 'Accepted',
      duration: 312,
      durationMs: 312_000,
      from: external.supplier,
      to: party(ben),
    },
    { type: 'Automatic', contentType: 'audio/mpeg' },
  );
  call(15, cleo, {
    ...voice,
    direction: 'Outbound',
    action: 'VoIP Call',
    result: 'Call connected',
    duration: 48,
    durationMs: 48_000,
    from: party(cleo),
    to: external.carla,
  });
  call(
    22,
    dev,
    {
      ...voice,
      direction: 'Outbound',
      action: 'VoIP Call',
      result: 'Call connected',
      duration: 95,
      durationMs: 95_000,
      from: party(dev),
      to: external.legal,
    },
    { type: 'OnDemand', contentType: 'audio/wav' },
  );
  call(25, eve, {
    ...voice,
    direction: 'Inbound',
    action: 'Phone Call',
    result: 'Missed',
    reason: 'No Answer',
    duration: 12,
    durationMs: 12_000,
    from: external.carla,
    to: party(eve),
  });
  call(
    26 - 0.05,
    eve,
    {
      type: 'Fax',
      transport: 'PSTN',
      direction: 'Inbound',
      action: 'Incoming Fax',
      result: 'Received',
      duration: 170,
      durationMs: 170_000,
      from: external.legal,
      to: party(eve),
    },
    undefined,
    fax,
  );
  call(
    30 - 0.02,
    ada,
    {
      ...voice,
      direction: 'Inbound',
      action: 'Phone Call',
      result: 'Voicemail',
      duration: 41,
      durationMs: 41_000,
      from: external.legal,
      to: party(ada),
    },
    undefined,
    adaVoicemail,
  );
  call(33, ada, {
    type: 'Voice',
    transport: 'VoIP',
    direction: 'Outbound',
    action: 'VoIP Call',
    result: 'Call connected',
    duration: 180,
    durationMs: 180_000,
    from: party(ada, true),
    to: party(ben, true),
  });
  call(
    40 - 0.02,
    reception,
    {
      ...voice,
      direction: 'Inbound',
      action: 'Phone Call',
      result: 'Voicemail',
      duration: 30,
      durationMs: 30_000,
      from: external.carla,
      to: party(reception),
    },
    undefined,
    receptionVoicemail,
  );
  call(
    41,
    reception,
    {
      ...voice,
      direction: 'Inbound',
      action: 'Phone Call',
      result: 'Accepted',
      reason: 'Accepted',
      duration: 60,
      durationMs: 60_000,
      from: external.supplier,
      to: party(reception),
    },
    { type: 'Automatic', contentType: 'audio/mpeg' },
  );

  return { accountId, extensions, messages, calls };
}
