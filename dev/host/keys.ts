import { timingSafeEqual } from 'node:crypto';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

/**
 * Azure host key rules: `function` accepts a function key or the admin (master) key, `admin` only the
 * admin key; the key comes from the `x-functions-key` header or the `code` query parameter.
 */
export function isAuthorized(
  authLevel: AuthLevel,
  presented: string | undefined,
  settings: { LOCAL_FUNCTION_KEY?: string; LOCAL_ADMIN_KEY?: string },
): boolean {
  if (authLevel === 'anonymous') return true;
  if (!presented) return false;
  const accepted =
    authLevel === 'admin' ? [settings.LOCAL_ADMIN_KEY] : [settings.LOCAL_FUNCTION_KEY, settings.LOCAL_ADMIN_KEY];
  return accepted.some((key) => !!key && sameSecret(presented, key));
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function presentedKey(
  headers: Record<string, string | string[] | undefined>,
  query: URLSearchParams,
): string | undefined {
  const header = headers['x-functions-key'];
  return (Array.isArray(header) ? header[0] : header) || query.get('code') || undefined;
}
