import type { PropValue } from '../model/common.js';
import type { CatalogIndex } from './catalog.js';
import { compareMachineNames } from './names.js';
import { compareProps } from './props.js';

export interface PropertyChange {
  property: string;
  /** undefined: the property does not exist on that side. */
  a: PropValue | undefined;
  b: PropValue | undefined;
}

export interface SubjectChanges {
  subject: string;
  changes: PropertyChange[];
}

export interface MachineDiff {
  machine: string;
  /** CPU differences specific to this machine type (beyond the model's own definition change). */
  cpu: SubjectChanges[];
  /** Device differences beyond those common to the whole family. */
  devices: SubjectChanges[];
  /** Probe devices one build accepts on this type and the other refuses. */
  deviceAvailability: { device: string; a: string; b: string }[];
  aliasChanges: { model: string; a: string | null | undefined; b: string | null | undefined }[];
}

export interface CatalogDiff {
  a: string;
  b: string;
  machinesAdded: string[];
  machinesRemoved: string[];
  newlyDeprecated: string[];
  noLongerDeprecated: string[];
  aliasesMoved: { alias: string; a: string | undefined; b: string | undefined }[];
  defaultMachine: { a: string | undefined; b: string | undefined };
  cpuModelsAdded: string[];
  cpuModelsRemoved: string[];
  cpuModelsNewlyDeprecated: string[];
  /** Models whose definition (expansion on the current machine types) differs between builds. */
  cpuModelDefinitions: SubjectChanges[];
  /** Device differences shared by every common machine type of a family. */
  familyDevices: { family: string; devices: SubjectChanges[] }[];
  machines: MachineDiff[];
  /** Machine types present in both but not probed in one of them: their properties are unknown. */
  machinesNotCompared: string[];
}

/** CPU models whose definition (expansion on the current machine types) differs between builds. */
function modelDefinitions(a: CatalogIndex, b: CatalogIndex, models: string[]): SubjectChanges[] {
  const out: SubjectChanges[] = [];
  for (const name of models) {
    const ea = a.cpuExpansion(name);
    const eb = b.cpuExpansion(name);
    if (!ea || !eb) continue;
    const changes = compareProps(ea, eb);
    if (changes.length) out.push({ subject: name, changes });
  }
  return out;
}

/** Device differences of one machine type, before factoring out those common to its family. */
function machineDevices(a: CatalogIndex, b: CatalogIndex, m: string): SubjectChanges[] {
  const da = a.devicesOn(m)!;
  const db = b.devicesOn(m)!;
  const list: SubjectChanges[] = [];
  for (const key of [...new Set([...da.keys(), ...db.keys()])].sort()) {
    const pa = da.get(key);
    const pb = db.get(key);
    if (!pa || !pb) continue; // reported as availability
    const changes = compareProps(pa, pb);
    if (changes.length) list.push({ subject: key, changes });
  }
  return list;
}

type DefinitionChanges = Map<string, Map<string, PropertyChange>>;

/** CPU differences on one machine type beyond each model's own definition change, and moved aliases. */
function machineCpus(a: CatalogIndex, b: CatalogIndex, m: string, models: string[], own: DefinitionChanges): Pick<MachineDiff, 'cpu' | 'aliasChanges'> {
  const cpu: SubjectChanges[] = [];
  const aliasChanges: MachineDiff['aliasChanges'] = [];
  let compared = 0;
  for (const name of models) {
    const ea = a.cpuOnMachine(name, m);
    const eb = b.cpuOnMachine(name, m);
    if (ea && eb) {
      compared++;
      const d = own.get(name);
      const changes = compareProps(ea, eb).filter((c) => {
        const x = d?.get(c.property);
        return !(x && x.a === c.a && x.b === c.b);
      });
      if (changes.length) cpu.push({ subject: name, changes });
    }
    const aa = a.cpuAliasOf(name, m);
    const ab = b.cpuAliasOf(name, m);
    if (aa !== ab) aliasChanges.push({ model: name, a: aa, b: ab });
  }
  return { cpu: factorCommon(cpu, compared), aliasChanges };
}

/** Probe devices one build accepts on a machine type and the other refuses. */
function deviceAvailability(a: CatalogIndex, b: CatalogIndex, m: string): MachineDiff['deviceAvailability'] {
  const out: MachineDiff['deviceAvailability'] = [];
  const ra = a.machine(m)!.refusedDevices ?? {};
  const rb = b.machine(m)!.refusedDevices ?? {};
  for (const key of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
    if ((key in ra) !== (key in rb)) out.push({ device: key, a: ra[key] ?? 'accepted', b: rb[key] ?? 'accepted' });
  }
  return out;
}

/** Per machine type both builds probed: how the platform it gives differs. */
function machineDiffs(a: CatalogIndex, b: CatalogIndex, comparable: string[], models: string[], definitions: SubjectChanges[]) {
  const rawDevices = new Map(comparable.map((m) => [m, machineDevices(a, b, m)]));
  const familyDevices = commonToFamilies(comparable, (m) => a.machine(m)!.family, rawDevices);
  const familyKeys = new Map(familyDevices.map((f) => [f.family, changeKeys(f.devices)]));
  const own: DefinitionChanges = new Map(definitions.map((d) => [d.subject, new Map(d.changes.map((c) => [c.property, c]))]));
  const machines: MachineDiff[] = [];
  for (const m of comparable) {
    const shared = familyKeys.get(a.machine(m)!.family) ?? new Set<string>();
    const devices = rawDevices
      .get(m)!
      .map((s) => ({ subject: s.subject, changes: s.changes.filter((c) => !shared.has(changeKey(s.subject, c))) }))
      .filter((s) => s.changes.length > 0);
    const { cpu, aliasChanges } = machineCpus(a, b, m, models, own);
    const availability = deviceAvailability(a, b, m);
    if (cpu.length || devices.length || availability.length || aliasChanges.length) machines.push({ machine: m, cpu, devices, deviceAvailability: availability, aliasChanges });
  }
  return { familyDevices, machines };
}

