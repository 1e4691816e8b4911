/**
 * Starts the identity double and the Graph double together and builds real SDK clients against
 * them: the wiring every integration test needs. Requires NODE_EXTRA_CA_CERTS to point at the
 * dev certificate (see dev/certs.ts) before node starts.
 */
import { ClientSecretCredential } from '@azure/identity';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { ensureDevCertificate } from '../../certs';
import { startIdentityDouble, type IdentityDouble } from '../identity/server';
import { startGraphDouble, type GraphDouble, type GraphDoubleOptions } from './server';

export interface MicrosoftDoubles {
  identity: IdentityDouble;
  graph: GraphDouble;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  credential(): ClientSecretCredential;
  /** A v3 Graph client wired to the doubles exactly as production wires it to Microsoft. */
  graphClient(): Client;
  close(): Promise<void>;
}

export async function startMicrosoftDoubles(
  opts: Omit<GraphDoubleOptions, 'tls' | 'verifyToken'> & {
    certDir?: string;
    tenantId?: string;
    clientId?: string;
    clientSecret?: string;
  },
): Promise<MicrosoftDoubles> {
  const tls = await ensureDevCertificate(opts.certDir ?? '.local/certs');
  const tenantId = opts.tenantId ?? '72f988bf-0000-4000-8000-000000000001';
  const clientId = opts.clientId ?? '0d1c4b5e-0000-4000-8000-000000000002';
  const clientSecret = opts.clientSecret ?? 'dev-secret-not-real';
  const identity = await startIdentityDouble({ tls, tenantId, clients: [{ clientId, clientSecret }] });
  const graph = await startGraphDouble({ ...opts, tls, verifyToken: (t) => identity.verifyToken(t) });
  const credential = (): ClientSecretCredential =>
    new ClientSecretCredential(tenantId, clientId, clientSecret, {
      authorityHost: identity.url,
      disableInstanceDiscovery: true,
    });
  return {
    identity,
    graph,
    tenantId,
    clientId,
    clientSecret,
    credential,
    graphClient() {
      const authProvider = new TokenCredentialAuthenticationProvider(credential(), {
        scopes: ['https://graph.microsoft.com/.default'],
      });
      return Client.initWithMiddleware({
        authProvider,
        baseUrl: graph.url,
        customHosts: new Set([new URL(graph.url).hostname]),
      });
    },
    async close() {
      await graph.close();
      await identity.close();
    },
  };
}
