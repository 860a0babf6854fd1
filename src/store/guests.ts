import { sql, type Kysely, type Selectable } from 'kysely';
import type { GuestSpec } from '../model/guest.js';
import type { PinnedAbi } from '../model/pinned.js';
import { chunks, inOrder } from './chunks.js';
import type { GuestClass, GuestFormat, GuestInput, GuestRecord, GuestSummary, PinError, StoreDialect } from './store.js';
import type { Database, GuestContent, GuestsTable } from './tables.js';
import type { Row } from './versioned.js';

/** The content columns of guests (and guest_versions, the same) for one write. */
export function guestRow(g: GuestInput): GuestContent {
  return {
    host: g.host,
    format: g.format,
    definition: g.definition,
    spec: JSON.stringify(g.spec),
    pinned: g.pinned === null ? null : JSON.stringify(g.pinned),
    pin_error: g.pinError === null ? null : JSON.stringify(g.pinError),
    abi_class: g.abiClass,
    os: g.os,
    machine: g.machine,
    cpu: g.cpu,
    pinned_machine: g.pinnedMachine,
    pinned_cpu: g.pinnedCpu,
    flags: JSON.stringify(g.flags),
  };
}

const SUMMARY = ['name', 'version', 'updated_at', 'source', 'host', 'format', 'machine', 'cpu', 'pinned_machine', 'pinned_cpu', 'abi_class', 'os', 'flags'] as const;
type SummaryRow = Pick<Selectable<GuestsTable>, (typeof SUMMARY)[number]>;

function toSummary(r: SummaryRow): GuestSummary {
  return {
    name: r.name,
    version: Number(r.version),
    updatedAt: r.updated_at,
    source: r.source,
    host: r.host,
    format: r.format as GuestFormat,
    machine: r.machine,
    cpu: r.cpu,
    pinnedMachine: r.pinned_machine,
    pinnedCpu: r.pinned_cpu,
    abiClass: r.abi_class,
    os: r.os,
    flags: JSON.parse(r.flags) as string[],
  };
}

function toRecord(r: Selectable<GuestsTable>): GuestRecord {
  return {
    ...toSummary(r),
    definition: r.definition,
    spec: JSON.parse(r.spec) as GuestSpec,
    pinned: r.pinned === null ? null : (JSON.parse(r.pinned) as PinnedAbi),
    pinError: r.pin_error === null ? null : (JSON.parse(r.pin_error) as PinError),
  };
}

/** A past version from guest_versions (not a deletion, so every content column is set). */
export function guestFromHistory(r: Row): GuestRecord {
  const h = r as unknown as Selectable<GuestsTable> & { at: string };
  return toRecord({ ...h, updated_at: h.at });
}

export async function getGuest(db: Kysely<Database>, name: string): Promise<GuestRecord | undefined> {
  const r = await db.selectFrom('guests').selectAll().where('name', '=', name).executeTakeFirst();
  return r && toRecord(r);
}

/** The guests of those names that exist, in the order asked. */
export async function getGuests(db: Kysely<Database>, names: readonly string[]): Promise<GuestRecord[]> {
  const found = new Map<string, GuestRecord>();
  for (const part of chunks([...new Set(names)])) {
    const rows = await db.selectFrom('guests').selectAll().where('name', 'in', part).execute();
    for (const r of rows) found.set(r.name, toRecord(r));
  }
  return inOrder(names, found);
}

export async function listGuests(db: Kysely<Database>): Promise<GuestSummary[]> {
  const rows = await db.selectFrom('guests').select(SUMMARY).orderBy('name').execute();
  return rows.map(toSummary);
}

/** Guests grouped by (abi_class, host) in SQL: no spec is read. Ordered by sample name. */
export async function guestClasses(db: Kysely<Database>, dialect: StoreDialect, members: boolean): Promise<GuestClass[]> {
  const agg = dialect === 'postgres' ? sql<unknown>`json_agg(name)` : sql<unknown>`json_group_array(name)`;
  const rows = await db
    .selectFrom('guests')
    .select(['abi_class', 'host'])
    .select((eb) => [eb.fn.countAll<number | string>().as('count'), eb.fn.min('name').as('sample')])
    .$if(members, (q) => q.select(agg.as('members')))
    .groupBy(['abi_class', 'host'])
    .orderBy('sample')
    .execute();
  return rows.map((r) => {
    const c: GuestClass = { abiClass: r.abi_class, host: r.host, count: Number(r.count), sample: r.sample };
    if (members) c.members = memberList((r as { members?: unknown }).members);
    return c;
  });
}

/** json_agg arrives parsed (PostgreSQL json), json_group_array as text (SQLite). */
function memberList(v: unknown): string[] {
  const list = (typeof v === 'string' ? JSON.parse(v) : v) as string[];
  return list.sort();
}
