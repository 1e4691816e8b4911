import { randomBytes } from 'node:crypto';
import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { dashboardPage } from '../shared/operations/dashboard-page';

/** GET /api/dashboard?code=<function key>: a static page that reads /api/status with the same key. */
export async function dashboard(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const nonce = randomBytes(16).toString('base64');
  return {
    status: 200,
    body: dashboardPage(nonce),
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
    },
  };
}

app.http('dashboard', { methods: ['GET'], authLevel: 'function', route: 'dashboard', handler: dashboard });
