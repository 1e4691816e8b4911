import { randomBytes } from 'node:crypto';

// Exchange REST ids are long URL-safe base64 strings ending in '='; clients must path-encode them.
export function exchangeId(prefix: 'AAMkAG' | 'AQMkAD' | 'AAMkAA'): string {
  return `${prefix}${randomBytes(30).toString('base64url')}=`;
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
