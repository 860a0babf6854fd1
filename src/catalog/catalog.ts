import type { Props } from '../model/common.js';
import type { Catalog, CpuModel, MachineType } from '../model/catalog.js';
import { applyDelta } from './props.js';
import { compareMachineNames } from './names.js';

/**
 * A loaded, read-only Catalog with its indexes: machine types by name and alias, CPU models
 * with every version resolved to its full expansion, and per machine type the effective CPU
 * and device properties (family baseline plus the type's delta), computed on first use and kept.
 */
export class CatalogIndex {
  readonly data: Catalog;
  private readonly machines = new Map<string, MachineType>();
  private readonly aliases = new Map<string, string>();
  private readonly models = new Map<string, CpuModel>();
  private readonly expansions: Map<string, Props>;
  private readonly effectiveCpu = new Map<string, Props | null>();
  private readonly effectiveDevices = new Map<string, Map<string, Props>>();
  private readonly versionsByBase = new Map<string, CpuModel[]>();
  private readonly families = new Map<string, MachineType[]>();
  private features: ReadonlySet<string> | undefined;

  constructor(data: Catalog) {
    this.data = data;
    for (const m of data.machines) {
      this.machines.set(m.name, m);
      if (m.alias) this.aliases.set(m.alias, m.name);
    }
    for (const c of data.cpuModels) this.models.set(c.name, c);
    this.expansions = resolveCpuExpansions(data.cpuModels);
  }

  get id(): string {
    return this.data.id;
  }

  /** "7.2.22" */
  get version(): string {
    const q = this.data.qemu;
    return `${q.major}.${q.minor}.${q.micro}`;
  }

  machineNames(): string[] {
    return [...this.machines.keys()];
  }

  /** A machine type by its versioned name or its alias (pc, q35). */
  machine(nameOrAlias: string): MachineType | undefined {
    return this.machines.get(nameOrAlias) ?? this.machines.get(this.aliases.get(nameOrAlias) ?? '');
  }

  /** The versioned type an alias stands for in this build, or the name itself if versioned. */
  resolveMachineAlias(nameOrAlias: string): string | undefined {
    return this.machines.has(nameOrAlias) ? nameOrAlias : this.aliases.get(nameOrAlias);
  }

  defaultMachine(): MachineType | undefined {
    return this.data.machines.find((m) => m.isDefault);
  }

  /** The CPU properties that are CPUID feature bits. */
  cpuFeatures(): ReadonlySet<string> {
    this.features ??= new Set(this.data.cpuFeatures);
    return this.features;
  }

  cpuModel(name: string): CpuModel | undefined {
    return this.models.get(name);
  }

  cpuModelNames(): string[] {
    return [...this.models.keys()];
  }

  /** All versions of one base model, lowest first. */
  cpuVersions(base: string): CpuModel[] {
    let v = this.versionsByBase.get(base);
    if (!v) {
      v = this.data.cpuModels.filter((m) => m.base === base && m.version !== null).sort((a, b) => a.version! - b.version!);
      this.versionsByBase.set(base, v);
    }
    return v;
  }

  /** The expansion of a model on the current machine types (no compat properties). */
  cpuExpansion(name: string): Props | undefined {
    return this.expansions.get(name);
  }

  /** What a bare name stands for on `machine`: a versioned model, or null when the type uses the
   *  legacy (unversioned) definitions; undefined for names that are not aliases. */
  cpuAliasOf(name: string, machine: string): string | null | undefined {
    const m = this.machines.get(machine);
    const model = this.models.get(name);
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
    const m = this.machines.get(machine);
    const base = this.expansions.get(name);
    let result: Props | null = null;
    if (m && m.probe === 'ok' && base) {
      result = applyDelta(applyDelta(base, m.cpuDelta), m.cpuModelDeltas?.[name]);
    }
    this.effectiveCpu.set(key, result);
    return result ?? undefined;
  }

  /** Every probed device of `machine` with its effective properties (family baseline + delta). */
  devicesOn(machine: string): Map<string, Props> | undefined {
    const cached = this.effectiveDevices.get(machine);
    if (cached) return cached;
    const m = this.machines.get(machine);
    if (!m || m.probe !== 'ok') return undefined;
    const baselineName = this.data.families[m.family]?.baseline;
    const baseline = baselineName ? this.machines.get(baselineName) : undefined;
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
      f = this.data.machines.filter((m) => m.family === family).sort((a, b) => compareMachineNames(a.name, b.name));
      this.families.set(family, f);
    }
    return f;
  }
}

/** Every model's full expansion: a version is stored as a delta on the one before it, an alias
 *  as the name of its target; both are resolved here. */
export function resolveCpuExpansions(models: CpuModel[]): Map<string, Props> {
  const byName = new Map(models.map((m) => [m.name, m]));
  const out = new Map<string, Props>();
  const resolve = (name: string, depth: number): Props | undefined => {
    const done = out.get(name);
    if (done) return done;
    const m = byName.get(name);
    if (!m || depth > 64) return undefined;
    let props: Props | undefined;
    if (m.props) props = m.props;
    else if (m.deltaFrom) {
      const prev = resolve(m.deltaFrom, depth + 1);
      props = prev ? applyDelta(prev, m.delta) : undefined;
    } else if (m.aliasOf) props = resolve(m.aliasOf, depth + 1);
    if (props) out.set(name, props);
    return props;
  };
  for (const m of models) resolve(m.name, 0);
  return out;
}
