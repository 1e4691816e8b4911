import type { Participant } from '../../shared/archive/people-directory';
import { isPlausibleEmail } from '../../shared/email-address';
import type { DirectoryUser, UserDirectory } from '../../shared/mapping/user-directory';

/** A directory port stub that records every address it is asked about and rejects implausible ones. */
export class StubDirectory implements UserDirectory {
  readonly asked: string[] = [];
  failNext = 0;

  constructor(private readonly users: Record<string, DirectoryUser>) {}

  async findByEmail(email: string): Promise<DirectoryUser | undefined> {
    this.asked.push(email);
    if (!isPlausibleEmail(email))
      throw new Error(`implausible address reached the directory: ${JSON.stringify(email)}`);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('directory unavailable');
    }
    return this.users[email.toLowerCase()];
  }

  count(email: string): number {
    return this.asked.filter((e) => e === email).length;
  }
}

export const member = (id: string, email?: string): Participant => ({
  id,
  guest: false,
  person: { id, email, firstName: id },
});
export const guest = (id: string, email: string): Participant => ({ id, guest: true, person: { id, email } });
export const user = (id: string, mail: string, accountEnabled = true): DirectoryUser => ({ id, mail, accountEnabled });
