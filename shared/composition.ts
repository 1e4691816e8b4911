import { loadConfig, type CaptureSource, type Config } from './config';
import { StorageAccount } from './store/storage-account';
import { ArchiveBlobs } from './store/archive-blobs';
import { WorkQueues } from './store/work-queues';
import { ErrorLog } from './store/error-log';
import { ItemLedger } from './store/item-ledger';
import { DeliveryLedger } from './store/delivery-ledger';
import { CaptureWindows, sourceOfWindow } from './store/capture-windows';
import { RawRecords } from './store/raw-records';
import { PenaltyGate } from './ringcentral/penalty-gate';
import { RingCentralApi } from './ringcentral/ringcentral-api';
import { SharedGroupBudget } from './ringcentral/shared-group-budget';
import { TABLES } from './store/names';
import { WindowPlanner } from './capture/window-planner';
import { ExportTaskPoller } from './capture/export-task-poller';
import { DatasetUnpacker } from './capture/dataset-unpacker';
import { MessageStoreUnpacker } from './capture/message-store-unpacker';
import { CallLogCapture } from './capture/call-log-capture';
import { MessageStoreReports, TeamMessagingExports } from './capture/export-tasks';
import { CaptureSources, type SourceCapture } from './capture/capture-sources';
import { VoiceConverter } from './conversion/voice-converter';
import { ArchiveOutput, type ConvertResult } from './conversion/archive-output';
import { ExtensionDirectory } from './mapping/extension-directory';
import { isVoiceKind } from './store/item-keys';
import type { ConvertItemMessage } from './pipeline/messages';
import { ItemConverter } from './conversion/item-converter';
import { AttachmentPlanner } from './conversion/attachment-planner';
import { FileCapture } from './capture/file-capture';
import { ItemDeliverer } from './delivery/item-deliverer';
import { MailboxThrottle } from './delivery/mailbox-throttle';
import { MailboxSlots } from './delivery/mailbox-slots';
import { MailboxPacer, graphMailboxPacing } from './delivery/mailbox-pacer';
import { createGraphClient, GRAPH_SETTLE_SECONDS } from './mailbox/graph-client';
import { GraphMailbox } from './mailbox/graph-mailbox';
import { GraphAttachments } from './mailbox/graph-attachments';
import { EmlFolderMailbox } from './mailbox/eml-folder-mailbox';
import { EmlBlobMailbox } from './mailbox/eml-blob-mailbox';
import type { MailboxTarget } from './mailbox/mailbox-target';
import type { MailboxAttachments } from './mailbox/attachment-source';
import { GraphUserDirectory } from './mapping/user-directory';
import { MailboxRecipientPlanner } from './mapping/recipient-planner';
import { StatusReport } from './operations/status-report';
import { LedgerScan } from './operations/ledger-scan';
import { DeliveryLog } from './operations/delivery-log';
import { ItemTracer } from './operations/item-trace';
import { Replayer } from './operations/replayer';
import { Reconciler } from './reconcile/reconciler';
import { GraphMailboxInventory } from './reconcile/mailbox-inventory';
import { ReconcileJobs } from './reconcile/reconcile-jobs';
import { MailboxRegistry } from './store/mailbox-registry';
import { NO_METRICS, type Metrics } from './observability/metrics';
import { startMetricsExport, type MetricsExport } from './observability/metrics-export';

/** The admin surface behind /api/log, /api/items/{id} and /api/replay. */
export interface Operations {
  log: DeliveryLog;
  tracer: ItemTracer;
  replayer: Replayer;
}

/** Every object of the archiver, wired by hand. The one place that chooses adapters. */
export interface Archiver {
  config: Config;
  storage: StorageAccount;
  queues: WorkQueues;
  errors: ErrorLog;
  /** The sources CAPTURE_SOURCES turns on: ticks, backfills, and the poll-export and unpack stages. */
  capture: CaptureSources;
  /** Every source's windows and checkpoint, on or off, for status. */
  windowsBySource: Record<CaptureSource, CaptureWindows>;
  converter: { handle(message: ConvertItemMessage): Promise<ConvertResult> };
  deliverer: ItemDeliverer;
  status: StatusReport;
  operations: Operations;
  reconciler: Reconciler;
  reconcileJobs: ReconcileJobs;
  metrics: Metrics;
}

