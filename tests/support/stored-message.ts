import type { StoredMessage } from '../../dev/doubles/graph/mailbox-state';

/** A header of a message as the Graph double stored it, by case-insensitive name. */
export function header(m: StoredMessage, name: string): string | undefined {
  return m.internetMessageHeaders.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? undefined;
}
