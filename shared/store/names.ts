// Every container, queue and table the archiver uses, in one place.
// infra/ provisions the same names; tests/unit/storage-names.test.ts holds them together.

export const CONTAINERS = {
  exports: 'exports',
  raw: 'raw',
  files: 'files',
  messages: 'messages',
  /** Blob leases used as per-mailbox Graph concurrency slots (shared/delivery/mailbox-throttle.ts). */
  mailboxSlots: 'mailbox-slots',
  /** .eml files of the Azure dry run (MAILBOX_TARGET=eml-blob, shared/mailbox/eml-blob-mailbox.ts). */
  eml: 'eml',
} as const;

/** Pipeline queues; each has a `<name>-poison` twin, as the Functions host expects. */
export const QUEUES = {
  exports: 'exports',
  unpack: 'unpack',
  convert: 'convert',
  deliver: 'deliver',
} as const;

export const TABLES = {
  checkpoints: 'checkpoints',
  exportTasks: 'exporttasks',
  items: 'items',
  deliveries: 'deliveries',
  people: 'people',
  mappings: 'mappings',
  errors: 'errors',
  runs: 'runs',
  leases: 'leases',
  rateLimit: 'ratelimit',
  /** Registries that keep status bounded: the mailboxes and item kinds the ledgers hold. */
  totals: 'totals',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export type TableName = (typeof TABLES)[keyof typeof TABLES];
export type ContainerName = (typeof CONTAINERS)[keyof typeof CONTAINERS];

export const poisonQueueOf = (queue: QueueName): string => `${queue}-poison`;
