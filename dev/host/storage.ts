import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';

const queueServices = new Map<string, QueueServiceClient>();
const blobServices = new Map<string, BlobServiceClient>();

export function queueClient(connectionString: string, queueName: string): QueueClient {
  let service = queueServices.get(connectionString);
  if (!service) {
    service = QueueServiceClient.fromConnectionString(connectionString);
    queueServices.set(connectionString, service);
  }
  return service.getQueueClient(queueName);
}

export function blobService(connectionString: string): BlobServiceClient {
  let service = blobServices.get(connectionString);
  if (!service) {
    service = BlobServiceClient.fromConnectionString(connectionString);
    blobServices.set(connectionString, service);
  }
  return service;
}

/** The connection named by a binding's `connection` (default AzureWebJobsStorage), from the app settings. */
export function resolveConnection(
  settings: Record<string, string | undefined>,
  connection: string | undefined,
): string {
  const name = connection || 'AzureWebJobsStorage';
  const value = settings[name] ?? process.env[name];
  if (!value) throw new Error(`app setting "${name}" (a storage connection string) is not set`);
  return value;
}

/** Strict base64, as .NET Convert.FromBase64String accepts it (whitespace aside). */
export function decodeBase64Strict(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

export function encodeBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
