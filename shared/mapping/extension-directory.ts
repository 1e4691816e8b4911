import type { StorageAccount } from '../store/storage-account';
import { TABLES } from '../store/names';
import { tableKey } from '../store/keys';
import { isNotFound } from '../store/storage-errors';
import type { RingCentralGateway } from '../ringcentral/ringcentral-api';
import type { Participant } from '../archive/people-directory';
import { stripUndefined } from '../store/error-log';
import { mapLimited } from '../parallel';

/** Rows live beside the people cache, in their own partitions. */
const EXTENSIONS = 'rc-extension';
const META = 'rc-extension-meta';
const PAGE_SIZE = 1000;
/** The extension list is read again at most this often (one Medium request per 1,000 extensions). */
const REFRESH_MS = 60 * 60_000;
const MEMO_MS = 10 * 60_000;
const MAX_MEMO = 5_000;
const PARALLEL_WRITES = 16;

interface ExtensionRow {
  extensionNumber?: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  type?: string;
  status?: string;
}

/**
 * RingCentral extensions by id, from the account's extension list (ReadAccounts), kept in Table
 * storage so every instance maps an extension to a mailbox the same way: by its contact email,
 * then through the same overrides, fallback and fan-out limit as chat members.
 */
export class ExtensionDirectory {
  private readonly memo = new Map<string, { at: number; value: Promise<Participant> }>();

  constructor(
    private readonly account: StorageAccount,
    private readonly ringCentral: RingCentralGateway,
  ) {}

  private get table() {
    return this.account.table(TABLES.people);
  }

  /** Reads the extension list again when the stored copy is older than an hour. Throws PermissionMissingError without ReadAccounts. */
  async refreshIfStale(now = new Date()): Promise<'fresh' | 'refreshed'> {
    const meta = await this.table
      .getEntity<{ refreshedAt: string }>(META, 'list')
      .catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (meta && now.getTime() - Date.parse(meta.refreshedAt) < REFRESH_MS) return 'fresh';
    for (let page = 1; ; page++) {
      const list = await this.ringCentral.extensionPage(page, PAGE_SIZE);
      const records = (list.records ?? []).filter((e) => e.id !== undefined);
      await mapLimited(records, PARALLEL_WRITES, (e) => {
        const row: ExtensionRow = {
          extensionNumber: e.extensionNumber,
          name: e.name,
          firstName: e.contact?.firstName,
          lastName: e.contact?.lastName,
          email: e.contact?.email,
          type: e.type,
          status: e.status,
        };
        return this.table.upsertEntity(
          { partitionKey: EXTENSIONS, rowKey: tableKey(String(e.id)), ...stripUndefined(row) },
          'Replace',
        );
      });
      if (!list.navigation?.nextPage || (list.records ?? []).length < PAGE_SIZE) break;
    }
    await this.table.upsertEntity({ partitionKey: META, rowKey: 'list', refreshedAt: now.toISOString() }, 'Replace');
    this.memo.clear();
    return 'refreshed';
  }

  /** The extension as a participant (its contact email maps it to a mailbox); no person when unknown. */
  participant(extensionId: string): Promise<Participant> {
    const hit = this.memo.get(extensionId);
    if (hit && Date.now() - hit.at < MEMO_MS) return hit.value;
    const value = this.load(extensionId).catch((err) => {
      this.memo.delete(extensionId);
      throw err;
    });
    if (this.memo.size >= MAX_MEMO) this.memo.clear();
    this.memo.set(extensionId, { at: Date.now(), value });
    return value;
  }

  private async load(extensionId: string): Promise<Participant> {
    const row = await this.table
      .getEntity<ExtensionRow>(EXTENSIONS, tableKey(extensionId))
      .catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (!row) return { id: extensionId, guest: false };
    const [first, ...rest] = (row.name ?? '').split(' ');
    return {
      id: extensionId,
      guest: false,
      person: {
        id: extensionId,
        firstName: row.firstName ?? first,
        lastName: row.lastName ?? rest.join(' '),
        email: row.email,
      },
    };
  }
}
