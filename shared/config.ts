import { z } from 'zod';
import { parseRateLimits, type RateGroup } from './ringcentral/rate-groups';

// Every setting the archiver reads. The names are part of the interface: README,
// local.settings.sample.json and infra/main.bicep use the same ones, and a test holds
// them together. `secret` settings never appear in error messages or logs.
export interface SettingSpec {
  description: string;
  secret?: boolean;
  /** Documented default; absent means required (or optional when `optional`). */
  default?: string;
  optional?: boolean;
  /** Only meaningful when running locally (never set in Azure). */
  localOnly?: boolean;
}

/** What the archiver can capture, each with its own windows and checkpoint. */
export const CAPTURE_SOURCES = ['teammessaging', 'messages', 'calls'] as const;
export type CaptureSource = (typeof CAPTURE_SOURCES)[number];

export const SETTINGS = {
  AzureWebJobsStorage: {
    description:
      'Storage connection string. In Azure, identity-based AzureWebJobsStorage__* settings are used instead.',
    optional: true,
  },
  AzureWebJobsStorage__blobServiceUri: {
    description: 'Blob endpoint for identity-based storage access (Azure).',
    optional: true,
  },
  AzureWebJobsStorage__queueServiceUri: {
    description: 'Queue endpoint for identity-based storage access (Azure).',
    optional: true,
  },
  AzureWebJobsStorage__tableServiceUri: {
    description: 'Table endpoint for identity-based storage access (Azure).',
    optional: true,
  },
  AzureWebJobsStorage__credential: {
    description: "'managedidentity' for identity-based storage access (Azure).",
    optional: true,
  },
  AzureWebJobsStorage__clientId: {
    description: 'Client id of the user-assigned managed identity used for storage (Azure).',
    optional: true,
  },
  RINGCENTRAL_SERVER_URL: { description: 'RingCentral API server.', default: 'https://platform.ringcentral.com' },
  RINGCENTRAL_CLIENT_ID: { description: 'RingCentral app client id (JWT auth app).' },
  RINGCENTRAL_CLIENT_SECRET: { description: 'RingCentral app client secret.', secret: true },
  RINGCENTRAL_JWT: {
    description: 'JWT credential of the RingCentral admin user that runs compliance exports.',
    secret: true,
  },
  RINGCENTRAL_RATE_LIMITS: {
    description: "Requests per minute per usage-plan group, as the app's plan allows.",
    default: 'Light=50,Medium=40,Heavy=10,Auth=5',
  },
  GRAPH_BASE_URL: { description: 'Microsoft Graph base URL.', default: 'https://graph.microsoft.com' },
  // GRAPH_*, not AZURE_*: Azure SDK default credentials read AZURE_TENANT_ID/AZURE_CLIENT_ID/
  // AZURE_CLIENT_SECRET, so under those names any default-credential use would sign in as the
  // Graph app instead of the managed identity.
  GRAPH_TENANT_ID: { description: 'Entra tenant of the Graph app.' },
  GRAPH_CLIENT_ID: {
    description:
      'Client id of the Entra app that writes into mailboxes (User.Read.All, mailbox access scoped with Exchange RBAC for Applications).',
  },
  GRAPH_CLIENT_SECRET: { description: 'Client secret of that Entra app.', secret: true },
  AZURE_AUTHORITY_HOST: { description: 'Entra authority host.', default: 'https://login.microsoftonline.com' },
  // Graph allows 10,000 requests per mailbox per 10 minutes; 3% is kept back for requests the
  // pacer does not see (the SDK's own retry, a status check after a reset).
  GRAPH_MAILBOX_PACING: {
    description:
      "Graph requests per mailbox the archiver allows itself, as '<requests>/<seconds>' of a sliding window, across all instances. The bench shortens the window at the same rate.",
    default: '9700/600',
  },
  INGEST_SCHEDULE: { description: 'NCRONTAB schedule of the ingest timer (six fields, UTC).', default: '0 5 * * * *' },
  CAPTURE_START: {
    description: 'ISO time the first window starts at. Empty = start of the retention period.',
    optional: true,
  },
  CAPTURE_LAG_MINUTES: {
    description: 'Safety lag: a window ends this many minutes before now, so late writes are included.',
    default: '15',
  },
  RETENTION_DAYS: { description: "The RingCentral account's Team Messaging retention period.", default: '90' },
  MAX_WINDOW_HOURS: {
    description:
      "Upper bound of the time one export task covers. Windows are sized by volume below it; RingCentral's own limit (6 months, taken as 180 days) always applies.",
    default: '4320',
  },
  EXPORT_POLL_SECONDS: { description: 'Delay between polls of a running export task.', default: '30' },
  CAPTURE_SOURCES: {
    description:
      'What to capture, comma-separated: teammessaging (chats), messages (SMS/MMS, pager, fax, voicemail), calls (call log and recordings). A listed source whose RingCentral app permission is missing shows as such in /api/status and is tried again hourly.',
    default: 'teammessaging,messages,calls',
  },
  FALLBACK_MAILBOX: {
    description: 'Mailbox that receives items for internal people without a mailbox. Empty = skip and report.',
    optional: true,
  },
  ARCHIVE_FOLDER: { description: 'Name of the folder under Inbox that receives the archive.', default: 'RingCentral' },
  PEOPLE_CACHE_HOURS: { description: 'How long a person → mailbox lookup is cached.', default: '24' },
  MAX_MESSAGE_SIZE_MB: {
    description:
      "The mailboxes' maximum message size (Exchange default 35, up to 150). Larger files stay in Blob storage with a notice.",
    default: '35',
  },
  FANOUT_LIMIT: {
    description: 'Chats with more members than this deliver to the sender and FALLBACK_MAILBOX only. 0 = off.',
    default: '0',
  },
  MAILBOX_TARGET: {
    description:
      "'graph' (Microsoft 365 mailboxes), 'eml-blob' (dry run: .eml files in the 'eml' blob container; the one that works in Azure) or 'eml-folder' (local dry run: .eml files under EML_FOLDER).",
    default: 'graph',
  },
  EML_FOLDER: { description: 'Output folder of the eml-folder target.', default: '.local/eml-out', localOnly: true },
  MANAGED_IDENTITY_CLIENT_ID: {
    description: 'Client id of the user-assigned managed identity (Azure Monitor authentication).',
    optional: true,
  },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    description:
      'Application Insights connection string. Set: custom metrics are exported through OpenTelemetry (the host sends logs with it too). Empty = no metrics export.',
    optional: true,
  },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    description: "'ClientId=<id>;Authorization=AAD' when the Application Insights resource accepts Entra tokens only.",
    optional: true,
  },
  METRICS_EXPORT_SECONDS: {
    description: 'How often the custom metrics are exported to Application Insights.',
    default: '60',
  },
  NODE_OPTIONS: {
    description:
      "Node.js flags of the worker process, read by Node itself at start. The Bicep sets '--max-old-space-size=192' so memory stays bounded.",
    optional: true,
  },
  LOCAL_FUNCTION_KEY: {
    description: 'Function key the local host accepts (local only).',
    optional: true,
    localOnly: true,
    secret: true,
  },
  LOCAL_ADMIN_KEY: {
    description: 'Admin key the local host accepts (local only).',
    optional: true,
    localOnly: true,
    secret: true,
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time');
const httpsOrLoopbackUrl = z
  .string()
  .url()
  .refine(
    (s) => s.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(s),
    'must be an https URL (plain http only for loopback doubles)',
  );
const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__blobServiceUri: z.string().url().optional(),
  AzureWebJobsStorage__queueServiceUri: z.string().url().optional(),
  AzureWebJobsStorage__tableServiceUri: z.string().url().optional(),
  AzureWebJobsStorage__credential: z.string().optional(),
  AzureWebJobsStorage__clientId: z.string().optional(),
  RINGCENTRAL_SERVER_URL: httpsOrLoopbackUrl,
  RINGCENTRAL_CLIENT_ID: z.string().min(1),
  RINGCENTRAL_CLIENT_SECRET: z.string().min(1),
  RINGCENTRAL_JWT: z.string().min(1),
  RINGCENTRAL_RATE_LIMITS: z.string().refine((s) => {
    try {
      parseRateLimits(s);
      return true;
    } catch {
      return false;
    }
  }, 'must look like Light=50,Medium=40,Heavy=10,Auth=5'),
  GRAPH_BASE_URL: z
    .string()
    .url()
    .refine((s) => s.startsWith('https://'), 'must be https (the Graph client sends its token only to https URLs)'),
  GRAPH_TENANT_ID: z.string().min(1),
  GRAPH_CLIENT_ID: z.string().min(1),
  GRAPH_CLIENT_SECRET: z.string().min(1),
  AZURE_AUTHORITY_HOST: z
    .string()
    .url()
    .refine((s) => s.startsWith('https://'), 'must be https'),
  GRAPH_MAILBOX_PACING: z
    .string()
    .regex(/^\d+\/\d+(\.\d+)?$/, 'must look like 9700/600 (requests/seconds)')
    .refine((s) => s.split('/').every((n) => Number(n) > 0), 'must be positive numbers'),
  INGEST_SCHEDULE: z.string().refine((s) => s.trim().split(/\s+/).length === 6, 'must be NCRONTAB with six fields'),
  CAPTURE_START: isoTime.optional(),
  CAPTURE_LAG_MINUTES: z.coerce.number().int().min(0),
  RETENTION_DAYS: positiveInt,
  MAX_WINDOW_HOURS: positiveInt,
  EXPORT_POLL_SECONDS: positiveInt,
  CAPTURE_SOURCES: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((x) => x.trim().toLowerCase())
          .filter(Boolean),
      ),
    ])
    .refine(
      (list) => list.length > 0 && list.every((x) => (CAPTURE_SOURCES as readonly string[]).includes(x)),
      `must list one or more of ${CAPTURE_SOURCES.join(',')}`,
    ),
  FALLBACK_MAILBOX: z.string().email().optional(),
  ARCHIVE_FOLDER: z
    .string()
    .min(1)
    .max(255)
    .refine((s) => !/[\\/]/.test(s), 'must not contain / or \\'),
  PEOPLE_CACHE_HOURS: z.coerce.number().min(0),
  MAX_MESSAGE_SIZE_MB: z.coerce.number().min(1).max(150),
  FANOUT_LIMIT: z.coerce.number().int().min(0),
  MAILBOX_TARGET: z.enum(['graph', 'eml-blob', 'eml-folder']),
  EML_FOLDER: z.string().min(1),
  MANAGED_IDENTITY_CLIENT_ID: z.string().optional(),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z
    .string()
    .refine((s) => /(^|;)\s*InstrumentationKey\s*=\s*[0-9a-f-]{36}/i.test(s), 'must contain InstrumentationKey=<guid>')
    .optional(),
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z
    .string()
    .refine(
      (s) => /(^|;)\s*Authorization\s*=\s*AAD\s*(;|$)/i.test(s),
      "must look like 'ClientId=<id>;Authorization=AAD'",
    )
    .optional(),
  METRICS_EXPORT_SECONDS: positiveInt,
  LOCAL_FUNCTION_KEY: z.string().optional(),
  LOCAL_ADMIN_KEY: z.string().optional(),
});

