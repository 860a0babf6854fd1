import type { Catalog, CpuModel, MachineType } from '../model/catalog.js';
import type { CatalogSource, CpuModelEntry, MachineEntry } from './catalog.js';

/** Where one machine type or CPU model sits in the body: [start, end) in bytes. */
type At = [number, number];

/**
 * The prebuilt index of a shipped catalog (written at build time into dist/ by
 * tools/build-catalog-index.ts; data/catalog/*.json stays the source of truth). Parsing a whole
 * 1-2 MB catalog costs more than answering a check, so the index keeps the small top-level fields
 * and one entry per machine type and CPU model, each pointing at its own JSON in a body file.
 */
export interface PrebuiltCatalog {
  /** Every top-level field; machines and cpuModels are empty (they keep their place in key order). */
  head: Catalog;
  machines: (MachineEntry & { at: At })[];
  cpuModels: (CpuModelEntry & { at: At })[];
}

/** JSON in ASCII only (\u escapes), so that character offsets are byte offsets. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The index of `data` and the body its entries point into. */
export function buildPrebuilt(data: Catalog): { index: PrebuiltCatalog; body: string } {
  const parts: string[] = [];
  let offset = 0;
  const put = (value: unknown): At => {
    const text = asciiJson(value);
    parts.push(text, '\n');
    const at: At = [offset, offset + text.length];
    offset += text.length + 1;
    return at;
  };
  const machines = data.machines.map((m) => ({ ...machineEntry(m), at: put(m) }));
  const cpuModels = data.cpuModels.map((c) => ({ name: c.name, base: c.base, version: c.version, at: put(c) }));
  return { index: { head: { ...data, machines: [], cpuModels: [] }, machines, cpuModels }, body: parts.join('') };
}

function machineEntry(m: MachineType): MachineEntry {
  return m.alias === undefined ? { name: m.name, family: m.family, isDefault: m.isDefault } : { name: m.name, alias: m.alias, family: m.family, isDefault: m.isDefault };
}

/** A CatalogSource over a prebuilt index; `read` gives the body's text between two byte offsets. */
export function prebuiltSource(index: PrebuiltCatalog, read: (start: number, end: number) => string): CatalogSource {
  const machines = new Map(index.machines.map((m) => [m.name, m.at]));
  const models = new Map(index.cpuModels.map((c) => [c.name, c.at]));
  const parse = <T>(at: At): T => JSON.parse(read(at[0], at[1])) as T;
  return {
    head: index.head,
    machines: index.machines,
    cpuModels: index.cpuModels,
    machine: (name) => parse<MachineType>(machines.get(name)!),
    cpuModel: (name) => parse<CpuModel>(models.get(name)!),
  };
}
