import { resolve } from 'node:path';
import { startLocalEnvironment, type LocalEnvironment } from '../../dev/local-environment';
import { LocalFunctionsHost, type LocalFunctionsHostOptions } from '../../dev/host/local-functions-host';
import type { ExportOrganisation, ExportPost } from '../../shared/ringcentral/export-records';
import { createArchiver, type Archiver } from '../../shared/composition';
import { loadConfig } from '../../shared/config';

// A small organisation run through the real pipeline: RingCentral double → Azurite → local host → Graph double.
export { repoRoot } from '../support/repo-root';
import { repoRoot } from '../support/repo-root';
import { chatsOf, peopleOf } from '../support/export-builders';
export const FUNCTION_KEY = 'ops-function-key';
export const ADMIN_KEY = 'ops-admin-key';
/** A malformed post whose id is markup: the dashboard must show it as text. */
export const HOSTILE_ID = '<img src=x onerror="window.__xss=1">';

export function smallOrg(start: Date): { org: ExportOrganisation; posts: ExportPost[] } {
  const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
  const person = peopleOf('Ops', at(0));
  const members = [
    person('m1', 'Alice', 'alice@ops.example'),
    person('m2', 'Bob', 'bob@ops.example'),
    person('m3', 'Carol', 'carol@ops.example'),
    person('m4', 'Eve', 'eve.nomailbox@ops.example'),
  ];
  const guest = person('g1', 'Gina', 'gina@partner.example');
  const chat = chatsOf('acc-ops', at(0));
  const chats = [
    chat('c-direct', 'Direct', undefined, ['m1', 'm2']),
    chat('c-team', 'Team', 'Ops desk', ['m1', 'm2', 'm3', 'm4'], ['g1']),
  ];
  // Twelve posts six hours apart: three UTC days or so, so per-day totals have several buckets.
  const posts: ExportPost[] = Array.from({ length: 12 }, (_, i) => {
    const c = chats[i % 2]!;
    const t = at(60 + i * 360);
    return {
      id: `p${i + 1}`,
      chatId: c.id,
      creator: { id: c.memberIds![i % c.memberIds!.length]! },
      creationTime: t,
      lastModifiedTime: t,
      text: `Ops post ${i + 1}`,
    };
  });
  // p1 edited in the second capture window (an export shows only the latest version per window).
  const edited: ExportPost = { ...posts[0]!, lastModifiedTime: at(60 * 60), text: 'Ops post 1 (edited)' };
  const malformed = {
    id: HOSTILE_ID,
    chatId: 'c-team',
    creationTime: at(100),
    lastModifiedTime: at(100),
    text: 'no creator',
  } as unknown as ExportPost;
  const all = [...posts, edited];
  return {
    org: {
      accountId: 'acc-ops',
      chats,
      members,
      guests: [guest],
      posts: [...all, malformed],
      events: [],
      tasks: [],
      notes: [],
      files: [],
    },
    posts: all,
  };
}

export interface Pipeline {
  env: LocalEnvironment;
  host: LocalFunctionsHost;
  archiver: Archiver;
  posts: ExportPost[];
  start: Date;
  logLines: string[];
  stop(): Promise<void>;
}

/** Starts Azurite, the doubles and the local host, then runs one full ingest cycle to idle. */
export async function runPipeline(
  opts: {
    hostJson?: LocalFunctionsHostOptions['hostJson'];
    beforeCycle?: (env: LocalEnvironment) => void | Promise<void>;
    idleQueues?: string[];
    settings?: Record<string, string>;
  } = {},
): Promise<Pipeline> {
  const start = new Date(Date.now() - 4 * 86_400_000);
  const { org, posts } = smallOrg(start);
  const env = await startLocalEnvironment({
    org,
    withoutMailbox: ['eve.nomailbox@ops.example'],
    azurite: { inMemory: true },
    settings: {
      CAPTURE_START: start.toISOString(),
      CAPTURE_LAG_MINUTES: '0',
      MAX_WINDOW_HOURS: '48',
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
      ...opts.settings,
    },
  });
  const logLines: string[] = [];
  const host = new LocalFunctionsHost({
    repoRoot,
    settings: env.settings,
    httpPort: 0,
    timers: false,
    pollIntervalMs: 50,
    hostJson: opts.hostJson,
    log: (line) => logLines.push(line),
  });
  await host.start();
  const archiver = createArchiver(loadConfig(env.settings));
  await opts.beforeCycle?.(env);
  await host.runTimer('ingest');
  await host.waitForIdle({ timeoutMs: 120_000, queues: opts.idleQueues });
  return {
    env,
    host,
    archiver,
    posts,
    start,
    logLines,
    async stop() {
      await host.stop();
      await env.stop();
    },
  };
}

export { until } from '../support/until';
