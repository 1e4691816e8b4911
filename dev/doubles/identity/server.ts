/**
 * Microsoft Entra ID double: the v2.0 client-credentials endpoints that MSAL Node
 * (and so @azure/identity's ClientSecretCredential) calls when it is given
 *   { authorityHost: double.url, disableInstanceDiscovery: true }.
 * MSAL accepts only https authorities, so the double is served over TLS with the dev
 * certificate, which the process must trust through NODE_EXTRA_CA_CERTS.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TokenSigner, newTokenId } from './tokens';

export interface IdentityDoubleClient {
  clientId: string;
  clientSecret: string;
  /** App roles put in the token; defaults to the archiver's Mail.ReadWrite and User.Read.All. */
  roles?: string[];
}

export interface IdentityDoubleOptions {
  tls: { keyPem: string; certPem: string };
  tenantId: string;
  clients: IdentityDoubleClient[];
  port?: number;
  tokenLifetimeSeconds?: number;
}

export interface VerifiedToken {
  appId: string;
  tenantId: string;
  audience: string;
  roles: string[];
}

export interface IdentityDouble {
  /** https://127.0.0.1:PORT */
  url: string;
  /** Same as url; the value for @azure/identity's `authorityHost`. */
  authorityHost: string;
  verifyToken(bearer: string): VerifiedToken | null;
  addClient(client: IdentityDoubleClient): void;
  stats: { tokensIssued: number; tokenRequestsRejected: number };
  close(): Promise<void>;
}

const DEFAULT_ROLES = ['Mail.ReadWrite', 'User.Read.All'];

export async function startIdentityDouble(opts: IdentityDoubleOptions): Promise<IdentityDouble> {
  const signer = new TokenSigner();
  const clients = new Map(opts.clients.map((c) => [c.clientId, c]));
  const lifetime = opts.tokenLifetimeSeconds ?? 3600;
  const stats = { tokensIssued: 0, tokenRequestsRejected: 0 };
  let url = '';

  const server = createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem }, (req, res) => {
    readBody(req)
      .then((body) => route(req, res, body))
      .catch(() => sendJson(res, 500, { error: 'server_error' }));
  });

  function issuer(): string {
    return `${url}/${opts.tenantId}/v2.0`;
  }

  function route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = new URL(req.url ?? '/', 'https://placeholder').pathname;
    const segments = path.split('/').filter(Boolean);
    const tenant = segments[0] ?? '';
    const rest = segments.slice(1).join('/');

    if (req.method === 'GET' && path === '/common/discovery/instance') {
      sendJson(res, 200, instanceDiscovery());
      return;
    }
    if (tenant.toLowerCase() !== opts.tenantId.toLowerCase()) {
      const description = `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`;
      sendAadError(res, 400, 'invalid_request', description, 90002);
      return;
    }
    if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      sendJson(res, 200, openIdConfiguration());
      return;
    }
    if (req.method === 'GET' && rest === 'discovery/v2.0/keys') {
      // Tokens are HMAC-signed, so there is no public key to publish.
      sendJson(res, 200, { keys: [] });
      return;
    }
    if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
      issueToken(req, res, body);
      return;
    }
    sendJson(res, 404, { error: 'not_found', error_description: `No route for ${req.method} ${path}` });
  }

  function issueToken(req: IncomingMessage, res: ServerResponse, body: string): void {
    const form = new URLSearchParams(body);
    const basic = parseBasicAuth(req.headers.authorization);
    const clientId = form.get('client_id') ?? basic?.id ?? '';
    const secret = form.get('client_secret') ?? basic?.secret ?? '';
    const grantType = form.get('grant_type');
    const scope = form.get('scope') ?? '';
    const reject = (status: number, error: string, description: string, code: number): void => {
      stats.tokenRequestsRejected += 1;
      sendAadError(res, status, error, description, code);
    };

    if (grantType !== 'client_credentials') {
      reject(
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${grantType ?? ''}'.`,
        70003,
      );
      return;
    }
    const client = clients.get(clientId);
    if (!client) {
      reject(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${opts.tenantId}'.`,
        700016,
      );
      return;
    }
    if (secret !== client.clientSecret) {
      reject(
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        7000215,
      );
      return;
    }
    const scopes = scope.split(' ').filter(Boolean);
    const resourceScope = scopes.find((s) => s.endsWith('/.default'));
    const extraScopes = scopes.filter(
      (s) => s !== resourceScope && !['openid', 'profile', 'offline_access'].includes(s),
    );
    if (!resourceScope || extraScopes.length > 0) {
      reject(
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        1002012,
      );
      return;
    }

    const now = Math.floor(Date.now() / 1000);
    const token = signer.sign({
      aud: resourceScope.slice(0, -'/.default'.length),
      iss: `${url}/${opts.tenantId}/`,
      tid: opts.tenantId,
      appid: clientId,
      azp: clientId,
      oid: clientId,
      roles: client.roles ?? DEFAULT_ROLES,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      uti: newTokenId(),
      ver: '1.0',
    });
    stats.tokensIssued += 1;
    sendJson(res, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
  }

  function openIdConfiguration(): Record<string, unknown> {
    const base = `${url}/${opts.tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: issuer(),
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'ver'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  function instanceDiscovery(): Record<string, unknown> {
    const host = new URL(url).host;
    return {
      tenant_discovery_endpoint: `${url}/${opts.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    authorityHost: url,
    stats,
    addClient(client) {
      clients.set(client.clientId, client);
    },
    verifyToken(bearer) {
      const token = bearer.replace(/^Bearer\s+/i, '').trim();
      const claims = signer.verify(token);
      if (!claims || claims.tid !== opts.tenantId || claims.iss !== `${url}/${opts.tenantId}/`) return null;
      return { appId: claims.appid, tenantId: claims.tid, audience: claims.aud, roles: claims.roles };
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function parseBasicAuth(header: string | undefined): { id: string; secret: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

function sendAadError(res: ServerResponse, status: number, error: string, description: string, code: number): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  sendJson(res, status, {
    error,
    error_description: `${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store, no-cache',
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
