import type { Props } from '../model/common.js';
import type { Catalog, CpuModel, MachineType } from '../model/catalog.js';
import { applyDelta } from './props.js';
import { compareMachineNames } from './names.js';

/** What the index knows of a machine type before reading it whole: enough to find it by name or
 *  alias, find the default type and list a family. */
export interface MachineEntry {
  name: string;
  alias?: string;
  family: string;
  isDefault: boolean;
}

/** What the index knows of a CPU model before reading it whole: enough to list its versions. */
export interface CpuModelEntry {
  name: string;
  base: string;
  version: number | null;
}

/**
 * Where a CatalogIndex reads its catalog from: a whole Catalog in memory, or parts read on first
 * use (a shipped catalog's prebuilt index, src/catalog/prebuilt.ts), so that a command asking for
 * one machine type parses that type, its family baseline and the CPU models it names, not 2 MB.
 */
export interface CatalogSource {
  /** Every top-level field of the catalog; machines and cpuModels may be left empty. */
  head: Catalog;
  /** In catalog order. */
  machines: readonly MachineEntry[];
  /** In catalog order. */
  cpuModels: readonly CpuModelEntry[];
  machine(name: string): MachineType;
  cpuModel(name: string): CpuModel;
}

/** A Catalog already in memory as a CatalogSource. */
export function wholeCatalog(data: Catalog): CatalogSource {
  const machines = new Map(data.machines.map((m) => [m.name, m]));
  const models = new Map(data.cpuModels.map((c) => [c.name, c]));
  return { head: data, machines: data.machines, cpuModels: data.cpuModels, machine: (n) => machines.get(n)!, cpuModel: (n) => models.get(n)! };
}

/**
 * A loaded, read-only Catalog with its indexes: machine types by name and alias, CPU models
 * with every version resolved to its full expansion, and per machine type the effective CPU
 * and device properties (family baseline plus the type's delta). Everything is computed on first
 * use and kept: a command that asks for one machine type expands only that one.
 */
export class CatalogIndex {
  private readonly source: CatalogSource;
  private whole: Catalog | undefined;
  private readonly entries = new Map<string, MachineEntry>();
  private readonly machines = new Map<string, MachineType>();
  private readonly aliases = new Map<string, string>();
  private readonly modelEntries = new Map<string, CpuModelEntry>();
  private readonly models = new Map<string, CpuModel>();
  private readonly expansions = new Map<string, Props>();
  private readonly effectiveCpu = new Map<string, Props | null>();
  private readonly effectiveDevices = new Map<string, Map<string, Props>>();
  private readonly versionsByBase = new Map<string, CpuModel[]>();
  private readonly families = new Map<string, MachineType[]>();
  private features: ReadonlySet<string> | undefined;

  constructor(data: Catalog, source?: CatalogSource) {
    this.source = source ?? wholeCatalog(data);
    if (!source) this.whole = data;
    for (const m of this.source.machines) {
      this.entries.set(m.name, m);
      if (m.alias) this.aliases.set(m.alias, m.name);
    }
    for (const c of this.source.cpuModels) this.modelEntries.set(c.name, c);
  }

  /** An index that reads its catalog's machine types and CPU models from `source` when first used. */
  static fromSource(source: CatalogSource): CatalogIndex {
    return new CatalogIndex(source.head, source);
  }

  /** The whole catalog. From a prebuilt index, the top-level fields cost nothing and `machines`
   *  and `cpuModels` read every machine type and CPU model when first touched. */
  get data(): Catalog {
    if (!this.whole) {
      const whole = { ...this.source.head };
      settleOnFirstRead(whole, 'machines', () => this.source.machines.map((m) => this.machine(m.name)!));
      settleOnFirstRead(whole, 'cpuModels', () => this.source.cpuModels.map((c) => this.cpuModel(c.name)!));
      this.whole = whole;
    }
    return this.whole;
  }

  get id(): string {
    return this.source.head.id;
  }

  get arch(): Catalog['arch'] {
    return this.source.head.arch;
  }

  get qemu(): Catalog['qemu'] {
    return this.source.head.qemu;
  }

  /** "7.2.22" */
  get version(): string {
    const q = this.source.head.qemu;
    return `${q.major}.${q.minor}.${q.micro}`;
  }

  machineNames(): string[] {
    return [...this.entries.keys()];
  }

  /** A machine type by its versioned name or its alias (pc, q35). */
  machine(nameOrAlias: string): MachineType | undefined {
    const name = this.entries.has(nameOrAlias) ? nameOrAlias : this.aliases.get(nameOrAlias);
    if (name === undefined) return undefined;
    let m = this.machines.get(name);
    if (!m) {
      m = this.source.machine(name);
      this.machines.set(name, m);
    }
    return m;
  }

  /** The versioned type an alias stands for in this build, or the name itself if versioned. */
  resolveMachineAlias(nameOrAlias: string): string | undefined {
    return this.entries.has(nameOrAlias) ? nameOrAlias : this.aliases.get(nameOrAlias);
  }

  defaultMachine(): MachineType | undefined {
    const e = this.source.machines.find((m) => m.isDefault);
    return e && this.machine(e.name);
  }

  /** The CPU properties that are CPUID feature bits. */
  cpuFeatures(): ReadonlySet<string> {
    this.features ??= new Set(this.source.head.cpuFeatures);
    return this.features;
  }

  cpuModel(name: string): CpuModel | undefined {
    if (!this.modelEntries.has(name)) return undefined;
    let c = this.models.get(name);
    if (!c) {
      c = this.source.cpuModel(name);
      this.models.set(name, c);
    }
    return c;
  }

  cpuModelNames(): string[] {
    return [...this.modelEntries.keys()];
  }

