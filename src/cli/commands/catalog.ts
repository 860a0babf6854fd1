import { basename, join } from 'node:path';
import type { CatalogIndex } from '../../catalog/catalog.js';
import { diffCatalogs, type CatalogDiff, type PropertyChange, type SubjectChanges } from '../../catalog/diff.js';
import { catalogFileName, findCatalog, SHIPPED_CATALOG_DIR, shippedCatalogFiles, shippedCatalogs, writeCatalogFile } from '../../io/catalog-files.js';
import { kvmDefaultsTable } from '../../io/rules-files.js';
import { kvmUnusable } from '../../lab/preflight.js';
import { Catalog } from '../../model/catalog.js';
import { validate } from '../../model/validate.js';
import { regenerateCatalog } from '../../probe/regen.js';
import { cachedBuilds, findQemuBuild, QEMU_ARCHES, type QemuArch } from '../../qmp/build.js';
import { liveStarter } from '../../probe/session.js';
import { HelpRequested, UserError } from '../../util/errors.js';
import { checkOutputFolder, parseJsonOrYaml, readUserFile } from '../../util/files.js';
import { toolVersion } from '../../util/tool.js';
import { compareVersions } from '../../util/versions.js';
import { oneOf, parseCommandArgs, requireOne } from '../args.js';
import { fmtValue, print, printJson, progressReporter, table, wrapList } from '../output.js';

const USAGE = `guestabi catalog list [--json]
       guestabi catalog show VERSION [--arch ARCH] [--machines | --cpus | --machine NAME | --cpu NAME] [--json]
       guestabi catalog diff A B [--arch ARCH] [--machine NAME] [--all] [--json]
       guestabi catalog regen [--qemu VERSION ...] [--arch x86_64|ppc64|aarch64|all] [--out DIR] [--update]`;

export async function catalogCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
      return listCommand(rest);
    case 'show':
      return showCommand(rest);
    case 'diff':
      return diffCommand(rest);
    case 'regen':
      return regenCommand(rest);
    default:
      if (sub === '--help' || sub === '-h' || sub === 'help') throw new HelpRequested(USAGE);
      throw new UserError(`${sub ? `unknown catalog command '${sub}'` : 'which catalog command?'}\nusage: ${USAGE}`);
  }
}

function summaryOf(c: CatalogIndex) {
  const machines = c.data.machines;
  const aliases = machines.filter((m) => m.alias).map((m) => `${m.alias} = ${m.name}`);
  return {
    id: c.id,
    qemu: c.version,
    package: c.data.qemu.package,
    machineTypes: machines.length,
    deprecatedMachineTypes: machines.filter((m) => m.deprecated).length,
    defaultMachine: c.defaultMachine()?.name,
    aliases,
    cpuModels: c.data.cpuModels.length,
    versionedCpuModels: c.data.cpuModels.filter((m) => m.version !== null).length,
    deviceTypes: c.data.deviceTypes.length,
  };
}

function listCommand(argv: string[]): number {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, USAGE);
  const all = shippedCatalogs(undefined, 'all');
  if (values.json) {
    printJson(all.map(summaryOf));
    return 0;
  }
  print(`Shipped catalogs (${SHIPPED_CATALOG_DIR}):`);
  print(
    table(
      all.map((c) => {
        const s = summaryOf(c);
        return [s.id, s.package, `${s.machineTypes} (${s.deprecatedMachineTypes} deprecated)`, `${s.cpuModels} (${s.versionedCpuModels} versioned)`, String(s.deviceTypes), s.aliases.join(', ')];
      }),
      ['catalog', 'package', 'machine types', 'CPU models', 'devices', 'aliases'],
    ),
  );
  return 0;
}

function showCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(
    argv,
    { arch: { type: 'string' }, machines: { type: 'boolean' }, cpus: { type: 'boolean' }, machine: { type: 'string' }, cpu: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const c = findCatalog(requireOne(positionals, 'catalog (a QEMU version such as 7.2, or a file)', USAGE), [], catalogArch(values.arch));
  if (values.machine) return showMachine(c, values.machine, values.json === true);
  if (values.cpu) return showCpu(c, values.cpu, values.json === true);
  if (values.json) {
    if (values.machines) printJson(c.data.machines.map(({ devices: _d, deviceDeltas: _dd, cpuModelDeltas: _c, ...m }) => m));
    else if (values.cpus) printJson(c.data.cpuModels.map(({ props: _p, delta: _d, ...m }) => m));
    else printJson(summaryOf(c));
    return 0;
  }
  const s = summaryOf(c);
  if (!values.machines && !values.cpus) {
    print(`${s.id}: QEMU ${s.qemu} (${s.package}), ${c.arch}`);
    print(`  machine types  ${s.machineTypes}, ${s.deprecatedMachineTypes} deprecated; default ${s.defaultMachine}; ${s.aliases.join(', ')}`);
    print(`  CPU models     ${s.cpuModels} names, ${s.versionedCpuModels} versioned`);
    print(`  device types   ${s.deviceTypes}`);
    print(`  probed         under ${c.data.probe.accel} by ${c.data.probe.tool}; devices on every machine type: ${c.data.probe.devices.map((d) => d.key).join(', ')}`);
    print(`More: --machines, --cpus, --machine NAME, --cpu NAME`);
    return 0;
  }
  if (values.machines) {
    print(
      table(
        c.data.machines.map((m) => [
          m.name,
          m.alias ?? '',
          m.isDefault ? 'default' : '',
          m.deprecated ? 'deprecated' : '',
          m.defaultCpuType ?? '',
          m.legacyCpuModels ? 'legacy' : m.cpuAliasOf ? 'own' : 'v1',
          m.probe + (m.refusedDevices ? ` (${Object.keys(m.refusedDevices).length} devices refused)` : ''),
        ]),
        ['machine type', 'alias', '', '', 'default CPU', 'bare CPU names', 'probe'],
      ),
    );
  }
  if (values.cpus) {
    const rows = c.data.cpuModels.map((m) => [m.name, m.aliasOf ?? '', m.version === null ? '' : `v${m.version}`, m.deprecated ? 'deprecated' : '', m.migrationSafe ? 'migration-safe' : '', m.hostDependent ? 'host-dependent' : '']);
    print(table(rows, ['CPU model', 'alias of', 'version', '', '', '']));
  }
  return 0;
}

function showMachine(c: CatalogIndex, name: string, json: boolean): number {
  const m = c.machine(name);
  if (!m) throw new UserError(`no machine type '${name}' in ${c.id}`, '--machine');
  const devices = c.devicesOn(m.name);
  if (json) {
    printJson({ machine: { ...m, devices: undefined, deviceDeltas: undefined }, effectiveDevices: devices ? Object.fromEntries(devices) : null });
    return 0;
  }
  print(`${m.name} in ${c.id}${m.alias ? ` (alias ${m.alias})` : ''}${m.isDefault ? ', default' : ''}${m.deprecated ? ', DEPRECATED' : ''}`);
  print(`  family ${m.family}, baseline ${c.data.families[m.family]?.baseline ?? '-'}; max CPUs ${m.cpuMax}; default CPU ${m.defaultCpuType ?? '-'}; probe ${m.probe}`);
  if (m.probeError) print(`  probe note: ${m.probeError}`);
  if (m.legacyCpuModels) print('  bare CPU model names are the legacy, unversioned definitions on this type');
  if (m.cpuAliasOf) print(`  bare CPU names resolve: ${Object.entries(m.cpuAliasOf).map(([k, v]) => `${k}->${v ?? 'legacy'}`).join(' ')}`);
  if (m.cpuDelta) print(`  every CPU model: ${Object.entries(m.cpuDelta).map(([k, v]) => `${k}=${fmtValue(v)}`).join(' ')}`);
  for (const [model, d] of Object.entries(m.cpuModelDeltas ?? {})) print(`  CPU ${model}: ${Object.entries(d).map(([k, v]) => `${k}=${fmtValue(v)}`).join(' ')}`);
  for (const [dev, reason] of Object.entries(m.refusedDevices ?? {})) print(`  refused ${dev}: ${reason}`);
  if (devices) {
    print(`  devices (${devices.size}); differences from ${c.data.families[m.family]?.baseline}:`);
    for (const [key, d] of Object.entries(m.deviceDeltas ?? {})) {
      print(`    ${key}: ${d === null ? 'absent' : Object.entries(d).map(([k, v]) => `${k}=${fmtValue(v)}`).join(' ')}`);
    }
  }
  for (const cp of m.compatProps ?? []) print(`  compat ${cp.qomType}.${cp.property}=${cp.value}`);
  return 0;
}

function showCpu(c: CatalogIndex, name: string, json: boolean): number {
  const model = c.cpuModel(name);
  if (!model) throw new UserError(`no CPU model '${name}' in ${c.id}`, '--cpu');
  const props = c.cpuExpansion(name);
  if (json) {
    printJson({ model: { ...model, props: undefined, delta: undefined }, expansion: props ?? null });
    return 0;
  }
  print(`${model.name} in ${c.id}${model.aliasOf ? ` (alias of ${model.aliasOf} on current machine types)` : ''}${model.deprecated ? ', DEPRECATED' : ''}`);
  if (!props) {
    print('  no expansion: depends on the host and accelerator');
    return 0;
  }
  print(`  ${props['model-id']} — vendor ${props.vendor}, family ${props.family}, model ${props.model}, stepping ${props.stepping}, level ${props.level}, xlevel 0x${Number(props.xlevel).toString(16)}`);
  if (model.deltaFrom) print(`  defined as ${model.deltaFrom} plus: ${Object.entries(model.delta ?? {}).map(([k, v]) => `${k}=${fmtValue(v)}`).join(' ')}`);
  const on = Object.entries(props)
    .filter(([, v]) => v === true)
    .map(([k]) => k)
    .sort();
  print(`  ${on.length} properties on:`);
  print(wrapList(on, '    '));
  const versions = c.cpuVersions(model.base);
  if (versions.length > 1) print(`  versions of ${model.base}: ${versions.map((v) => v.name).join(', ')}`);
  return 0;
}

function diffCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, { arch: { type: 'string' }, machine: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  if (positionals.length !== 2) throw new UserError(`expected two catalogs to compare\nusage: ${USAGE}`);
  const a = findCatalog(positionals[0]!, [], catalogArch(values.arch));
  const b = findCatalog(positionals[1]!, [], catalogArch(values.arch));
  let d = diffCatalogs(a, b);
  if (values.machine) {
    const only = machineInBoth(a, b, values.machine);
    if (typeof only !== 'string') {
      // One build lacks the type: that is the answer, not an empty list of differences.
      if (values.json) printJson({ ...d, machines: [], machineLackedBy: only.lackedBy.id });
      else print(`${values.machine} is only in ${only.in.id}; ${only.lackedBy.id} lacks it, so there is nothing to compare`);
      return 0;
    }
    d = { ...d, machines: d.machines.filter((m) => m.machine === only) };
  }
  if (values.json) printJson(d);
  else printDiff(d, { showAdded: values.all === true, only: values.machine });
  return 0;
}

/** The machine type `name` names in both catalogs, or which catalog lacks it. An alias that means a
 *  different type in each (q35) is refused: the diff is per versioned type. */
function machineInBoth(a: CatalogIndex, b: CatalogIndex, name: string): string | { in: CatalogIndex; lackedBy: CatalogIndex } {
  const ma = a.machine(name)?.name;
  const mb = b.machine(name)?.name;
  if (!ma && !mb) throw new UserError(`no machine type '${name}' in either catalog`, '--machine');
  if (!ma) return { in: b, lackedBy: a };
  if (!mb) return { in: a, lackedBy: b };
  if (ma !== mb) throw new UserError(`'${name}' is an alias: ${ma} in ${a.id}, ${mb} in ${b.id}; give a versioned machine type`, '--machine');
  return ma;
}

function describeChanges(changes: PropertyChange[], showAdded: boolean, verA: string, verB: string): string[] {
  const changed = changes.filter((c) => c.a !== undefined && c.b !== undefined);
  const added = changes.filter((c) => c.a === undefined);
  const removed = changes.filter((c) => c.b === undefined);
  const out = changed.map((c) => `${c.property}: ${fmtValue(c.a)} -> ${fmtValue(c.b)}`);
  if (added.length) {
    out.push(showAdded ? `only in ${verB}: ${added.map((c) => `${c.property}=${fmtValue(c.b)}`).join(' ')}` : `${added.length} properties only in ${verB}`);
  }
  if (removed.length) {
    out.push(showAdded ? `only in ${verA}: ${removed.map((c) => `${c.property}=${fmtValue(c.a)}`).join(' ')}` : `${removed.length} properties only in ${verA}`);
  }
  return out;
}

function hasValueChange(s: SubjectChanges): boolean {
  return s.changes.some((c) => c.a !== undefined && c.b !== undefined);
}

/** Human form of a catalog diff. Values that differ are listed; properties that exist in one
 *  build only are counted (all of them with --all). */
export function printDiff(d: CatalogDiff, opts: { showAdded: boolean; only?: string }): void {
  const va = d.a.replace(/^qemu-|-(x86_64|ppc64|aarch64|s390x)$/g, '');
  const vb = d.b.replace(/^qemu-|-(x86_64|ppc64|aarch64|s390x)$/g, '');
  print(`Catalog diff ${d.a} -> ${d.b}`);
  if (!opts.only) {
    const list = (title: string, items: string[]) => {
      if (!items.length) return;
      print(`${title} (${items.length}):`);
      print(wrapList(items));
    };
    if (d.defaultMachine.a !== d.defaultMachine.b) print(`Default machine type: ${d.defaultMachine.a} -> ${d.defaultMachine.b}`);
    for (const al of d.aliasesMoved) print(`Alias ${al.alias}: ${al.a ?? '(none)'} -> ${al.b ?? '(none)'}`);
    list('Machine types added', d.machinesAdded);
    list('Machine types removed', d.machinesRemoved);
    list('Machine types newly deprecated', d.newlyDeprecated);
    list('CPU models added', d.cpuModelsAdded);
    list('CPU models removed', d.cpuModelsRemoved);
    list('CPU models newly deprecated', d.cpuModelsNewlyDeprecated);
    const defs = d.cpuModelDefinitions.filter((s) => opts.showAdded || hasValueChange(s));
    if (defs.length) {
      print(`CPU model definitions that differ (${defs.length}${opts.showAdded ? '' : `; ${d.cpuModelDefinitions.length - defs.length} more differ only by properties one build lacks, see --all`}):`);
      for (const s of defs) print(`  ${s.subject}: ${describeChanges(s.changes, opts.showAdded, va, vb).join('; ')}`);
    }
    for (const f of d.familyDevices) {
      const devs = f.devices.filter((s) => opts.showAdded || hasValueChange(s));
      if (!devs.length) continue;
      print(`On every common ${f.family} machine type:`);
      for (const s of devs) print(`  ${s.subject}: ${describeChanges(s.changes, opts.showAdded, va, vb).join('; ')}`);
    }
    if (d.machinesNotCompared.length) print(`Not compared (not probed in one build): ${d.machinesNotCompared.join(', ')}`);
  }
  const shown = d.machines.filter(
    (m) => opts.showAdded || m.cpu.some(hasValueChange) || m.devices.some(hasValueChange) || m.deviceAvailability.length || m.aliasChanges.length,
  );
  const quietMachines = d.machines.length - shown.length;
  print(
    `Machine types present in both whose platform differs (${shown.length}${quietMachines ? `; ${quietMachines} more differ only by properties one build lacks, see --all` : ''}):`,
  );
  for (const m of shown) {
    print(`  ${m.machine}`);
    for (const s of m.cpu) {
      if (!opts.showAdded && !hasValueChange(s)) continue;
      print(`    CPU ${s.subject === '*' ? '(every model)' : s.subject}: ${describeChanges(s.changes, opts.showAdded, va, vb).join('; ')}`);
    }
    const quiet = m.cpu.filter((s) => !hasValueChange(s)).length;
    if (quiet && !opts.showAdded) print(`    CPU: ${quiet} more differ only by properties one build lacks (--all)`);
    for (const s of m.devices) {
      if (!opts.showAdded && !hasValueChange(s)) continue;
      print(`    ${s.subject}: ${describeChanges(s.changes, opts.showAdded, va, vb).join('; ')}`);
    }
    for (const x of m.deviceAvailability) print(`    ${x.device}: ${va} ${x.a}; ${vb} ${x.b}`);
    for (const x of m.aliasChanges) print(`    -cpu ${x.model} means ${x.a ?? 'the legacy definition'} in ${va}, ${x.b ?? 'the legacy definition'} in ${vb}`);
  }
}

/** Probe every fetched build (or those named) and write the shipped catalogs; with --update,
 *  re-probe only the facts asked one question each (feature leaves, option refusals, what KVM
 *  sets on every model) into the catalogs already there. */
async function regenCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { qemu: { type: 'string', multiple: true }, arch: { type: 'string' }, out: { type: 'string' }, update: { type: 'boolean' } }, USAGE);
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  const labels = values.qemu?.length ? values.qemu : ['5.2', '7.2', '10.0'];
  const arches = regenArches(values.arch);
  for (const arch of arches) {
    const available = cachedBuilds(arch);
    const missing = labels.filter((l) => !available.has(l));
    if (missing.length) throw new UserError(`QEMU ${missing.join(', ')} for ${arch} not fetched: run scripts/fetch-qemu.sh --arch ${arch} ${missing.join(' ')}`, '--qemu');
  }
  const out = values.out ?? SHIPPED_CATALOG_DIR;
  if (values.out !== undefined) checkOutputFolder(values.out, '--out');
  const noKvm = kvmUnusable();
  const written: string[] = [];
  for (const arch of arches) {
    for (const label of [...labels].sort(compareVersions)) {
      const build = findQemuBuild(label, arch);
      const started = Date.now();
      const progress = progressReporter(`QEMU ${label} ${arch}`);
      const base = values.update ? existingCatalog(out, label, arch) : undefined;
      const catalog = await regenerateCatalog({ starter: liveStarter(build), toolVersion: toolVersion(), arch, base, noKvm, table: kvmDefaultsTable(), progress });
      if (noKvm && arch === 'x86_64') print(`QEMU ${label}: KVM is not usable here (${noKvm}): what KVM sets on every CPU model is taken from data/rules/kvm-defaults.yaml`);
      const file = join(out, catalogFileName(catalog));
      writeCatalogFile(file, catalog);
      written.push(file);
      print(`${catalog.id}: ${catalog.machines.length} machine types, ${catalog.cpuModels.length} CPU models in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${file}`);
    }
  }
  const stale = shippedCatalogFiles(out).filter((f) => !written.includes(f));
  if (stale.length) print(`Other catalogs left as they were: ${stale.join(', ')}`);
  return 0;
}

/** The architecture whose catalogs a version names (x86_64 unless --arch). */
function catalogArch(arch: string | undefined): QemuArch {
  return oneOf(arch, QEMU_ARCHES, '--arch') ?? 'x86_64';
}

function regenArches(arch: string | undefined): QemuArch[] {
  if (arch === undefined) return ['x86_64'];
  if (arch === 'all') return [...QEMU_ARCHES];
  if (!(QEMU_ARCHES as readonly string[]).includes(arch)) throw new UserError(`unknown architecture '${arch}' (known: ${QEMU_ARCHES.join(', ')}, all)`, '--arch');
  return [arch as QemuArch];
}

/** The catalog of build `label` already in `dir`, whole. */
function existingCatalog(dir: string, label: string, arch: QemuArch): Catalog {
  const file = shippedCatalogFiles(dir).find((f) => basename(f).startsWith(`qemu-${label}.`) && basename(f).endsWith(`-${arch}.json`));
  if (!file) throw new UserError(`no catalog of QEMU ${label} in ${dir} to update: run catalog regen without --update`, '--update');
  // The file itself, not a prebuilt index of it that may be older.
  return validate(Catalog, parseJsonOrYaml(readUserFile(file, 'catalog'), file), file);
}
