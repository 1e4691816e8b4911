import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  azp: string;
  oid: string;
  roles: string[];
  iat: number;
  nbf: number;
  exp: number;
  uti: string;
  ver: '1.0';
}

/** Signs and checks JWT-shaped tokens with a key that lives only as long as this process. */
export class TokenSigner {
  private readonly key = randomBytes(32);

  sign(claims: AccessTokenClaims): string {
    const header = base64UrlJson({ typ: 'JWT', alg: 'HS256', kid: 'identity-double' });
    const payload = base64UrlJson(claims);
    return `${header}.${payload}.${this.signature(`${header}.${payload}`)}`;
  }

  /** Returns the claims of a token this signer issued and that has not expired, else null. */
  verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): AccessTokenClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.signature(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AccessTokenClaims;
    } catch {
      return null;
    }
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return null;
    if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + 300) return null;
    return claims;
  }

  private signature(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}

export function newTokenId(): string {
  return randomUUID();
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
