import type { CatalogIndex } from '../catalog/catalog.js';
import { parseMachineName } from '../catalog/names.js';
import type { PropValue } from '../model/common.js';
import type { MigrationRules } from '../model/verdict.js';
import { compareVersions } from '../util/versions.js';

/**
 * The pseries capabilities (-machine cap-*) as registers of the model of src/model/registers.ts:
 * each is an ordered-level register (src/registers/levels.ts), its levels and default probed from
 * the build (catalog.machineOptions, the machine type's board), and what the stream carries given
 * by QEMU's rule (migration.yaml spaprCaps: sent when set away from the default, or always from
 * the machine type that says so).
 */
export interface SpaprCapRegister {
  name: string;
  kind: 'level';
  /** The levels, lowest first ('sizes' for a page size: the level is log2 of the size). */
  levels: string[];
  /** The machine type's default in this build, as a level name. */
  default: string;
  /** When the source puts it in the migration stream. */
  sent: string;
  source: string;
}

/** The level of a capability's value: its index in QEMU's list, off/on as 0/1, a size as log2. */
export function spaprLevel(values: readonly string[], v: PropValue | undefined): number {
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'number') return Math.log2(v);
  return values.indexOf(String(v).toLowerCase());
}

/** The capability registers of one pseries machine type of one build; [] for another board. */
export function spaprCapRegisters(catalog: CatalogIndex, machine: string, rules: NonNullable<MigrationRules['spaprCaps']>): SpaprCapRegister[] {
  const type = catalog.machine(machine);
  const board = type && catalog.deviceOn(machine, 'board/machine');
  if (!type || !board) return [];
  const listed = catalog.data.machineOptions?.[type.family]?.values ?? {};
  const version = parseMachineName(machine).version;
  return Object.entries(board)
    .filter(([k]) => k.startsWith('cap-'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, v]) => {
      const since = rules.alwaysSentFrom[name];
      const always = since !== undefined && version !== null && compareVersions(version, since) >= 0;
      const levels = typeof v === 'boolean' ? ['off', 'on'] : typeof v === 'number' ? ['sizes'] : (listed[name] ?? []);
      return {
        name,
        kind: 'level' as const,
        levels,
        default: typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v),
        sent: always ? `always (${machine} is pseries-${since} or later)` : 'when set away from the default on the source',
        source: rules.source,
      };
    });
}
