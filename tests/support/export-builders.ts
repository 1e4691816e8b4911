import type { ExportChat, ExportPerson } from '../../shared/ringcentral/export-records';

/**
 * A person builder for one test organisation: everyone shares `lastName`, is dated `time`, and
 * has `<first name>@<last name>.example` unless an address is given.
 */
export function peopleOf(
  lastName: string,
  time: string,
): (id: string, firstName: string, email?: string) => ExportPerson {
  return (id, firstName, email = `${firstName.toLowerCase()}@${lastName.toLowerCase()}.example`) => ({
    id,
    firstName,
    lastName,
    email,
    creationTime: time,
    lastModifiedTime: time,
  });
}

/** A chat builder for one test organisation: every chat is active, in `accountId`, dated `time`. */
export function chatsOf(
  accountId: string,
  time: string,
): (
  id: string,
  type: ExportChat['Type'],
  name: string | undefined,
  memberIds: string[],
  guestIds?: string[],
) => ExportChat {
  return (id, Type, name, memberIds, guestIds = []) => ({
    id,
    Type,
    name,
    memberIds,
    guestIds,
    creationTime: time,
    lastModifiedTime: time,
    accountId,
    status: 'Active',
  });
}
