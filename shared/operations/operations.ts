import type { StorageAccount } from '../store/storage-account';
import type { WorkQueues } from '../store/work-queues';
import { CaptureWindows } from '../store/capture-windows';
import { LedgerScan } from './ledger-scan';
import { DeliveryLog } from './delivery-log';
import { ItemTracer } from './item-trace';
import { Replayer } from './replayer';

/** The admin surface behind /api/log, /api/items/{id} and /api/replay. */
export interface Operations {
  log: DeliveryLog;
  tracer: ItemTracer;
  replayer: Replayer;
}

export function createOperations(storage: StorageAccount, queues: WorkQueues): Operations {
  const scan = new LedgerScan(storage);
  return {
    log: new DeliveryLog(scan),
    tracer: new ItemTracer(storage, scan, new CaptureWindows(storage)),
    replayer: new Replayer(storage, queues, scan),
  };
}