/** What was added, removed, deprecated or moved between the two builds' lists. */
function listChanges(a: CatalogIndex, b: CatalogIndex, common: string[]) {
  const namesA = new Set(a.machineNames());
  const namesB = new Set(b.machineNames());
  const modelsA = new Set(a.cpuModelNames());
  const modelsB = new Set(b.cpuModelNames());
  const depA = new Set(a.data.machines.filter((m) => m.deprecated).map((m) => m.name));
  const depB = new Set(b.data.machines.filter((m) => m.deprecated).map((m) => m.name));
  const aliasNames = new Set([...a.data.machines, ...b.data.machines].map((m) => m.alias).filter((x): x is string => !!x));
  const cpuDepA = new Set(a.data.cpuModels.filter((m) => m.deprecated).map((m) => m.name));
  return {
    machinesAdded: [...namesB].filter((n) => !namesA.has(n)).sort(compareMachineNames),
    machinesRemoved: [...namesA].filter((n) => !namesB.has(n)).sort(compareMachineNames),
    newlyDeprecated: common.filter((n) => depB.has(n) && !depA.has(n)),
    noLongerDeprecated: common.filter((n) => depA.has(n) && !depB.has(n)),
    aliasesMoved: [...aliasNames]
      .sort()
      .map((alias) => ({ alias, a: a.resolveMachineAlias(alias), b: b.resolveMachineAlias(alias) }))
      .filter((x) => x.a !== x.b),
    defaultMachine: { a: a.defaultMachine()?.name, b: b.defaultMachine()?.name },
    cpuModelsAdded: [...modelsB].filter((n) => !modelsA.has(n)).sort(),
    cpuModelsRemoved: [...modelsA].filter((n) => !modelsB.has(n)).sort(),
    cpuModelsNewlyDeprecated: b.data.cpuModels.filter((m) => m.deprecated && modelsA.has(m.name) && !cpuDepA.has(m.name)).map((m) => m.name),
  };
}

/** Differences between two catalogs: what was added and removed, and for every machine type
 *  both have, how the platform it gives differs. */
export function diffCatalogs(a: CatalogIndex, b: CatalogIndex): CatalogDiff {
  const namesB = new Set(b.machineNames());
  const common = a.machineNames().filter((n) => namesB.has(n)).sort(compareMachineNames);
  const modelsB = new Set(b.cpuModelNames());
  const models = a.cpuModelNames().filter((n) => modelsB.has(n)).sort();
  const comparable = common.filter((n) => a.machine(n)?.probe === 'ok' && b.machine(n)?.probe === 'ok');
  // `none` has no board to compare; it is never probed.
  const machinesNotCompared = common.filter((n) => !comparable.includes(n) && n !== 'none');
  const cpuModelDefinitions = modelDefinitions(a, b, models);
  const { familyDevices, machines } = machineDiffs(a, b, comparable, models, cpuModelDefinitions);
  return { a: a.id, b: b.id, ...listChanges(a, b, common), cpuModelDefinitions, familyDevices, machines, machinesNotCompared };
}

/** Changes that every compared model shares (compat properties on the CPU base type) are
 *  listed once, under the subject "*". */
function factorCommon(perModel: SubjectChanges[], compared: number): SubjectChanges[] {
  if (compared < 2 || perModel.length < compared) return perModel;
  const key = (c: PropertyChange) => `${c.property}\u0000${String(c.a)}\u0000${String(c.b)}`;
  const sets = perModel.map((s) => new Set(s.changes.map(key)));
  const common = perModel[0]!.changes.filter((c) => sets.every((set) => set.has(key(c))));
  if (!common.length) return perModel;
  const shared = new Set(common.map(key));
  const rest = perModel
    .map((s) => ({ subject: s.subject, changes: s.changes.filter((c) => !shared.has(key(c))) }))
    .filter((s) => s.changes.length > 0);
  return [{ subject: '*', changes: common }, ...rest];
}

function changeKey(subject: string, c: PropertyChange): string {
  return `${subject}\u0000${c.property}\u0000${String(c.a)}\u0000${String(c.b)}`;
}

function changeKeys(list: SubjectChanges[]): Set<string> {
  return new Set(list.flatMap((s) => s.changes.map((c) => changeKey(s.subject, c))));
}

/** Device changes that every compared machine type of a family shares (a default that changed
 *  between builds for all of them), so that each machine lists only what is its own. */
function commonToFamilies(
  machines: string[],
  familyOf: (m: string) => string,
  perMachine: Map<string, SubjectChanges[]>,
): { family: string; devices: SubjectChanges[] }[] {
  const byFamily = new Map<string, string[]>();
  for (const m of machines) byFamily.set(familyOf(m), [...(byFamily.get(familyOf(m)) ?? []), m]);
  const out: { family: string; devices: SubjectChanges[] }[] = [];
  for (const [family, list] of [...byFamily].sort(([x], [y]) => x.localeCompare(y))) {
    if (list.length < 2) continue;
    const sets = list.map((m) => changeKeys(perMachine.get(m)!));
    const first = perMachine.get(list[0]!)!;
    const devices = first
      .map((s) => ({ subject: s.subject, changes: s.changes.filter((c) => sets.every((set) => set.has(changeKey(s.subject, c)))) }))
      .filter((s) => s.changes.length > 0);
    if (devices.length) out.push({ family, devices });
  }
  return out;
}
