import { badRequest, GraphHttpError, type GraphCall, type GraphReply } from './http-types';
import type { GraphContext } from './graph-context';
import { getUser, listUsers } from './users-api';
import {
  createChildFolder,
  createMessage,
  deleteMessage,
  getFolder,
  getMessage,
  listChildFolders,
  listMessages,
  updateMessage,
} from './mail-api';
import {
  addAttachment,
  attachmentValue,
  createUploadSession,
  deleteAttachment,
  getAttachment,
  listAttachments,
} from './attachments-api';
import type { PathParts } from './http-types';

export interface ResolvedRoute {
  /** Stable name for statistics, e.g. 'messages.create'. */
  name: string;
  /** The {id} of /users/{id}/... when the route touches a mailbox. */
  mailboxKey?: string;
  /** Creates get the 'create' latency; everything else the 'other' latency. */
  isCreate: boolean;
  run(ctx: GraphContext, call: GraphCall): GraphReply;
}

type Handler = (ctx: GraphContext, call: GraphCall, p: PathParts) => GraphReply;

const METHOD_NOT_ALLOWED = (): never => {
  throw new GraphHttpError(405, 'BadRequest', 'Specified HTTP method is not allowed for the request uri.');
};

/** Maps a /v1.0 path to its handler, as Graph's URL parser would, or throws the error Graph gives. */
export function resolveRoute(method: string, segments: string[]): ResolvedRoute {
  const lower = segments.map((s) => s.toLowerCase());
  const route = (name: string, handlers: Partial<Record<string, Handler>>, parts?: PathParts): ResolvedRoute => {
    const handler = handlers[method];
    return {
      name: name.replace('*', verbName(method)),
      mailboxKey: parts?.user,
      isCreate: method === 'POST',
      run: (ctx, call) => (handler ? handler(ctx, call, parts ?? { user: '' }) : METHOD_NOT_ALLOWED()),
    };
  };

  if (lower[0] === 'me') {
    throw badRequest('/me request is only valid with delegated authentication flow.');
  }
  if (lower[0] !== 'users') {
    throw badRequest(`Resource not found for the segment '${segments[0] ?? ''}'.`);
  }
  if (segments.length === 1) return { ...route('users.*', { GET: listUsers }), mailboxKey: undefined };
  const user = segments[1]!;
  if (segments.length === 2)
    return { ...route('user.*', { GET: (ctx, call) => getUser(ctx, call, user) }), mailboxKey: undefined };

  const parts: PathParts = { user };
  let i = 2;
  if (lower[i] === 'mailfolders') {
    if (i + 1 === segments.length) return route('folders.*', { GET: listChildFolders, POST: createChildFolder }, parts);
    parts.folder = segments[i + 1];
    i += 2;
    while (lower[i] === 'childfolders' && i + 1 < segments.length) {
      parts.folder = segments[i + 1];
      i += 2;
    }
    if (i === segments.length) return route('folder.*', { GET: getFolder }, parts);
    if (lower[i] === 'childfolders' && i + 1 === segments.length) {
      return route('folders.*', { GET: listChildFolders, POST: createChildFolder }, parts);
    }
  }
  if (lower[i] !== 'messages') throw badRequest(`Resource not found for the segment '${segments[i] ?? ''}'.`);
  if (i + 1 === segments.length) return route('messages.*', { GET: listMessages, POST: createMessage }, parts);
  parts.message = segments[i + 1];
  i += 2;
  if (i === segments.length) {
    return route('message.*', { GET: getMessage, PATCH: updateMessage, DELETE: deleteMessage }, parts);
  }
  if (lower[i] !== 'attachments') throw badRequest(`Resource not found for the segment '${segments[i]}'.`);
  if (i + 1 === segments.length) return route('attachments.*', { GET: listAttachments, POST: addAttachment }, parts);
  if (lower[i + 1] === 'createuploadsession' && i + 2 === segments.length) {
    return route('uploadSession.*', { POST: createUploadSession }, parts);
  }
  parts.attachment = segments[i + 1];
  if (i + 2 === segments.length) return route('attachment.*', { GET: getAttachment, DELETE: deleteAttachment }, parts);
  if (lower[i + 2] === '$value' && i + 3 === segments.length)
    return route('attachment.*Value', { GET: attachmentValue }, parts);
  throw badRequest(`Resource not found for the segment '${segments[i + 2]}'.`);
}

function verbName(method: string): string {
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'create';
    case 'PATCH':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return method.toLowerCase();
  }
}