export function createArchiver(config: Config, metrics: Metrics = NO_METRICS): Archiver {
  const storage = new StorageAccount(config.storage);
  const blobs = new ArchiveBlobs(storage);
  const queues = new WorkQueues(storage);
  const errors = new ErrorLog(storage);
  const items = new ItemLedger(storage);
  // A claim outlasts twice the time a lost write is given to land (see HeldClaim).
  const deliveries = new DeliveryLedger(storage, { claimSeconds: 2 * GRAPH_SETTLE_SECONDS });
  const windowsBySource: Record<CaptureSource, CaptureWindows> = {
    teammessaging: new CaptureWindows(storage, 'teammessaging'),
    messages: new CaptureWindows(storage, 'messages'),
    calls: new CaptureWindows(storage, 'calls'),
  };
  const ringCentral = new RingCentralApi(
    config.ringCentral,
    new PenaltyGate(storage),
    new SharedGroupBudget(storage.table(TABLES.rateLimit), config.ringCentral.rateLimits),
  );
  const graph = createGraphClient(config.graph);
  const captureStart = () => config.capture.start.toISOString();
  const extensions = new ExtensionDirectory(storage, ringCentral);

  const sources = new Map<CaptureSource, SourceCapture>();
  for (const source of config.capture.sources) {
    const sourceWindows = windowsBySource[source];
    const planner = new WindowPlanner(config.capture, sourceWindows, queues);
    if (source === 'calls') {
      const poll = new CallLogCapture(
        ringCentral,
        blobs,
        items,
        sourceWindows,
        queues,
        errors,
        planner,
        extensions,
        captureStart,
      );
      sources.set(source, { windows: sourceWindows, planner, poll });
      continue;
    }
    const tasks = source === 'messages' ? new MessageStoreReports(ringCentral) : new TeamMessagingExports(ringCentral);
    const poll = new ExportTaskPoller(
      config.capture,
      sourceWindows,
      tasks,
      ringCentral,
      blobs,
      queues,
      errors,
      planner,
    );
    const unpack =
      source === 'messages'
        ? new MessageStoreUnpacker(blobs, items, sourceWindows, queues, errors, planner, extensions)
        : new DatasetUnpacker(blobs, items, sourceWindows, queues, errors, planner);
    sources.set(source, { windows: sourceWindows, planner, poll, unpack });
  }
  const capture = new CaptureSources(sources);

  const recipients = new MailboxRecipientPlanner(storage, new GraphUserDirectory(graph), {
    ttlHours: config.peopleCacheHours,
    fallbackMailbox: config.fallbackMailbox,
    fanoutLimit: config.fanoutLimit,
  });
  const fileCapture = new FileCapture(storage, ringCentral);
  const attachments = new AttachmentPlanner(fileCapture, errors, config.maxMessageBytes);
  const output = new ArchiveOutput(blobs, items, deliveries, queues);
  const chatConverter = new ItemConverter(blobs, new RawRecords(blobs), output, recipients, attachments, errors);
  const voiceConverter = new VoiceConverter(
    blobs,
    extensions,
    recipients,
    attachments,
    fileCapture,
    output,
    errors,
    windowsBySource.calls,
  );
  const converter = {
    handle: (message: ConvertItemMessage) =>
      isVoiceKind(message.kind) ? voiceConverter.handle(message) : chatConverter.handle(message),
  };
  const target = mailboxTarget(config, graph, blobs);
  const graphPacer = new MailboxPacer(storage.table(TABLES.rateLimit), graphMailboxPacing(config.graphMailboxPacing));
  const deliverer = new ItemDeliverer(
    blobs,
    deliveries,
    target.mailboxes,
    target.attachments,
    new MailboxThrottle(new MailboxSlots(storage), graphPacer),
    errors,
    GRAPH_SETTLE_SECONDS,
  );
  const mailboxRegistry = new MailboxRegistry(storage);
  const status = new StatusReport(
    windowsBySource,
    config.capture.sources,
    items,
    deliveries,
    mailboxRegistry,
    errors,
    queues,
    config.capture.retentionDays,
  );
  const scan = new LedgerScan(storage);
  const operations: Operations = {
    log: new DeliveryLog(scan),
    tracer: new ItemTracer(storage, scan, (windowId) => windowsBySource[sourceOfWindow(windowId)]),
    replayer: new Replayer(storage, queues, scan),
  };
  const reconciler = new Reconciler(
    storage,
    blobs,
    new GraphMailboxInventory(graph, config.archiveFolder, new GraphAttachments(graph)),
  );
  const reconcileJobs = new ReconcileJobs(storage, blobs, queues, reconciler, mailboxRegistry);
  return {
    config,
    storage,
    queues,
    errors,
    capture,
    windowsBySource,
    converter,
    deliverer,
    status,
    reconciler,
    reconcileJobs,
    operations,
    metrics,
  };
}

/** Graph in production; .eml blobs (eml-blob, works in Azure) or an .eml folder (eml-folder, local) for dry runs. */
function mailboxTarget(
  config: Config,
  graph: ReturnType<typeof createGraphClient>,
  blobs: ArchiveBlobs,
): { mailboxes: MailboxTarget; attachments: MailboxAttachments } {
  if (config.mailboxTarget === 'eml-folder') {
    const folder = new EmlFolderMailbox(config.emlFolder, config.archiveFolder, blobs);
    return { mailboxes: folder, attachments: folder };
  }
  if (config.mailboxTarget === 'eml-blob') {
    const container = new EmlBlobMailbox(config.archiveFolder, blobs);
    return { mailboxes: container, attachments: container };
  }
  return { mailboxes: new GraphMailbox(graph, config.archiveFolder), attachments: new GraphAttachments(graph) };
}

let instance: Promise<Archiver> | undefined;
let metricsExport: MetricsExport | undefined;

/** The process-wide archiver: settings validated once, storage created once, one metrics export. */
export function archiver(): Promise<Archiver> {
  instance ??= (async () => {
    const config = loadConfig();
    metricsExport ??= startMetricsExport(config.telemetry);
    const a = createArchiver(config, metricsExport.metrics);
    await a.storage.ensureCreated();
    return a;
  })().catch((err) => {
    instance = undefined;
    throw err;
  });
  return instance;
}

/** Sends the metrics recorded so far; the worker calls it as it stops. */
export async function flushMetrics(): Promise<void> {
  await metricsExport?.flush();
}
