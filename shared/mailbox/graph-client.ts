import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
  GraphError,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { ClientSecretCredential } from '@azure/identity';
import type { Config } from '../config';
import { OutcomeUnknownError, RetryLaterError } from '../errors';
import { parseRetryAfter } from '../retry-after';
import { MailboxRejectedError, MailboxUnavailableError } from './mailbox-target';

// Throttling is answered by rescheduling the queue message, not by sleeping in an
// invocation: the SDK may retry once for a short Retry-After, anything longer surfaces.
const MAX_IN_PROCESS_RETRY_SECONDS = 2;
// ARCHIVER_TEST_GRAPH_TIMEOUT_MS is for tests only (the chaos test's slower-than-timeout faults); not a setting.
export const GRAPH_REQUEST_TIMEOUT_MS =
  Number(process.env.ARCHIVER_TEST_GRAPH_TIMEOUT_MS) > 0 ? Number(process.env.ARCHIVER_TEST_GRAPH_TIMEOUT_MS) : 60_000;
/**
 * How long a write the client gave up on is given to land before anyone looks for it: a request
 * abandoned at the client's time-out can still be carried out by Exchange a while later.
 */
export const GRAPH_SETTLE_SECONDS = Math.ceil((2 * GRAPH_REQUEST_TIMEOUT_MS) / 1000);

export function createGraphClient(settings: Config['graph']): Client {
  const defaultAuthority = /login\.microsoftonline\.com/i.test(settings.authorityHost);
  const credential = new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret, {
    authorityHost: settings.authorityHost,
    // Instance discovery only knows Microsoft's clouds; a sovereign or test authority skips it.
    disableInstanceDiscovery: !defaultAuthority,
  });
  const scope = `${new URL(settings.baseUrl).origin}/.default`;
  const auth = new AuthenticationHandler(new TokenCredentialAuthenticationProvider(credential, { scopes: [scope] }));
  const retry = new RetryHandler(
    new RetryHandlerOptions(1, 1, (_delay, _attempt, request, options, response) => {
      const method = (typeof request === 'string' ? options?.method : request.method) ?? 'GET';
      if (!mayResendBlindly(method, response.status)) return false;
      const header = response.headers.get('retry-after');
      // No Retry-After: the SDK's own one-second wait; one that cannot be read is not waited on.
      const retryAfter = header === null ? 1 : parseRetryAfter(header);
      return retryAfter !== undefined && retryAfter <= MAX_IN_PROCESS_RETRY_SECONDS;
    }),
  );
  auth.setNext(retry);
  retry.setNext(new HTTPMessageHandler());
  const host = new URL(settings.baseUrl).hostname;
  return Client.initWithMiddleware({ middleware: auth, baseUrl: `${settings.baseUrl}/`, customHosts: new Set([host]) });
}

/**
 * A read can always be sent again. A write whose answer was a 503 or 504 may have been carried out
 * (a gateway answers 504 after Exchange stored the item), so its outcome is unknown and only the
 * caller's look-up may decide; a 429 is refused before any work, so it is the one write that may
 * be re-sent as it is.
 */
export function mayResendBlindly(method: string, status: number): boolean {
  return status === 429 || method.toUpperCase() === 'GET';
}

/** Turns Graph throttling and outages into RetryLaterError; other errors pass through with a clear message. */
export function translateGraphError(
  err: unknown,
  what: string,
  fence?: AbortSignal,
  opts: { write?: boolean } = {},
): Error {
  if (err instanceof RetryLaterError) return err;
  // Abandoned because the caller lost its right to write: say so, not "time-out".
  if (fence?.aborted && fence.reason instanceof Error) return fence.reason;
  const e = err as GraphError & { name?: string };
  const status = e.statusCode;
  if (status === 429 || status === 503 || status === 504) {
    const seconds = parseRetryAfter(e.headers?.get?.('retry-after'));
    const retryAfter = seconds !== undefined && seconds > 0 ? seconds : undefined;
    // A 503 or 504 to a write does not say whether it was carried out.
    if (opts.write && status !== 429)
      return new OutcomeUnknownError(
        Math.max(retryAfter ?? 0, GRAPH_SETTLE_SECONDS),
        `Graph answered ${status} to ${what}`,
      );
    return new RetryLaterError(retryAfter ?? 10, `Graph answered ${status} to ${what}`);
  }
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || status === -1 || status === undefined) {
    const reason = `Graph ${what} did not complete: ${e.message ?? String(err)}`;
    return opts.write ? new OutcomeUnknownError(GRAPH_SETTLE_SECONDS, reason) : new RetryLaterError(5, reason);
  }
  return new GraphCallError(
    status,
    e.code ?? 'unknown',
    `${what} failed: HTTP ${status} ${e.code ?? ''} ${e.message ?? ''}`.trim(),
  );
}

export class GraphCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GraphCallError';
  }
}

// Graph's codes for an item the mailbox refuses for good, and for a mailbox that is missing or not
// enabled (yet), which an admin may fix.
const REJECTED_CODES = new Set([
  'ErrorAccessDenied',
  'ErrorInvalidRecipients',
  'ErrorItemTooBig',
  'ErrorQuotaExceeded',
  'ErrorMessageSizeExceeded',
]);
const MAILBOX_MISSING_CODES = new Set([
  'MailboxNotEnabledForRESTAPI',
  'MailboxNotFound',
  'ResourceNotFound',
  'ErrorInvalidUser',
  'UserNotFound',
  'ErrorMailboxMoveInProgress',
]);

/** Graph's refusals in the mailbox port's own terms (mailbox-target.ts); any other error as it is. */
export function asMailboxError(err: unknown): unknown {
  if (!(err instanceof GraphCallError)) return err;
  if (MAILBOX_MISSING_CODES.has(err.code)) return new MailboxUnavailableError(err.code, err.message);
  if (REJECTED_CODES.has(err.code)) return new MailboxRejectedError(err.code, err.message);
  return err;
}

/** The request time-out, cut short by `fence` when the caller must stop (see MailboxTarget). */
export function timeoutSignal(fence?: AbortSignal, ms = GRAPH_REQUEST_TIMEOUT_MS): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return fence ? AbortSignal.any([timeout, fence]) : timeout;
}

/** Refuses to start a write once the fence is down: its reason (the lost claim) is thrown. */
export function beforeWrite(fence: AbortSignal | undefined): void {
  fence?.throwIfAborted();
}
