import { SyntheticHistory, addCounts } from '../tests/support/synthetic-history';
import { SizeRig } from '../tests/support/size-rig';

// Child process of `npm run bench` (it needs NODE_EXTRA_CA_CERTS from start-up for the Graph
// double, and a heap of its own to measure): a synthetic history written in two sizes ten times
// apart, a status call counted at each, then one reconciliation of the whole range.
// Args: <items> <mailboxes>. Progress goes to stderr; the last stdout line is JSON.

export interface HistoryResult {
  items: number;
  mailboxes: number;
  days: number;
  /** Storage transactions of one status call, keyed by the delivery rows the history held. */
  statusTransactions: Record<string, number>;
  statusByOperation: Record<string, Record<string, number>>;
  statusSeconds: Record<string, number>;
  writeSeconds: number;
  reconcileHeapMb: number;
  reconcileSeconds: number;
  reconcileMailboxes: number;
  reconcileExpected: number;
  reconcileMissing: number;
  /** Storage transactions of the whole reconciliation job, and its Graph requests. */
  reconcileTransactions: number;
  reconcileByOperation: Record<string, number>;
  reconcileGraphRequests: number;
}

async function main(): Promise<void> {
  const items = Number(process.argv[2]);
  const mailboxes = Number(process.argv[3]);
  if (!(items >= 10) || !(mailboxes >= 1)) throw new Error('usage: history-worker <items> <mailboxes>');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const history = new SyntheticHistory({ items, mailboxes, days: 90, end: new Date() });
  const rig = await SizeRig.start(history);
  try {
    const result: HistoryResult = {
      items,
      mailboxes,
      days: 90,
      statusTransactions: {},
      statusByOperation: {},
      statusSeconds: {},
      writeSeconds: 0,
      reconcileHeapMb: 0,
      reconcileSeconds: 0,
      reconcileMailboxes: 0,
      reconcileExpected: 0,
      reconcileMissing: 0,
      reconcileTransactions: 0,
      reconcileByOperation: {},
      reconcileGraphRequests: 0,
    };
    let counts = undefined as ReturnType<typeof addCounts> | undefined;
    for (const [from, to] of [
      [0, Math.floor(items / 10)],
      [Math.floor(items / 10), items],
    ] as const) {
      const started = Date.now();
      const part = await history.write(rig.storage, rig.env.graph, from, to);
      result.writeSeconds += (Date.now() - started) / 1000;
      counts = counts ? addCounts(counts, part) : part;
      const statusStarted = Date.now();
      const cost = await rig.statusCost();
      const key = String(counts.deliveries);
      result.statusTransactions[key] = cost.transactions;
      result.statusByOperation[key] = cost.byOperation;
      result.statusSeconds[key] = Math.round((Date.now() - statusStarted) / 100) / 10;
      log(
        `history: ${counts.items} items, ${counts.deliveries} delivery rows; a status call costs ${cost.transactions} storage transactions ${JSON.stringify(cost.byOperation)}`,
      );
    }
    const run = await rig.reconcile({ from: history.from, to: history.to });
    result.reconcileHeapMb = Math.round(run.heapGrowthMb * 10) / 10;
    result.reconcileSeconds = Math.round(run.seconds * 10) / 10;
    result.reconcileMailboxes = run.value.mailboxes;
    result.reconcileExpected = run.value.expected;
    result.reconcileMissing = run.value.missing;
    result.reconcileTransactions = run.transactions;
    result.reconcileByOperation = run.byOperation;
    result.reconcileGraphRequests = run.graphRequests;
    log(
      `history: reconciliation of ${run.value.mailboxes} mailboxes in ${run.seconds.toFixed(1)} s, heap growth ${run.heapGrowthMb.toFixed(1)} MB, ${run.transactions} storage transactions ${JSON.stringify(run.byOperation)}, ${run.graphRequests} Graph requests`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await rig.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
