import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { GraphHttpError, type GraphCall, type GraphReply } from './http-types';
import type { GraphContext } from './graph-context';
import type { GraphDoubleUser } from './mailbox-state';
import { listParam, parseOrBadRequest } from './message-view';
import { matchesFilter } from './odata-filter';
import { page } from './paging';

const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

export function listUsers(ctx: GraphContext, call: GraphCall): GraphReply {
  const wantsCount = call.query.get('$count') === 'true';
  const eventual = (call.headers['consistencylevel'] ?? '').toLowerCase() === 'eventual';
  if (wantsCount && !eventual) {
    throw new GraphHttpError(
      400,
      'Request_BadRequest',
      '$count is only supported with the ConsistencyLevel:eventual header.',
    );
  }
  const filterText = call.query.get('$filter');
  let users = ctx.state.allUsers().map(fullUser);
  if (filterText) {
    const filter = parseOrBadRequest(filterText);
    users = users.filter((u) => matchesFilter(filter, u));
  }
  const select = listParam(call.query.get('$select'));
  const paged = page(users, call.query, `${ctx.graphBaseUrl}/v1.0/users`, { defaultTop: 100, maxTop: 999 });
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users`,
      ...(wantsCount ? { '@odata.count': users.length } : {}),
      ...paged,
      value: paged.value.map((u) => project(u, select)),
    },
  };
}

export function getUser(ctx: GraphContext, call: GraphCall, key: string): GraphReply {
  const user = ctx.state.findUserByIdOrUpn(key);
  if (!user) {
    throw new GraphHttpError(
      404,
      'Request_ResourceNotFound',
      `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.graphBaseUrl}/v1.0/$metadata#users/$entity`,
      ...project(fullUser(user), listParam(call.query.get('$select'))),
    },
  };
}

function fullUser(user: GraphDoubleUser): MicrosoftGraph.User {
  return {
    id: user.id,
    businessPhones: [],
    displayName: user.displayName,
    givenName: null,
    jobTitle: null,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: user.userPrincipalName,
    accountEnabled: user.accountEnabled ?? true,
    proxyAddresses: user.proxyAddresses ?? [`SMTP:${user.mail}`],
  };
}

function project(user: MicrosoftGraph.User, select: Set<string> | undefined): Partial<MicrosoftGraph.User> {
  const keys = select ?? new Set(DEFAULT_USER_PROPERTIES.map((k) => k.toLowerCase()));
  return Object.fromEntries(Object.entries(user).filter(([k]) => keys.has(k.toLowerCase())));
}
