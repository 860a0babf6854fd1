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

/** Differences between two catalogs: what was added and removed, and for every machine type
 *  both have, how the platform it gives differs. */
export function diffCatalogs(a: CatalogIndex, b: CatalogIndex): CatalogDiff {
  const namesA = new Set(a.machineNames());
  const namesB = new Set(b.machineNames());
  const common = [...namesA].filter((n) => namesB.has(n)).sort(compareMachineNames);
  const modelsA = new Set(a.cpuModelNames());
  const modelsB = new Set(b.cpuModelNames());

  const cpuModelDefinitions: SubjectChanges[] = [];
  for (const name of [...modelsA].filter((n) => modelsB.has(n)).sort()) {
    const ea = a.cpuExpansion(name);
    const eb = b.cpuExpansion(name);
    if (!ea || !eb) continue;
    const changes = compareProps(ea, eb);
    if (changes.length) cpuModelDefinitions.push({ subject: name, changes });
  }
  const definitionChange = new Map(cpuModelDefinitions.map((d) => [d.subject, new Map(d.changes.map((c) => [c.property, c]))]));

  const comparable = common.filter((n) => a.machine(n)?.probe === 'ok' && b.machine(n)?.probe === 'ok');
  // `none` has no board to compare; it is never probed.
  const machinesNotCompared = common.filter((n) => !comparable.includes(n) && n !== 'none');

  // Device differences per machine, before factoring out those common to a family.
  const rawDevices = new Map<string, SubjectChanges[]>();
  for (const m of comparable) {
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
    rawDevices.set(m, list);
  }
  const familyDevices = commonToFamilies(comparable, (m) => a.machine(m)!.family, rawDevices);
  const familyKeys = new Map(familyDevices.map((f) => [f.family, changeKeys(f.devices)]));

  const machines: MachineDiff[] = [];
  for (const m of comparable) {
    const family = a.machine(m)!.family;
    const shared = familyKeys.get(family) ?? new Set<string>();
    const devices = rawDevices
      .get(m)!
      .map((s) => ({ subject: s.subject, changes: s.changes.filter((c) => !shared.has(changeKey(s.subject, c))) }))
      .filter((s) => s.changes.length > 0);

    let cpu: SubjectChanges[] = [];
    const aliasChanges: MachineDiff['aliasChanges'] = [];
    let comparedModels = 0;
    for (const name of [...modelsA].filter((n) => modelsB.has(n)).sort()) {
      const ea = a.cpuOnMachine(name, m);
      const eb = b.cpuOnMachine(name, m);
      if (ea && eb) {
        comparedModels++;
        const own = definitionChange.get(name);
        const changes = compareProps(ea, eb).filter((c) => {
          const d = own?.get(c.property);
          return !(d && d.a === c.a && d.b === c.b);
        });
        if (changes.length) cpu.push({ subject: name, changes });
      }
      const aa = a.cpuAliasOf(name, m);
      const ab = b.cpuAliasOf(name, m);
      if (aa !== ab) aliasChanges.push({ model: name, a: aa, b: ab });
    }

    cpu = factorCommon(cpu, comparedModels);

    const deviceAvailability: MachineDiff['deviceAvailability'] = [];
    const ra = a.machine(m)!.refusedDevices ?? {};
    const rb = b.machine(m)!.refusedDevices ?? {};
    for (const key of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
      if ((key in ra) !== (key in rb)) deviceAvailability.push({ device: key, a: ra[key] ?? 'accepted', b: rb[key] ?? 'accepted' });
    }
    if (cpu.length || devices.length || deviceAvailability.length || aliasChanges.length) {
      machines.push({ machine: m, cpu, devices, deviceAvailability, aliasChanges });
    }
  }

  const depA = new Set(a.data.machines.filter((m) => m.deprecated).map((m) => m.name));
  const depB = new Set(b.data.machines.filter((m) => m.deprecated).map((m) => m.name));
  const aliasNames = new Set([...a.data.machines, ...b.data.machines].map((m) => m.alias).filter((x): x is string => !!x));
  const cpuDepA = new Set(a.data.cpuModels.filter((m) => m.deprecated).map((m) => m.name));

  return {
    a: a.id,
    b: b.id,
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
    cpuModelDefinitions,
    familyDevices,
    machines,
    machinesNotCompared,
  };
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
