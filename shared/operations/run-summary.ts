import type { StatusReport, Totals } from './status-report';

/** The `npm start -- --once` summary: the same totals /api/status reports, so the two agree. */
export interface RunSummary extends Pick<
  Totals,
  'captured' | 'converted' | 'delivered' | 'failed' | 'notDelivered' | 'mailboxes' | 'invalid'
> {
  /** Captured item versions per kind: post, task, note, event, file (and record for unknown types). */
  byKind: Record<string, number>;
}

export async function runSummary(status: StatusReport): Promise<RunSummary> {
  const [{ totals }, queues] = await Promise.all([status.totals(), status.queueDepths()]);
  const poison = Object.values(queues).reduce((n, q) => n + q.poison, 0);
  return {
    captured: totals.captured,
    converted: totals.converted,
    delivered: totals.delivered,
    // A message parked in a poison queue is a failure even before it touched the ledger.
    failed: totals.failed + poison,
    notDelivered: totals.notDelivered,
    mailboxes: totals.mailboxes,
    invalid: totals.invalid,
    byKind: {
      post: 0,
      task: 0,
      note: 0,
      event: 0,
      file: 0,
      ...Object.fromEntries(Object.entries(totals.byKind).map(([kind, k]) => [kind, k.captured])),
    },
  };
}
