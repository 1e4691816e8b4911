import type { RateGroup } from './rate-limits';

export type RequestKind =
  'token' | 'revoke' | 'createTask' | 'getTask' | 'listTasks' | 'dataset' | 'file' | 'unknown' | VoiceRequestKind;
/** The voice-and-messaging routes (voice-routes.ts). */
export type VoiceRequestKind =
  | 'createReport'
  | 'getReport'
  | 'reportArchive'
  | 'archiveDownload'
  | 'messageContent'
  | 'callLog'
  | 'recording'
  | 'recordingContent'
  | 'extensions';

/** Counters the tests read; one live object per double. */
export interface RingCentralStats {
  requests: number;
  byGroup: Record<RateGroup, number>;
  byKind: Record<RequestKind, number>;
  /** Every 429 sent: rate-limited, during a penalty, or injected. */
  responses429: number;
  penaltiesStarted: number;
  /** Requests that arrived while their group's penalty ran (each one restarted it). */
  requestsDuringPenalty: number;
  unauthorized: number;
  tasksCreated: number;
  /** Message store report tasks created (including those whose answer an after-commit fault lost). */
  reportsCreated: number;
  /** 403s for a permission the app lacks. */
  forbidden: number;
  /** Media body bytes written (datasets and files). */
  bytesServed: number;
  /** Arrival time (ms) of every request, by rate group, refused or not: for rate checks per 60 s. */
  timesByGroup: Record<RateGroup, number[]>;
}

/** The most requests of one group that arrived within any `windowMs` span. */
export function peakInWindow(times: readonly number[], windowMs = 60_000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= windowMs) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}

export function emptyStats(): RingCentralStats {
  return {
    requests: 0,
    byGroup: { Light: 0, Medium: 0, Heavy: 0, Auth: 0 },
    byKind: {
      token: 0,
      revoke: 0,
      createTask: 0,
      getTask: 0,
      listTasks: 0,
      dataset: 0,
      file: 0,
      unknown: 0,
      createReport: 0,
      getReport: 0,
      reportArchive: 0,
      archiveDownload: 0,
      messageContent: 0,
      callLog: 0,
      recording: 0,
      recordingContent: 0,
      extensions: 0,
    },
    responses429: 0,
    penaltiesStarted: 0,
    requestsDuringPenalty: 0,
    unauthorized: 0,
    tasksCreated: 0,
    reportsCreated: 0,
    forbidden: 0,
    bytesServed: 0,
    timesByGroup: { Light: [], Medium: [], Heavy: [], Auth: [] },
  };
}
