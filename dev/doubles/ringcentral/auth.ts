import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type TokenInfo from '@rc-ex/core/definitions/TokenInfo';
import { oauthErrorBody, type OAuthErrorBody } from './http-helpers';

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
  jwt: string;
}

export type TokenOutcome = { status: 200; body: TokenInfo } | { status: 400 | 401; body: OAuthErrorBody };

/**
 * The OAuth side of the double: JWT bearer and refresh grants with HTTP Basic client
 * authentication; a refresh retires the old pair, as RingCentral documents.
 */
export class TokenAuthority {
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Map<string, { expiresAt: number; access: string }>();

  constructor(
    private readonly app: AppCredentials,
    private readonly ownerId: string,
    private readonly accessTtlSeconds = 3600,
    private readonly refreshTtlSeconds = 604_800,
    private readonly now: () => number = Date.now,
  ) {}

  grant(authorization: string | undefined, form: URLSearchParams): TokenOutcome {
    const client = parseBasic(authorization);
    if (!client || client.id !== this.app.clientId || client.secret !== this.app.clientSecret) {
      return { status: 401, body: oauthErrorBody('invalid_client', 'OAU-123', 'Invalid client credentials') };
    }
    const grantType = form.get('grant_type');
    if (grantType === JWT_GRANT) {
      if (form.get('assertion') !== this.app.jwt)
        return {
          status: 400,
          body: oauthErrorBody('invalid_grant', 'OAU-211', 'Invalid assertion: JWT token is invalid'),
        };
      return { status: 200, body: this.issue() };
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const known = this.refreshTokens.get(presented);
      if (!known || known.expiresAt <= this.now())
        return { status: 400, body: oauthErrorBody('invalid_grant', 'OAU-211', 'Token is revoked or expired') };
      this.refreshTokens.delete(presented);
      this.accessTokens.delete(known.access);
      return { status: 200, body: this.issue() };
    }
    return {
      status: 400,
      body: oauthErrorBody('unsupported_grant_type', 'OAU-250', `Unsupported grant type: ${grantType ?? '(none)'}`),
    };
  }

  revoke(token: string): void {
    this.accessTokens.delete(token);
    const refresh = this.refreshTokens.get(token);
    if (refresh) {
      this.accessTokens.delete(refresh.access);
      this.refreshTokens.delete(token);
    }
  }

  /** 'missing' | 'invalid' | 'expired' | 'ok' for a request's bearer token (header or `access_token` query). */
  verify(req: IncomingMessage, url: URL): 'missing' | 'invalid' | 'expired' | 'ok' {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('access_token');
    if (!token) return 'missing';
    const expiresAt = this.accessTokens.get(token);
    if (expiresAt === undefined) return 'invalid';
    return expiresAt > this.now() ? 'ok' : 'expired';
  }

  /** Makes every issued access token expired; refresh tokens stay valid. */
  expireAccessTokens(): void {
    for (const token of this.accessTokens.keys()) this.accessTokens.set(token, 0);
  }

  private issue(): TokenInfo {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(24).toString('base64url');
    this.accessTokens.set(access, this.now() + this.accessTtlSeconds * 1000);
    this.refreshTokens.set(refresh, { expiresAt: this.now() + this.refreshTtlSeconds * 1000, access });
    return {
      access_token: access,
      token_type: 'bearer',
      expires_in: this.accessTtlSeconds,
      refresh_token: refresh,
      refresh_token_expires_in: this.refreshTtlSeconds,
      scope: 'TeamMessaging ReadAccounts',
      owner_id: this.ownerId,
      endpoint_id: randomBytes(8).toString('hex'),
    };
  }
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
