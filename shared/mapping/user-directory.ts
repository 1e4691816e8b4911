import type { Client } from '@microsoft/microsoft-graph-client';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { timeoutSignal, translateGraphError } from '../mailbox/graph-client';

export interface DirectoryUser { id: string; mail: string; accountEnabled: boolean }

/** Finds the Microsoft 365 user behind an email address. */
export interface UserDirectory {
  findByEmail(email: string): Promise<DirectoryUser | undefined>;
}

export class GraphUserDirectory implements UserDirectory {
  constructor(private readonly graph: Client) {}

  async findByEmail(email: string): Promise<DirectoryUser | undefined> {
    const e = email.replace(/'/g, "''");
    try {
      const res: { value: MicrosoftGraph.User[] } = await this.graph
        .api('/users')
        .header('ConsistencyLevel', 'eventual')
        .query({ $count: 'true' })
        .filter(`mail eq '${e}' or userPrincipalName eq '${e}' or proxyAddresses/any(x:x eq 'smtp:${e}')`)
        .select('id,mail,userPrincipalName,accountEnabled')
        .options({ signal: timeoutSignal() })
        .get();
      const user = res.value[0];
      if (!user?.id) return undefined;
      return { id: user.id, mail: (user.mail ?? user.userPrincipalName ?? email).toLowerCase(), accountEnabled: user.accountEnabled !== false };
    } catch (err) {
      throw translateGraphError(err, 'look up user');
    }
  }
}