type RawConfig = z.infer<typeof schema>;

/**
 * A setting's value from the environment, or its documented default. For the few places that
 * need a setting before the config is loaded (trigger options are read when a function file loads).
 */
export function settingOrDefault(name: SettingName, env: Record<string, string | undefined> = process.env): string {
  const value = env[name]?.trim();
  return value ? value : ((SETTINGS[name] as SettingSpec).default ?? '');
}

export interface Config {
  storage: {
    connectionString?: string;
    blobUri?: string;
    queueUri?: string;
    tableUri?: string;
    managedIdentityClientId?: string;
  };
  ringCentral: {
    serverUrl: string;
    clientId: string;
    clientSecret: string;
    jwt: string;
    rateLimits: Record<RateGroup, number>;
  };
  graph: { baseUrl: string; tenantId: string; clientId: string; clientSecret: string; authorityHost: string };
  /** Graph request budget per mailbox (GRAPH_MAILBOX_PACING). */
  graphMailboxPacing: { requestsPerWindow: number; requestWindowMs: number };
  capture: {
    start: Date;
    lagMinutes: number;
    retentionDays: number;
    maxWindowHours: number;
    exportPollSeconds: number;
    /** CAPTURE_SOURCES, in the fixed order of CAPTURE_SOURCES. */
    sources: CaptureSource[];
  };
  ingestSchedule: string;
  fallbackMailbox?: string;
  archiveFolder: string;
  peopleCacheHours: number;
  maxMessageBytes: number;
  fanoutLimit: number;
  mailboxTarget: 'graph' | 'eml-blob' | 'eml-folder';
  emlFolder: string;
  /** Custom metrics export; absent when no Application Insights connection string is set. */
  telemetry?: { connectionString: string; entraClientId?: string; entraAuth: boolean; exportIntervalSeconds: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates every setting at once, so one start-up error names every bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env, now: Date = new Date()): Config {
  const input: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[string, SettingSpec]>) {
    const value = env[name];
    input[name] = value === undefined || value.trim() === '' ? spec.default : value.trim();
  }
  const parsed = schema.safeParse(input);
  // Issue messages name the setting and the rule, never the value, so secrets cannot leak.
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '?');
        return `${name}: ${input[name] === undefined ? `is required${renamedHint(name, env)}` : i.message}`;
      });
  const identityBased =
    input.AzureWebJobsStorage__blobServiceUri &&
    input.AzureWebJobsStorage__queueServiceUri &&
    input.AzureWebJobsStorage__tableServiceUri;
  if (!input.AzureWebJobsStorage && !identityBased) {
    problems.unshift(
      'AzureWebJobsStorage: set a connection string, or the three AzureWebJobsStorage__*ServiceUri settings',
    );
  }
  if (problems.length || !parsed.success) throw new ConfigError([...new Set(problems)]);
  return toConfig(parsed.data, now);
}

