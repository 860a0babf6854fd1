/** The tables as Kysely sees them. JSON columns are text, so that a document reads back byte-equal. */

export interface HostsTable {
  name: string;
  version: number;
  updated_at: string;
  source: string;
  kind: string;
  profile: string;
  arch: string;
  qemu: string;
  catalog: string;
  accel: string;
  cpu: string;
  kernel: string;
}

/** Append-only. A deletion is a row with deleted = 1 and no profile. */
export interface HostVersionsTable {
  name: string;
  version: number;
  at: string;
  source: string;
  deleted: number;
  profile: string | null;
}

export interface GuestContent {
  host: string | null;
  format: string;
  definition: string;
  spec: string;
  pinned: string | null;
  pin_error: string | null;
  abi_class: string;
  os: string | null;
  machine: string;
  cpu: string;
  pinned_machine: string | null;
  pinned_cpu: string | null;
  flags: string;
}

export interface GuestsTable extends GuestContent {
  name: string;
  version: number;
  updated_at: string;
  source: string;
}

type Nullable<T> = { [K in keyof T]: T[K] | null };

/** Append-only, the same content as guests; a deletion has deleted = 1 and null content. */
export interface GuestVersionsTable extends Nullable<GuestContent> {
  name: string;
  version: number;
  at: string;
  source: string;
  deleted: number;
}

export interface SchemaVersionTable {
  id: number;
  version: number;
  updated_at: string;
}

export interface Database {
  hosts: HostsTable;
  host_versions: HostVersionsTable;
  guests: GuestsTable;
  guest_versions: GuestVersionsTable;
  schema_version: SchemaVersionTable;
}

/** The current table and history table of one kind of resource. */
export interface TablePair {
  kind: 'host' | 'guest';
  current: 'hosts' | 'guests';
  history: 'host_versions' | 'guest_versions';
}
export const HOST_TABLES: TablePair = { kind: 'host', current: 'hosts', history: 'host_versions' };
export const GUEST_TABLES: TablePair = { kind: 'guest', current: 'guests', history: 'guest_versions' };
