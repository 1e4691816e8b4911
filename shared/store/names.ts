// Every container, queue and table the archiver uses, in one place.
// infra/storage-names.json provisions the same names; tests/infra/settings-contract.test.ts holds them together.

export const CONTAINERS = {
  exports: 'exports',
  raw: 'raw',
  files: 'files',
  messages: 'messages',
  /** Blob leases used as per-mailbox Graph concurrency slots (shared/delivery/mailbox-slots.ts). */
  mailboxSlots: 'mailbox-slots',
  /** .eml files of the Azure dry run (MAILBOX_TARGET=eml-blob, shared/mailbox/eml-blob-mailbox.ts). */
  eml: 'eml',
  /** Finished reconciliation answers, one JSON blob per job (shared/reconcile/reconcile-jobs.ts). */
  reconciliations: 'reconciliations',
} as const;

/**
 * Pipeline queues; each has a `<name>-poison` twin, as the Functions host expects. A queue's name is
 * also the name of the one function that reads it (functions/, tests/functions/queue-functions.test.ts)
 * and of its stage in logs, metrics and the errors table, so one word finds all three.
 */
export const QUEUES = {
  /** Drive one capture window's export task to a stored dataset. */
  pollExport: 'poll-export',
  unpack: 'unpack',
  convert: 'convert',
  deliver: 'deliver',
  /** Reconciliation job steps: plan a page of mailboxes, one mailbox, the unconverted items. */
  reconcileStep: 'reconcile-step',
} as const;

export const TABLES = {
  checkpoints: 'checkpoints',
  exportTasks: 'exporttasks',
  items: 'items',
  deliveries: 'deliveries',
  people: 'people',
  mappings: 'mappings',
  errors: 'errors',
  rateLimit: 'ratelimit',
  /** Registries that keep status bounded: the mailboxes and item kinds the ledgers hold. */
  totals: 'totals',
  /** Reconciliation jobs: PartitionKey = job id; one row for the job, one per finished step. */
  reconciliations: 'reconciliations',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export type TableName = (typeof TABLES)[keyof typeof TABLES];
export type ContainerName = (typeof CONTAINERS)[keyof typeof CONTAINERS];

export const poisonQueueOf = (queue: QueueName): string => `${queue}-poison`;
