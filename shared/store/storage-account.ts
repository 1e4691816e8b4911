import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, QueueClient } from '@azure/storage-queue';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { ManagedIdentityCredential, TokenCredential } from '@azure/identity';
import type { Config } from '../config';
import { CONTAINERS, QUEUES, TABLES, ContainerName, QueueName, TableName, poisonQueueOf } from './names';
import { isConflict } from './storage-errors';

/** The one place that knows how to reach Blob, Queue and Table storage. */
export class StorageAccount {
  readonly blobs: BlobServiceClient;
  readonly queues: QueueServiceClient;
  private readonly tableFactory: (name: string) => TableClient;
  private readonly tableService: TableServiceClient;
  private ensured?: Promise<void>;

  constructor(settings: Config['storage']) {
    if (settings.connectionString) {
      const cs = settings.connectionString;
      this.blobs = BlobServiceClient.fromConnectionString(cs);
      this.queues = QueueServiceClient.fromConnectionString(cs);
      this.tableService = TableServiceClient.fromConnectionString(cs, { allowInsecureConnection: isLoopback(cs) });
      this.tableFactory = (name) =>
        TableClient.fromConnectionString(cs, name, { allowInsecureConnection: isLoopback(cs) });
    } else {
      const credential: TokenCredential = new ManagedIdentityCredential(
        settings.managedIdentityClientId ? { clientId: settings.managedIdentityClientId } : {},
      );
      this.blobs = new BlobServiceClient(settings.blobUri!, credential);
      this.queues = new QueueServiceClient(settings.queueUri!, credential);
      this.tableService = new TableServiceClient(settings.tableUri!, credential);
      this.tableFactory = (name) => new TableClient(settings.tableUri!, name, credential);
    }
  }

  container(name: ContainerName): ContainerClient {
    return this.blobs.getContainerClient(name);
  }

  queue(name: QueueName | string): QueueClient {
    return this.queues.getQueueClient(name);
  }

  table(name: TableName): TableClient {
    return this.tableFactory(name);
  }

  /** Creates every container, queue and table once per process; Bicep does it in Azure, this covers local runs. */
  ensureCreated(): Promise<void> {
    this.ensured ??= (async () => {
      await Promise.all([
        ...Object.values(CONTAINERS).map((c) => this.blobs.getContainerClient(c).createIfNotExists()),
        ...Object.values(QUEUES).flatMap((q) => [
          this.queues.getQueueClient(q).createIfNotExists(),
          this.queues.getQueueClient(poisonQueueOf(q)).createIfNotExists(),
        ]),
        ...Object.values(TABLES).map((t) => this.tableService.createTable(t).catch(ignoreConflict)),
      ]);
    })().catch((err) => {
      this.ensured = undefined;
      throw err;
    });
    return this.ensured;
  }
}

function isLoopback(connectionString: string): boolean {
  return /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(connectionString);
}

function ignoreConflict(err: unknown): void {
  if (isConflict(err)) return;
  throw err;
}
