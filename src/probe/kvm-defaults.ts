import type { Catalog, KvmCpuDefaults, KvmDefaultsTable } from '../model/catalog.js';
import type { Props, PropValue } from '../model/common.js';
import { CatalogIndex } from '../catalog/catalog.js';
import { diffProps, isEmpty, sameProps } from '../catalog/props.js';
import { QemuStartError } from '../qmp/launcher.js';
import { mapPool } from '../util/pool.js';
import { compareVersions } from '../util/versions.js';
import { cleanCpuProps } from './catalog-probe.js';
import type { QemuStarter } from './session.js';

/**
 * What a build sets on every CPU model under KVM, probed: each model is expanded under KVM on every
 * machine type the catalog probed, and compared with its TCG expansion there (the catalog's). The
 * difference is the accelerator's (kvm_default_props, x86_cpu_change_kvm_default(), the svm
 * sub-features KVM turns off with svm, tcg_default_props undone), so it is a fact of the build and
 * is stored in the catalog. The vendor is left out: under KVM it is always the host's.
 */
export async function probeKvmDefaults(starter: QemuStarter, catalog: Catalog, opts: { concurrency?: number; progress?: (done: number, total: number, what: string) => void } = {}): Promise<Catalog> {
  const index = new CatalogIndex(catalog);
  const models = catalog.cpuModels.filter((m) => !m.hostDependent).map((m) => m.name);
  const machines = catalog.machines.filter((m) => m.probe === 'ok').map((m) => m.name);
  const deltas = new Map<string, Map<string, Props>>();
  let done = 0;
  await mapPool(machines, opts.concurrency ?? 2, async (machine) => {
    const d = await machineKvmDeltas(starter, index, machine, models);
    if (d) deltas.set(machine, d);
    opts.progress?.(++done, machines.length, machine);
  });
  const reference = deltas.get(index.defaultMachine()?.name ?? '');
  if (!reference) return withoutKvm(catalog);
  const defaults = mostCommon([...reference.values()]);
  const cpuModels = catalog.cpuModels.map((m) => {
    const { kvmDelta: _old, ...rest } = m;
    const d = reference.get(m.name);
    return d && !sameProps(d, defaults) ? { ...rest, kvmDelta: d } : rest;
  });
  const machineTypes = catalog.machines.map((m) => {
    const { kvmCpuDeltas: _old, ...rest } = m;
    const own = deltas.get(m.name);
    if (!own) return rest;
    const changes: NonNullable<typeof m.kvmCpuDeltas> = {};
    for (const [model, d] of own) {
      const diff = diffProps(reference.get(model) ?? defaults, d);
      if (!isEmpty(diff)) changes[model] = diff;
    }
    return isEmpty(changes) ? rest : { ...rest, kvmCpuDeltas: changes };
  });
  const kvm: KvmCpuDefaults = {
    from: 'probe',
    source: `every CPU model expanded (query-cpu-model-expansion full) under KVM on ${deltas.size} machine types and compared with its TCG expansion; the vendor is the host's`,
    defaults,
  };
  return { ...catalog, machines: machineTypes, cpuModels, kvm };
}

/** Per model, the properties whose value under KVM differs from the catalog's TCG expansion on
 *  `machine` (vendor aside). Undefined when the machine type does not start under KVM. */
async function machineKvmDeltas(starter: QemuStarter, index: CatalogIndex, machine: string, models: string[]): Promise<Map<string, Props> | undefined> {
  let s;
  try {
    s = await starter.start(['-machine', machine, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'kvm'], `kvm-${machine}`);
  } catch (e) {
    if (e instanceof QemuStartError && !e.crashed) return undefined;
    throw e;
  }
  try {
    const out = new Map<string, Props>();
    const aliases = index.data.cpuFeatureAliases;
    for (const name of models) {
      const tcg = index.cpuOnMachine(name, machine);
      if (!tcg) continue;
      const r = await s.qmp.execute<{ model: { props: Record<string, PropValue> } }>('query-cpu-model-expansion', { type: 'full', model: { name } });
      const kvm = cleanCpuProps(r.model.props, aliases);
      const delta: Props = {};
      for (const [k, v] of Object.entries(kvm)) if (k !== 'vendor' && tcg[k] !== v) delta[k] = v;
      out.set(name, delta);
    }
    return out;
  } finally {
    await s.stop();
  }
}

/**
 * Where KVM cannot be used: the cited table's rows for this build, as what every model gets
 * (from: source). Per-model and per-machine differences (tcg_default_props undone, svm
 * sub-features, old machine types' compat properties) are then not known.
 */
export function withSourceKvmDefaults(catalog: Catalog, table: KvmDefaultsTable): Catalog {
  const v = `${catalog.qemu.major}.${catalog.qemu.minor}`;
  const rows = table.rows.filter((r) => compareVersions(v, r.from) >= 0 && compareVersions(v, r.to) <= 0);
  const base = withoutKvm(catalog);
  if (!rows.length) return base;
  const defaults = Object.fromEntries(rows.map((r) => [r.property, r.value]));
  return { ...base, kvm: { from: 'source', source: [...new Set(rows.map((r) => r.source))].join('; '), defaults } };
}

/** The catalog without KVM facts (a probe that could not run KVM). */
export function withoutKvm(catalog: Catalog): Catalog {
  const { kvm: _k, ...rest } = catalog;
  return {
    ...rest,
    cpuModels: catalog.cpuModels.map(({ kvmDelta: _d, ...m }) => m),
    machines: catalog.machines.map(({ kvmCpuDeltas: _d, ...m }) => m),
  };
}

/** The delta most models share. */
function mostCommon(ds: Props[]): Props {
  const counts = new Map<string, { n: number; d: Props }>();
  for (const d of ds) {
    const key = JSON.stringify(Object.entries(d).sort(([a], [b]) => a.localeCompare(b)));
    const c = counts.get(key) ?? { n: 0, d };
    c.n++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.d ?? {};
}
