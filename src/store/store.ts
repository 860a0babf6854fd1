import type { GuestSpec } from '../model/guest.js';
import type { HostProfile } from '../model/host.js';
import type { PinnedAbi } from '../model/pinned.js';
import type { Reason } from '../model/reason.js';

export type StoreDialect = 'sqlite' | 'postgres';

/** If-Match: the version a write is based on, or '*' for whatever is stored (or nothing). */
export type IfMatch = number | '*';

export interface WriteOptions {
  /** Who or what wrote it (api:TOKEN-NAME, cli, import...). Kept in the history. */
  source: string;
  /** Required to replace or delete an existing row; a number must be the current version. */
  ifMatch?: IfMatch;
  /** The time recorded for the write (tests); the clock otherwise. */
  now?: Date;
}

export interface WriteResult {
  version: number;
  /** True when the write created the row (HTTP 201). */
  created: boolean;
}

/** What every stored row carries. updatedAt is an ISO 8601 UTC time. */
export interface Versioned {
  name: string;
  version: number;
  updatedAt: string;
  source: string;
}

/** One entry of a resource's history; a deletion is an entry of its own. */
export interface HistoryEntry {
  version: number;
  at: string;
  source: string;
  deleted: boolean;
}

/** The columns a host list shows, computed by the caller from the profile (see hostFacts). */
export interface HostFacts {
  arch: string;
  /** e.g. "7.2.22" */
  qemu: string;
  /** catalog id */
  catalog: string;
  accel: string;
  /** CPU model name */
  cpu: string;
  /** kernel release */
  kernel: string;
  /** Short host-kind id, equal for hosts that resolve alike. */
  kind: string;
}

export interface HostInput extends HostFacts {
  profile: HostProfile;
}

export interface HostSummary extends Versioned, HostFacts {}

/** One version of a host: the current one (getHost) or a past one (hostAt). */
export interface HostRecord extends Versioned {
  profile: HostProfile;
}

export interface HostDetail extends HostSummary, HostRecord {}

export type GuestFormat = 'libvirt' | 'argv' | 'spec';

export interface PinError {
  message: string;
  reasons: Reason[];
}

/** The columns a guest list shows: no definition, spec or pinned ABI. */
export interface GuestFacts {
  host: string | null;
  format: GuestFormat;
  /** Machine type as written. */
  machine: string;
  /** CPU as written (EPYC, host-passthrough...). */
  cpu: string;
  pinnedMachine: string | null;
  pinnedCpu: string | null;
  /** Short id of the pinned ABI; guests with equal ABIs share it. */
  abiClass: string;
  os: string | null;
  flags: string[];
}

export interface GuestInput extends GuestFacts {
  /** The text as given (libvirt XML, a command line, JSON/YAML). */
  definition: string;
  spec: GuestSpec;
  pinned: PinnedAbi | null;
  pinError: PinError | null;
}

export interface GuestSummary extends Versioned, GuestFacts {}

export interface GuestRecord extends GuestSummary, GuestInput {}

export interface GuestPut {
  name: string;
  guest: GuestInput;
  ifMatch?: IfMatch;
}

export interface BatchOptions {
  source: string;
  now?: Date;
}

/** Guests with one pinned ABI on one host: one column of the fleet matrix. */
export interface GuestClass {
  abiClass: string;
  host: string | null;
  count: number;
  /** The first member by name. */
  sample: string;
  /** Every member, sorted; only when asked for ({members: true}). */
  members?: string[];
}

export interface StoreStats {
  db: StoreDialect;
  schemaVersion: number;
  hosts: number;
  guests: number;
  hostVersions: number;
  guestVersions: number;
  guestClasses: number;
}

/**
 * Hosts and guests with their versions and history, on SQLite or PostgreSQL. Every write is one
 * transaction and resolves after it commits; reads return undefined for what does not exist.
 */
export interface Store {
  readonly db: StoreDialect;

  putHost(name: string, host: HostInput, opts: WriteOptions): Promise<WriteResult>;
  getHost(name: string): Promise<HostDetail | undefined>;
  getHostsByNames(names: readonly string[]): Promise<HostDetail[]>;
  listHosts(): Promise<HostSummary[]>;
  deleteHost(name: string, opts: WriteOptions): Promise<{ version: number }>;
  hostHistory(name: string): Promise<HistoryEntry[]>;
  hostAt(name: string, version: number): Promise<HostRecord | undefined>;

  putGuest(name: string, guest: GuestInput, opts: WriteOptions): Promise<WriteResult>;
  /** Many guests in one transaction: all are written, or none (the first failure is thrown). */
  putGuests(items: readonly GuestPut[], opts: BatchOptions): Promise<WriteResult[]>;
  getGuest(name: string): Promise<GuestRecord | undefined>;
  getGuestsByNames(names: readonly string[]): Promise<GuestRecord[]>;
  listGuests(): Promise<GuestSummary[]>;
  deleteGuest(name: string, opts: WriteOptions): Promise<{ version: number }>;
  guestHistory(name: string): Promise<HistoryEntry[]>;
  guestAt(name: string, version: number): Promise<GuestRecord | undefined>;
  /** The guest as it was at that time (ISO 8601); undefined when it did not exist or was deleted. */
  guestAsOf(name: string, isoTime: string): Promise<GuestRecord | undefined>;
  guestClasses(opts?: { members?: boolean }): Promise<GuestClass[]>;

  /** The current version of each of these names that exists: a cheap freshness check for caches. */
  currentVersions(table: 'hosts' | 'guests', names: readonly string[]): Promise<Map<string, number>>;

  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
