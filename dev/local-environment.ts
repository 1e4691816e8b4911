import { randomBytes } from 'node:crypto';
import type { ExportOrganisation } from '../shared/ringcentral/export-records';
import type { VoiceOrganisation } from './doubles/ringcentral/voice-records';
import { ensureDevCertificate } from './certs';
import { startAzurite, type RunningAzurite } from './azurite';
import { startIdentityDouble, type IdentityDouble } from './doubles/identity/server';
import { startGraphDouble, type GraphDouble } from './doubles/graph/server';
import { startRingCentralDouble, type RingCentralDouble } from './doubles/ringcentral/server';

export interface LocalEnvironmentOptions {
  org: ExportOrganisation;
  /**
   * Extensions, message stores and call log of the same account. Without it the archiver captures
   * Team Messaging only (CAPTURE_SOURCES=teammessaging), as suites about chats expect.
   */
  voice?: VoiceOrganisation;
  /** Member emails that have no Microsoft 365 mailbox in the Graph double. */
  withoutMailbox?: string[];
  azurite?: { location?: string; inMemory?: boolean };
  ringCentral?: Omit<Partial<Parameters<typeof startRingCentralDouble>[0]>, 'org'>;
  graph?: Omit<Partial<Parameters<typeof startGraphDouble>[0]>, 'tls' | 'verifyToken' | 'users'>;
  /** Extra settings; they win over the generated ones. */
  settings?: Record<string, string>;
}

export interface LocalEnvironment {
  settings: Record<string, string>;
  azurite: RunningAzurite;
  identity: IdentityDouble;
  graph: GraphDouble;
  ringCentral: RingCentralDouble;
  stop(): Promise<void>;
}

const TENANT = '00000000-0000-4000-8000-00000000d3m0';

/**
 * Azurite plus the identity, Graph and RingCentral doubles, seeded with one organisation,
 * and the settings that point the archiver at them. Used by `npm start`, tests and the bench.
 */
export async function startLocalEnvironment(opts: LocalEnvironmentOptions): Promise<LocalEnvironment> {
  const tls = await ensureDevCertificate('.local/certs');
  const rcCredentials = {
    clientId: 'demo-rc-client',
    clientSecret: randomBytes(12).toString('hex'),
    jwt: `demo.${randomBytes(16).toString('hex')}.jwt`,
  };
  const graphApp = { clientId: '11111111-2222-4333-8444-555555555555', clientSecret: randomBytes(16).toString('hex') };
  const withoutMailbox = new Set((opts.withoutMailbox ?? []).map((e) => e.toLowerCase()));

  const azurite = await startAzurite({ ...opts.azurite, silent: true });
  const identity = await startIdentityDouble({ tls, tenantId: TENANT, clients: [graphApp] });
  const users = opts.org.members
    .filter((m) => m.email)
    .map((m, i) => ({
      id: `u-${String(i).padStart(4, '0')}-${m.id}`,
      mail: m.email!.toLowerCase(),
      userPrincipalName: m.email!.toLowerCase(),
      displayName: `${m.firstName ?? ''} ${m.lastName ?? ''}`.trim() || m.email!,
      accountEnabled: true,
      hasMailbox: !withoutMailbox.has(m.email!.toLowerCase()),
    }))
    .filter((u) => u.hasMailbox);
  const graph = await startGraphDouble({ tls, verifyToken: (t) => identity.verifyToken(t), users, ...opts.graph });
  const ringCentral = await startRingCentralDouble({
    org: opts.org,
    ...(opts.voice ? { voice: opts.voice } : {}),
    ...rcCredentials,
    ...opts.ringCentral,
  });

  const settings: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    RINGCENTRAL_SERVER_URL: ringCentral.url,
    RINGCENTRAL_CLIENT_ID: rcCredentials.clientId,
    RINGCENTRAL_CLIENT_SECRET: rcCredentials.clientSecret,
    RINGCENTRAL_JWT: rcCredentials.jwt,
    GRAPH_BASE_URL: graph.url,
    GRAPH_TENANT_ID: TENANT,
    GRAPH_CLIENT_ID: graphApp.clientId,
    GRAPH_CLIENT_SECRET: graphApp.clientSecret,
    AZURE_AUTHORITY_HOST: identity.url,
    INGEST_SCHEDULE: '0 */5 * * * *',
    EXPORT_POLL_SECONDS: '1',
    CAPTURE_LAG_MINUTES: '5',
    CAPTURE_SOURCES: opts.voice ? 'teammessaging,messages,calls' : 'teammessaging',
    ...opts.settings,
  };
  return {
    settings,
    azurite,
    identity,
    graph,
    ringCentral,
    async stop() {
      await Promise.allSettled([ringCentral.close(), graph.close(), identity.close()]);
      await azurite.stop();
    },
  };
}
