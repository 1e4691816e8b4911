import type { Client } from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { timeoutSignal, translateGraphError } from '../mailbox/graph-client';
import { isPlausibleEmail } from '../email-address';

export interface DirectoryUser {
  id: string;
  mail: string;
  accountEnabled: boolean;
}

/** Finds the Microsoft 365 user behind an email address. */
export interface UserDirectory {
  findByEmail(email: string): Promise<DirectoryUser | undefined>;
}

export class GraphUserDirectory implements UserDirectory {
  constructor(private readonly graph: Client) {}

  async findByEmail(email: string): Promise<DirectoryUser | undefined> {
    const address = email.trim().toLowerCase();
    if (!isPlausibleEmail(address)) return undefined;
    // OData doubles quotes inside string literals. The v3 client puts $filter into the URL as is,
    // so the filter is percent-encoded here: otherwise & # + % in an address would change the query.
    const e = address.replace(/'/g, "''");
    const filter = `mail eq '${e}' or userPrincipalName eq '${e}' or proxyAddresses/any(x:x eq 'smtp:${e}')`;
    try {
      const res: { value: MicrosoftGraph.User[] } = await this.graph
        .api('/users')
        .header('ConsistencyLevel', 'eventual')
        .query({ $count: 'true' })
        .filter(encodeURIComponent(filter))
        .select('id,mail,userPrincipalName,accountEnabled')
        .options({ signal: timeoutSignal() })
        .get();
      const user = res.value[0];
      if (!user?.id) return undefined;
      return {
        id: user.id,
        mail: (user.mail ?? user.userPrincipalName ?? address).toLowerCase(),
        accountEnabled: user.accountEnabled !== false,
      };
    } catch (err) {
      throw translateGraphError(err, 'look up user');
    }
  }
}
