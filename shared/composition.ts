import { loadConfig, type Config } from './config';
import { StorageAccount } from './store/storage-account';
import { ArchiveBlobs } from './store/archive-blobs';
import { WorkQueues } from './store/work-queues';
import { ErrorLog } from './store/error-log';
import { ItemLedger } from './store/item-ledger';
import { DeliveryLedger } from './store/delivery-ledger';
import { CaptureWindows } from './store/capture-windows';
import { RawRecords } from './store/raw-records';
import { PenaltyGate } from './ringcentral/penalty-gate';
import { RingCentralApi } from './ringcentral/ringcentral-api';
import { WindowPlanner } from './capture/window-planner';
import { ExportTaskPoller } from './capture/export-task-poller';
import { DatasetUnpacker } from './capture/dataset-unpacker';
import { PostConverter } from './conversion/post-converter';
import { ItemDeliverer } from './delivery/item-deliverer';
import { MailboxSlots } from './delivery/mailbox-slots';
import { createGraphClient } from './mailbox/graph-client';
import { GraphMailbox } from './mailbox/graph-mailbox';
import { GraphUserDirectory } from './mapping/user-directory';
import { MailboxResolver } from './mapping/mailbox-resolver';
import { StatusReport } from './status/status-report';

/** Every object of the archiver, wired by hand. The one place that chooses adapters. */
export interface Archiver {
  config: Config;
  storage: StorageAccount;
  queues: WorkQueues;
  errors: ErrorLog;
  planner: WindowPlanner;
  exportPoller: ExportTaskPoller;
  unpacker: DatasetUnpacker;
  converter: PostConverter;
  deliverer: ItemDeliverer;
  status: StatusReport;
}

export function createArchiver(config: Config): Archiver {
  const storage = new StorageAccount(config.storage);
  const blobs = new ArchiveBlobs(storage);
  const queues = new WorkQueues(storage);
  const errors = new ErrorLog(storage);
  const items = new ItemLedger(storage);
  const deliveries = new DeliveryLedger(storage);
  const windows = new CaptureWindows(storage);
  const ringCentral = new RingCentralApi(config.ringCentral, new PenaltyGate(storage));
  const graph = createGraphClient(config.graph);

  const planner = new WindowPlanner(config.capture, windows, queues);
  const exportPoller = new ExportTaskPoller(config.capture, windows, ringCentral, blobs, queues, errors);
  const unpacker = new DatasetUnpacker(blobs, items, windows, queues, errors, planner, () => config.capture.start.toISOString());
  const resolver = new MailboxResolver(storage, new GraphUserDirectory(graph), config.peopleCacheHours);
  const converter = new PostConverter(blobs, new RawRecords(blobs), items, deliveries, queues, resolver, errors);
  const deliverer = new ItemDeliverer(blobs, deliveries, new GraphMailbox(graph, config.archiveFolder), new MailboxSlots(4), errors);
  const status = new StatusReport(windows, items, deliveries, errors, queues, config.capture.retentionDays);
  return { config, storage, queues, errors, planner, exportPoller, unpacker, converter, deliverer, status };
}

let instance: Promise<Archiver> | undefined;

/** The process-wide archiver: settings validated once, storage created once. */
export function archiver(): Promise<Archiver> {
  instance ??= (async () => {
    const a = createArchiver(loadConfig());
    await a.storage.ensureCreated();
    return a;
  })().catch((err) => {
    instance = undefined;
    throw err;
  });
  return instance;
}
