import type { Kysely, Selectable } from 'kysely';
import type { HostProfile } from '../model/host.js';
import { chunks, inOrder } from './chunks.js';
import type { HostDetail, HostFacts, HostInput, HostRecord, HostSummary } from './store.js';
import type { Database, HostsTable, HostVersionsTable } from './tables.js';
import type { Row } from './versioned.js';

/** The list columns of a host that come straight from its profile (kind is the caller's). */
export function hostFacts(p: HostProfile): Omit<HostFacts, 'kind'> {
  const v = p.qemu.version;
  return { arch: p.arch, qemu: `${v.major}.${v.minor}.${v.micro}`, catalog: p.qemu.catalog, accel: p.accel, cpu: p.cpu.modelName, kernel: p.kernel.release };
}

/** The content columns of hosts and of host_versions for one write. */
export function hostRows(h: HostInput): { current: Row; history: Row } {
  const profile = JSON.stringify(h.profile);
  return {
    current: { kind: h.kind, profile, arch: h.arch, qemu: h.qemu, catalog: h.catalog, accel: h.accel, cpu: h.cpu, kernel: h.kernel },
    history: { profile },
  };
}

const SUMMARY = ['name', 'version', 'updated_at', 'source', 'kind', 'arch', 'qemu', 'catalog', 'accel', 'cpu', 'kernel'] as const;
type SummaryRow = Pick<Selectable<HostsTable>, (typeof SUMMARY)[number]>;

function toSummary(r: SummaryRow): HostSummary {
  return { name: r.name, version: Number(r.version), updatedAt: r.updated_at, source: r.source, arch: r.arch, qemu: r.qemu, catalog: r.catalog, accel: r.accel, cpu: r.cpu, kernel: r.kernel, kind: r.kind };
}

function toDetail(r: Selectable<HostsTable>): HostDetail {
  return { ...toSummary(r), profile: JSON.parse(r.profile) as HostProfile };
}

export async function listHosts(db: Kysely<Database>): Promise<HostSummary[]> {
  const rows = await db.selectFrom('hosts').select(SUMMARY).orderBy('name').execute();
  return rows.map(toSummary);
}

/** The hosts of those names that exist, in the order asked. */
export async function getHosts(db: Kysely<Database>, names: readonly string[]): Promise<HostDetail[]> {
  const found = new Map<string, HostDetail>();
  for (const part of chunks([...new Set(names)])) {
    const rows = await db.selectFrom('hosts').selectAll().where('name', 'in', part).execute();
    for (const r of rows) found.set(r.name, toDetail(r));
  }
  return inOrder(names, found);
}

/** A past version from host_versions (not a deletion). */
export function hostFromHistory(r: Row): HostRecord {
  const h = r as unknown as Selectable<HostVersionsTable>;
  return { name: h.name, version: Number(h.version), updatedAt: h.at, source: h.source, profile: JSON.parse(h.profile ?? 'null') as HostProfile };
}