  /** All versions of one base model, lowest first. */
  cpuVersions(base: string): CpuModel[] {
    let v = this.versionsByBase.get(base);
    if (!v) {
      v = this.source.cpuModels
        .filter((m) => m.base === base && m.version !== null)
        .map((m) => this.cpuModel(m.name)!)
        .sort((a, b) => a.version! - b.version!);
      this.versionsByBase.set(base, v);
    }
    return v;
  }

  /** The expansion of a model on the current machine types (no compat properties). */
  cpuExpansion(name: string): Props | undefined {
    return expandCpuModel(name, (n) => this.cpuModel(n), this.expansions, 0);
  }

  /** What a bare name stands for on `machine`: a versioned model, or null when the type uses the
   *  legacy (unversioned) definitions; undefined for names that are not aliases. */
  cpuAliasOf(name: string, machine: string): string | null | undefined {
    const m = this.versionedMachine(machine);
    const model = this.cpuModel(name);
    if (!model?.aliasOf) return m?.cpuAliasOf?.[name] ?? undefined;
    if (m?.legacyCpuModels) return null;
    const override = m?.cpuAliasOf?.[name];
    return override === undefined ? model.aliasOf : override;
  }

  /** The CPU model `name` as an instance on `machine` gets it: the model's expansion with the
   *  machine type's compat properties applied. Undefined when either is unknown or unprobed. */
  cpuOnMachine(name: string, machine: string): Props | undefined {
    const key = `${machine}\u0000${name}`;
    const cached = this.effectiveCpu.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const m = this.versionedMachine(machine);
    const base = this.cpuExpansion(name);
    let result: Props | null = null;
    if (m && m.probe === 'ok' && base) {
      result = applyDelta(applyDelta(base, m.cpuDelta), m.cpuModelDeltas?.[name]);
    }
    this.effectiveCpu.set(key, result);
    return result ?? undefined;
  }

  /** How this build's KVM records what it sets on every model: probed, from the cited source, or
   *  not at all (undefined). */
  kvmDefaultsFrom(): { from: 'probe' | 'source'; source: string } | undefined {
    const k = this.source.head.kvm;
    return k && { from: k.from, source: k.source };
  }

  /** What KVM sets on model `name` on `machine` beyond its TCG expansion (the vendor aside: the
   *  host's). Undefined when the catalog does not record it. */
  kvmCpuDelta(name: string, machine: string): Props | undefined {
    const k = this.source.head.kvm;
    if (!k) return undefined;
    const model = this.cpuModel(name);
    const base = model?.kvmDelta ?? k.defaults;
    return applyDelta(base, this.versionedMachine(machine)?.kvmCpuDeltas?.[name]);
  }

  /** Every probed device of `machine` with its effective properties (family baseline + delta). */
  devicesOn(machine: string): Map<string, Props> | undefined {
    const cached = this.effectiveDevices.get(machine);
    if (cached) return cached;
    const m = this.versionedMachine(machine);
    if (!m || m.probe !== 'ok') return undefined;
    const baselineName = this.source.head.families[m.family]?.baseline;
    const baseline = baselineName ? this.versionedMachine(baselineName) : undefined;
    const out = new Map<string, Props>();
    const baseDevices = baseline?.devices ?? {};
    for (const [key, props] of Object.entries(baseDevices)) {
      const delta = m.deviceDeltas?.[key];
      if (delta === null) continue;
      out.set(key, applyDelta(props, delta));
    }
    for (const [key, delta] of Object.entries(m.deviceDeltas ?? {})) {
      if (delta !== null && !(key in baseDevices)) out.set(key, applyDelta({}, delta));
    }
    this.effectiveDevices.set(machine, out);
    return out;
  }

  deviceOn(machine: string, key: string): Props | undefined {
    return this.devicesOn(machine)?.get(key);
  }

  /** Machine types of one family, oldest first. */
  family(family: string): MachineType[] {
    let f = this.families.get(family);
    if (!f) {
      f = this.source.machines
        .filter((m) => m.family === family)
        .map((m) => this.machine(m.name)!)
        .sort((a, b) => compareMachineNames(a.name, b.name));
      this.families.set(family, f);
    }
    return f;
  }

  /** A machine type by its versioned name only (aliases are not looked up). */
  private versionedMachine(name: string): MachineType | undefined {
    return this.entries.has(name) ? this.machine(name) : undefined;
  }
}

/** `obj[key]` computed when first read, then an ordinary property (in its place in key order). */
function settleOnFirstRead<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    return value;
  };
  Object.defineProperty(obj, key, { enumerable: true, configurable: true, get: () => settle(compute()), set: settle });
}

/** One model's full expansion: a version is stored as a delta on the one before it, an alias as
 *  the name of its target; both are resolved here, and every expansion found is kept in `done`. */
function expandCpuModel(name: string, model: (name: string) => CpuModel | undefined, done: Map<string, Props>, depth: number): Props | undefined {
  const hit = done.get(name);
  if (hit) return hit;
  const m = model(name);
  if (!m || depth > 64) return undefined;
  let props: Props | undefined;
  if (m.props) props = m.props;
  else if (m.deltaFrom) {
    const prev = expandCpuModel(m.deltaFrom, model, done, depth + 1);
    props = prev ? applyDelta(prev, m.delta) : undefined;
  } else if (m.aliasOf) props = expandCpuModel(m.aliasOf, model, done, depth + 1);
  if (props) done.set(name, props);
  return props;
}

/** Every model's full expansion (see expandCpuModel). */
export function resolveCpuExpansions(models: CpuModel[]): Map<string, Props> {
  const byName = new Map(models.map((m) => [m.name, m]));
  const out = new Map<string, Props>();
  for (const m of models) expandCpuModel(m.name, (n) => byName.get(n), out, 0);
  return out;
}
