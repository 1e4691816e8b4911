import { GraphHttpError } from './http-types';
import type { Mailbox, TenantState } from './mailbox-state';
import type { ThrottleLimits } from './throttling';
import type { UploadSessionStore } from './upload-sessions';

export interface GraphLimits extends ThrottleLimits {
  /** Exchange Online's default maximum message size (admins can raise it to 150 MB). */
  maxMessageBytes: number;
}

/** What every handler needs: the tenant, the upload sessions, the limits and the public URLs. */
export interface GraphContext {
  state: TenantState;
  uploads: UploadSessionStore;
  limits: GraphLimits;
  /** https://127.0.0.1:PORT */
  graphBaseUrl: string;
  /** https://<uploadHostName>:PORT */
  uploadBaseUrl: string;
  now(): Date;
}

export function requireMailbox(ctx: GraphContext, key: string): Mailbox {
  const user = ctx.state.findUser(key);
  if (!user) throw new GraphHttpError(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`);
  if (user.hasMailbox === false) {
    throw new GraphHttpError(
      404,
      'MailboxNotEnabledForRESTAPI',
      'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    );
  }
  return ctx.state.mailboxOf(user);
}
