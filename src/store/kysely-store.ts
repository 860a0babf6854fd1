import { sql, type Kysely } from 'kysely';
import { UserError } from '../util/errors.js';
import { chunks } from './chunks.js';
import { getGuest, getGuests, guestClasses, guestFromHistory, guestRow, listGuests } from './guests.js';
import { getHosts, hostFromHistory, hostRows, listHosts } from './hosts.js';
import { schemaVersionOf } from './migrations.js';
import { putGuests } from './put-guests.js';
import type {
  BatchOptions,
  GuestClass,
  GuestInput,
  GuestPut,
  GuestRecord,
  GuestSummary,
  HistoryEntry,
  HostDetail,
  HostInput,
  HostRecord,
  HostSummary,
  Store,
  StoreDialect,
  StoreStats,
  WriteOptions,
  WriteResult,
} from './store.js';
import { GUEST_TABLES, HOST_TABLES, type Database } from './tables.js';
import { deleteVersioned, historyOf, pastRow, putVersioned } from './versioned.js';

/** The Store on a Kysely instance (SQLite or PostgreSQL, already migrated). */
export class KyselyStore implements Store {
  constructor(
    readonly kysely: Kysely<Database>,
    readonly db: StoreDialect,
  ) {}

  putHost(name: string, host: HostInput, opts: WriteOptions): Promise<WriteResult> {
    const { current, history } = hostRows(host);
    return putVersioned(this.kysely, HOST_TABLES, name, current, history, opts);
  }
  async getHost(name: string): Promise<HostDetail | undefined> {
    return (await getHosts(this.kysely, [name]))[0];
  }
  getHostsByNames(names: readonly string[]): Promise<HostDetail[]> {
    return getHosts(this.kysely, names);
  }
  listHosts(): Promise<HostSummary[]> {
    return listHosts(this.kysely);
  }
  deleteHost(name: string, opts: WriteOptions): Promise<{ version: number }> {
    return deleteVersioned(this.kysely, HOST_TABLES, name, opts);
  }
  hostHistory(name: string): Promise<HistoryEntry[]> {
    return historyOf(this.kysely, HOST_TABLES, name);
  }
  async hostAt(name: string, version: number): Promise<HostRecord | undefined> {
    const row = await pastRow(this.kysely, HOST_TABLES, name, { version });
    return row && hostFromHistory(row);
  }

  async currentVersions(table: 'hosts' | 'guests', names: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const part of chunks([...new Set(names)])) {
      const rows = await this.kysely.selectFrom(table).select(['name', 'version']).where('name', 'in', part).execute();
      for (const r of rows) out.set(r.name, Number(r.version));
    }
    return out;
  }

  putGuest(name: string, guest: GuestInput, opts: WriteOptions): Promise<WriteResult> {
    const row = guestRow(guest);
    return putVersioned(this.kysely, GUEST_TABLES, name, { ...row }, { ...row }, opts);
  }
  putGuests(items: readonly GuestPut[], opts: BatchOptions): Promise<WriteResult[]> {
    return putGuests(this.kysely, items, opts);
  }
  getGuest(name: string): Promise<GuestRecord | undefined> {
    return getGuest(this.kysely, name);
  }
  getGuestsByNames(names: readonly string[]): Promise<GuestRecord[]> {
    return getGuests(this.kysely, names);
  }
  listGuests(): Promise<GuestSummary[]> {
    return listGuests(this.kysely);
  }
  deleteGuest(name: string, opts: WriteOptions): Promise<{ version: number }> {
    return deleteVersioned(this.kysely, GUEST_TABLES, name, opts);
  }
  guestHistory(name: string): Promise<HistoryEntry[]> {
    return historyOf(this.kysely, GUEST_TABLES, name);
  }
  async guestAt(name: string, version: number): Promise<GuestRecord | undefined> {
    const row = await pastRow(this.kysely, GUEST_TABLES, name, { version });
    return row && guestFromHistory(row);
  }
  async guestAsOf(name: string, isoTime: string): Promise<GuestRecord | undefined> {
    const row = await pastRow(this.kysely, GUEST_TABLES, name, { at: isoInstant(isoTime) });
    return row && guestFromHistory(row);
  }
  guestClasses(opts: { members?: boolean } = {}): Promise<GuestClass[]> {
    return guestClasses(this.kysely, this.db, opts.members ?? false);
  }

  async stats(): Promise<StoreStats> {
    const k = this.kysely;
    const count = async (table: keyof Database) => Number((await k.selectFrom(table).select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
    const classes = await k
      .selectFrom((eb) => eb.selectFrom('guests').select(['abi_class', 'host']).groupBy(['abi_class', 'host']).as('c'))
      .select(sql<string>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    return {
      db: this.db,
      schemaVersion: await schemaVersionOf(k),
      hosts: await count('hosts'),
      guests: await count('guests'),
      hostVersions: await count('host_versions'),
      guestVersions: await count('guest_versions'),
      guestClasses: Number(classes.n),
    };
  }

  close(): Promise<void> {
    return this.kysely.destroy();
  }
}

/** An ISO 8601 time (any offset) as the UTC text the history stores, or a UserError naming it. */
export function isoInstant(text: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new UserError(`'${text}' is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)`, 'asOf');
  return new Date(ms).toISOString();
}