/** The Graph app's settings were AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET; say so to whoever still has those. */
const RENAMED: Partial<Record<string, string>> = {
  GRAPH_TENANT_ID: 'AZURE_TENANT_ID',
  GRAPH_CLIENT_ID: 'AZURE_CLIENT_ID',
  GRAPH_CLIENT_SECRET: 'AZURE_CLIENT_SECRET',
};

function renamedHint(name: string, env: Record<string, string | undefined>): string {
  const old = RENAMED[name];
  return old && env[old]?.trim() ? ` (it was called ${old}; rename it)` : '';
}

function toConfig(v: RawConfig, now: Date): Config {
  const retentionStart = new Date(now.getTime() - v.RETENTION_DAYS * 86_400_000);
  return {
    storage: {
      connectionString: v.AzureWebJobsStorage,
      blobUri: v.AzureWebJobsStorage__blobServiceUri,
      queueUri: v.AzureWebJobsStorage__queueServiceUri,
      tableUri: v.AzureWebJobsStorage__tableServiceUri,
      managedIdentityClientId: v.AzureWebJobsStorage__clientId,
    },
    ringCentral: {
      serverUrl: v.RINGCENTRAL_SERVER_URL,
      clientId: v.RINGCENTRAL_CLIENT_ID,
      clientSecret: v.RINGCENTRAL_CLIENT_SECRET,
      jwt: v.RINGCENTRAL_JWT,
      rateLimits: parseRateLimits(v.RINGCENTRAL_RATE_LIMITS),
    },
    graph: {
      baseUrl: v.GRAPH_BASE_URL.replace(/\/+$/, ''),
      tenantId: v.GRAPH_TENANT_ID,
      clientId: v.GRAPH_CLIENT_ID,
      clientSecret: v.GRAPH_CLIENT_SECRET,
      authorityHost: v.AZURE_AUTHORITY_HOST.replace(/\/+$/, ''),
    },
    graphMailboxPacing: parsePacing(v.GRAPH_MAILBOX_PACING),
    capture: {
      start: v.CAPTURE_START ? new Date(v.CAPTURE_START) : retentionStart,
      lagMinutes: v.CAPTURE_LAG_MINUTES,
      retentionDays: v.RETENTION_DAYS,
      maxWindowHours: v.MAX_WINDOW_HOURS,
      exportPollSeconds: v.EXPORT_POLL_SECONDS,
      sources: CAPTURE_SOURCES.filter((x) => v.CAPTURE_SOURCES.includes(x)),
    },
    ingestSchedule: v.INGEST_SCHEDULE,
    fallbackMailbox: v.FALLBACK_MAILBOX?.toLowerCase(),
    archiveFolder: v.ARCHIVE_FOLDER,
    peopleCacheHours: v.PEOPLE_CACHE_HOURS,
    maxMessageBytes: Math.floor(v.MAX_MESSAGE_SIZE_MB * 1024 * 1024),
    fanoutLimit: v.FANOUT_LIMIT,
    mailboxTarget: v.MAILBOX_TARGET,
    emlFolder: v.EML_FOLDER,
    telemetry: v.APPLICATIONINSIGHTS_CONNECTION_STRING
      ? {
          connectionString: v.APPLICATIONINSIGHTS_CONNECTION_STRING,
          entraAuth: v.APPLICATIONINSIGHTS_AUTHENTICATION_STRING !== undefined,
          entraClientId:
            /(?:^|;)\s*ClientId\s*=\s*([^;\s]+)/i.exec(v.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '')?.[1] ??
            v.MANAGED_IDENTITY_CLIENT_ID,
          exportIntervalSeconds: v.METRICS_EXPORT_SECONDS,
        }
      : undefined,
  };
}

function parsePacing(setting: string): Config['graphMailboxPacing'] {
  const [requests, seconds] = setting.split('/').map(Number) as [number, number];
  return { requestsPerWindow: requests, requestWindowMs: Math.round(seconds * 1000) };
}
