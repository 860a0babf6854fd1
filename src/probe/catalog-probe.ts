import type { Props, PropsDelta, PropValue } from '../model/common.js';
import { CATALOG_SCHEMA_ID, type Catalog, type CompatProp, type CpuModel, type MachineType } from '../model/catalog.js';
import { applyDelta, diffProps, isEmpty } from '../catalog/props.js';
import { resolveCpuExpansions } from '../catalog/catalog.js';
import { compareMachineNames, parseCpuModelName, parseMachineName } from '../catalog/names.js';
import { compareVersions } from '../util/versions.js';
import { RunError, errorMessage } from '../util/errors.js';
import { QemuStartError } from '../qmp/launcher.js';
import { readQomProps } from '../qmp/qom.js';
import { guestVisibility } from '../io/rules-files.js';
import { keyOfProbeId, placeable, placementDeviceArgs, placementId, PLACEMENTS, probeDeviceArgs, probeDevicesFor, sharing, apartGroups, type ProbeDeviceSpec } from './devices.js';
import type { Arch } from '../model/common.js';
import { flattenDevice, parseQtree, walkQtree, type QtreeBus, type QtreeDevice } from './qtree.js';
import type { QemuSession, QemuStarter } from './session.js';
import { mapPool } from '../util/pool.js';

/** Arguments every probe instance gets: no default devices, no user config, paused, and TCG so
 *  that nothing about this host leaks into a catalog. */
export const PROBE_BASE_ARGS = ['-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'];

/** The machine-type families probed on the other architectures (the embedded boards can wait);
 *  every type is listed, the others marked skipped. */
const PROBED_FAMILIES: Partial<Record<Arch, string[]>> = { ppc64: ['pseries'], aarch64: ['virt'] };

/** Models whose expansion depends on the host and accelerator; they belong in HostProfiles. */
const HOST_DEPENDENT_MODELS = new Set(['host', 'max']);

export interface QmpCpuDefinition {
  name: string;
  typename?: string;
  'unavailable-features'?: string[];
  static: boolean;
  'migration-safe'?: boolean;
  deprecated?: boolean;
  'alias-of'?: string;
}

interface QmpMachineInfo {
  name: string;
  alias?: string;
  'is-default'?: boolean;
  'cpu-max': number;
  'hotpluggable-cpus': boolean;
  'default-cpu-type'?: string;
  'default-ram-id'?: string;
  deprecated?: boolean;
  'compat-props'?: { 'qom-type': string; property: string; value: string }[];
}

export interface CatalogProbeOptions {
  starter: QemuStarter;
  toolVersion: string;
  /** The system emulator's architecture (x86_64 when not given). */
  arch?: Arch;
  /** Probe only these machine types (tests); the rest are listed but marked skipped. */
  onlyMachines?: string[];
  concurrency?: number;
  progress?: (done: number, total: number, what: string) => void;
}

type Expansions = Map<string, Props>;

export async function probeCatalog(opts: CatalogProbeOptions): Promise<Catalog> {
  const { starter } = opts;
  const arch = opts.arch ?? 'x86_64';
  const devices = probeDevicesFor(arch);
  const build = await probeBuild(starter, arch);
  const commandLineOptions = parseHelpOptions(await starter.help());
  const machinesInfo = [...build.machines].sort((a, b) => compareMachineNames(a.name, b.name));
  // qemu-system-aarch64 has no default machine type: its reference is what `virt` stands for.
  const defaultMachine = machinesInfo.find((m) => m['is-default'])?.name ?? machinesInfo.find((m) => m.alias === 'pc' || m.alias === 'virt')?.name;
  if (!defaultMachine) throw new RunError('QEMU reports no default machine type');
  // ppc64 has no query-cpu-model-expansion: its models are compared by name (and PVR compat).
  const modelNames = arch === 'ppc64' ? [] : build.cpuDefinitions.map((d) => d.name).filter((n) => !HOST_DEPENDENT_MODELS.has(n));
  const probedFamily = (name: string) => arch === 'x86_64' || PROBED_FAMILIES[arch]?.includes(parseMachineName(name).family);

  const toProbe = machinesInfo
    .map((m) => m.name)
    .filter((n) => n !== 'none' && probedFamily(n) && (!opts.onlyMachines || opts.onlyMachines.includes(n) || n === defaultMachine));
  const total = toProbe.length;
  let done = 0;
  opts.progress?.(done, total, 'machine types');
  const results = new Map<string, MachineProbe>();
  // The default machine first: its expansions and aliases are the catalog-wide reference.
  const ordered = [defaultMachine, ...toProbe.filter((n) => n !== defaultMachine)];
  await mapPool(ordered, opts.concurrency ?? 2, async (name) => {
    results.set(name, await probeMachineUnderTcg(starter, name, modelNames, build.aliases, devices));
    opts.progress?.(++done, total, name);
  });

  const reference = results.get(defaultMachine)!;
  if (reference.status !== 'ok' || !reference.expansions) {
    throw new RunError(`could not probe the default machine type ${defaultMachine}: ${reference.error ?? 'unknown error'}`);
  }
  const cpuModels = buildCpuModels(build.cpuDefinitions, reference);
  const catalogExpansion = resolveCpuExpansions(cpuModels);

  const machines: MachineType[] = machinesInfo.map((info) => {
    const { family, version } = parseMachineName(info.name);
    const m: MachineType = {
      name: info.name,
      family,
      version,
      isDefault: info['is-default'] === true,
      deprecated: info.deprecated === true,
      cpuMax: info['cpu-max'],
      hotpluggableCpus: info['hotpluggable-cpus'],
      probe: 'skipped',
    };
    if (info.alias) m.alias = info.alias;
    if (info['default-cpu-type']) m.defaultCpuType = info['default-cpu-type'].replace(/-(x86_64|powerpc64|arm)-cpu$/, '');
    if (info['default-ram-id']) m.defaultRamId = info['default-ram-id'];
    if (info['compat-props']) {
      m.compatProps = info['compat-props'].map((c): CompatProp => ({ qomType: c['qom-type'], property: c.property, value: c.value }));
    }
    const r = results.get(info.name);
    if (r) {
      m.probe = r.status;
      if (r.error) m.probeError = r.error;
      if (r.refusedDevices) m.refusedDevices = r.refusedDevices;
      if (r.tcgRequires) m.tcgRequires = r.tcgRequires;
      if (r.status === 'ok') Object.assign(m, machineCpuFacts(r, cpuModels, catalogExpansion));
    }
    return m;
  });

  const families = assignDeviceBaselines(machines, results);

  return {
    schema: CATALOG_SCHEMA_ID,
    id: `qemu-${build.version.major}.${build.version.minor}.${build.version.micro}-${arch}`,
    arch,
    qemu: build.version,
    probe: {
      tool: opts.toolVersion,
      accel: 'tcg',
      devices: devices.map((d) => ({ key: d.key, type: d.type, ...(d.parent ? { parent: d.parent } : {}), ...(d.options ? { options: d.options } : {}) })),
      placements: [...PLACEMENTS],
      instanceProperties: [...guestVisibility().catalogOmits],
    },
    machines,
    families,
    cpuModels,
    cpuFeatureAliases: build.aliases,
    cpuFeatures: build.features,
    commandLineOptions,
    deviceTypes: build.deviceTypes,
    pciDeviceTypes: build.pciDeviceTypes,
  };
}

interface BuildFacts {
  version: Catalog['qemu'];
  machines: QmpMachineInfo[];
  cpuDefinitions: QmpCpuDefinition[];
  deviceTypes: string[];
  /** The device types that implement pci-device. */
  pciDeviceTypes: string[];
  /** Alternative feature spelling -> canonical name. */
  aliases: Record<string, string>;
  /** CPUID feature properties. */
  features: string[];
}

/** Facts of the build that do not depend on a machine type, read with -machine none. */
async function probeBuild(starter: QemuStarter, arch: Arch): Promise<BuildFacts> {
  const s = await starter.start(['-machine', 'none', ...PROBE_BASE_ARGS], 'build');
  try {
    const v = await s.qmp.execute<{ qemu: { major: number; minor: number; micro: number }; package: string }>('query-version');
    const version = { ...v.qemu, package: v.package.trim() };
    // query-machines can list compat properties from QEMU 9.1 on.
    const withCompat = compareVersions(`${version.major}.${version.minor}`, '9.1') >= 0;
    const machines = await s.qmp.execute<QmpMachineInfo[]>('query-machines', withCompat ? { 'compat-props': true } : undefined);
    const cpuDefinitions = await s.qmp.execute<QmpCpuDefinition[]>('query-cpu-definitions');
    const types = await s.qmp.execute<{ name: string }[]>('qom-list-types', { implements: 'device', abstract: false });
    // Which of them are PCI devices is QEMU's type hierarchy (hw/pci/pci.c registers TYPE_PCI_DEVICE, the
    // abstract parent of every PCI device), not a naming habit.
    const pciTypes = await s.qmp.execute<{ name: string }[]>('qom-list-types', { implements: 'pci-device', abstract: false });
    // CPUID feature bits are x86's; Arm and Power models are compared by their expansion or name.
    const { features, aliases } = arch === 'x86_64' ? await probeFeatureNames(s) : { features: [], aliases: {} };
    return {
      version,
      features,
      machines,
      cpuDefinitions: [...cpuDefinitions].sort((a, b) => a.name.localeCompare(b.name)),
      deviceTypes: types.map((t) => t.name).sort(),
      pciDeviceTypes: pciTypes.map((t) => t.name).sort(),
      aliases,
    };
  } finally {
    await s.stop();
  }
}

interface Expansion {
  model: { name: string; props: Record<string, PropValue> };
}

function expand(s: QemuSession, name: string, props?: Record<string, PropValue>, type: 'full' | 'static' = 'full') {
  return s.qmp.execute<Expansion>('query-cpu-model-expansion', { type, model: props ? { name, props } : { name } });
}

/**
 * Find which CPU properties are alternative spellings of a feature (sse3 = pni, sse4_1 =
 * sse4.1, ...) by asking QEMU: the canonical features are those of a static expansion; a
 * boolean property outside them that follows the features when all are turned on is an alias.
 * Which feature it stands for: the canonical name it spells with '-' for '_' and '.' (QEMU's
 * legacy spellings), else the one feature that turns on when the alias alone is turned on.
 */
export async function probeFeatureAliases(s: QemuSession): Promise<Record<string, string>> {
  return (await probeFeatureNames(s)).aliases;
}

/** The CPUID feature properties (a static expansion's booleans), and their alternative spellings. */
export async function probeFeatureNames(s: QemuSession): Promise<{ features: string[]; aliases: Record<string, string> }> {
  const canonical = (await expand(s, 'base', undefined, 'static')).model.props;
  const features = Object.keys(canonical).filter((k) => typeof canonical[k] === 'boolean');
  const plain = (await expand(s, 'base')).model.props;
  const allOn = (await expand(s, 'base', Object.fromEntries(features.map((f) => [f, true])))).model.props;
  const aliases: Record<string, string> = {};
  // QEMU keeps '_' (and '.') spellings as aliases of '-' names: accept a respelling when the two
  // properties agree both with every feature off and with every feature on.
  const respell = (k: string) => k.replace(/[_.]/g, '-');
  const dashed = new Map(Object.keys(plain).filter((k) => k === respell(k)).map((k) => [k, k]));
  for (const f of features) dashed.set(respell(f), f);
  for (const k of Object.keys(plain)) {
    const target = dashed.get(respell(k));
    if (target && target !== k && !(k in canonical) && plain[k] === plain[target] && allOn[k] === allOn[target]) aliases[k] = target;
  }
  const unexplained = Object.keys(allOn)
    .filter((k) => !(k in canonical) && !(k in aliases) && allOn[k] === true && plain[k] === false)
    .sort();
  // One property per request: QEMU applies a model's props in hash order, not as given.
  const replies = await Promise.all(unexplained.map((a) => expand(s, 'base', { [a]: true })));
  replies.forEach((r, i) => {
    const turnedOn = features.filter((f) => r.model.props[f] === true && plain[f] === false);
    if (turnedOn.length === 1) aliases[unexplained[i]!] = turnedOn[0]!;
  });
  return { features: [...features].sort(), aliases };
}

interface MachineProbe {
  status: 'ok' | 'failed';
  tcgRequires?: Record<string, string>;
  error?: string;
  refusedDevices?: Record<string, string>;
  aliasOf?: Map<string, string | undefined>;
  expansions?: Expansions;
  devices?: Map<string, Props>;
}

/** Start QEMU with as many of `devices` as it accepts: a device it refuses is left out (with
 *  QEMU's reason) and the start retried. A refusal of the machine type itself is thrown. */
async function startAccepting(
  starter: QemuStarter,
  devices: ProbeDeviceSpec[],
  argsFor: (devices: ProbeDeviceSpec[]) => string[],
  label: string,
  refused: Record<string, string>,
  idsOf: (d: ProbeDeviceSpec) => string[],
): Promise<{ session: QemuSession; accepted: ProbeDeviceSpec[] }> {
  let left = devices;
  for (;;) {
    const suffix = left.length < devices.length ? `-without-${devices.length - left.length}` : '';
    try {
      return { session: await starter.start(argsFor(left), `${label}${suffix}`), accepted: left };
    } catch (err) {
      // A refusal (QEMU exits with its reason) is a fact about this machine type; anything
      // else (a crash, a hang, a monitor that does not answer) ends the probe.
      if (!(err instanceof QemuStartError) || err.crashed) throw err;
      const message = errorMessage(err);
      const named = (id: string) => message.includes(`id=${id},`) || message.includes(`id=${id}:`);
      const culprit = left.find((d) => idsOf(d).some(named));
      if (!culprit) throw err;
      const id = idsOf(culprit).find(named)!;
      const reason = refusalReason(message, id);
      const placement = keyOfProbeId(id)!.slice(culprit.key.length);
      // No PCI bus (isapc, microvm): every probe device is PCI, so none can be added.
      const gone = /No 'PCI' bus found/.test(reason) ? left.filter((d) => !d.notPci || d.parent !== undefined) : [culprit];
      for (const d of gone) refused[`${d.key}${placement}`] = reason.replaceAll(culprit.type, d.type);
      left = left.filter((d) => !gone.includes(d));
    }
  }
}

/**
 * A machine type whose defaults TCG cannot give is probed with the -machine option QEMU names
 * ("No Transactional Memory support in TCG | Try appending -machine cap-htm=off": pseries-2.8
 * to 2.11, whose cap-htm default is on), and the option is recorded with QEMU's words.
 */
async function probeMachineUnderTcg(starter: QemuStarter, machine: string, modelNames: string[], aliases: Record<string, string>, probeSet: ProbeDeviceSpec[]): Promise<MachineProbe> {
  const first = await probeMachine(starter, machine, modelNames, aliases, probeSet);
  const hint = first.status === 'failed' ? /Try appending -machine ([\w-]+=[\w-]+)/.exec(first.error ?? '') : null;
  if (!hint) return first;
  const retried = await probeMachine(starter, `${machine},${hint[1]}`, modelNames, aliases, probeSet);
  if (retried.status !== 'ok') return first;
  const words = first.error!.replace(/^.*?qemu-system-[\w-]+: /, '');
  return { ...retried, tcgRequires: { [hint[1]!]: words } };
}

/** Start one instance of `machine` with the probe devices and read its CPU model aliases and
 *  expansions and its device tree; where its root bus is PCI Express, start a second instance
 *  with the devices in each placement class. A type that will not start even bare is failed. */
async function probeMachine(starter: QemuStarter, machine: string, modelNames: string[], aliases: Record<string, string>, probeSet: ProbeDeviceSpec[]): Promise<MachineProbe> {
  const refused: Record<string, string> = {};
  const base = ['-machine', machine, ...PROBE_BASE_ARGS];
  let started: { session: QemuSession; accepted: ProbeDeviceSpec[] };
  try {
    started = await startAccepting(starter, sharing(probeSet), (ds) => [...base, ...probeDeviceArgs(ds)], `machine-${machine}`, refused, (d) => [placementId(d.key, 'root')]);
  } catch (err) {
    if (!(err instanceof QemuStartError) || err.crashed) throw err;
    try {
      started = { session: await starter.start(base, `machine-${machine}-bare`), accepted: [] };
      for (const d of probeSet) refused[d.key] ??= `not tried: the machine type did not start with devices (${withoutPaths(errorMessage(err))})`;
    } catch (err2) {
      if (!(err2 instanceof QemuStartError) || err2.crashed) throw err2;
      return { status: 'failed', error: withoutPaths(errorMessage(err2)) };
    }
  }
  const { session } = started;
  // A device whose bus (a probe USB or SCSI controller) was refused cannot be there either.
  const acceptedKeys = new Set(started.accepted.map((d) => d.key));
  const accepted = started.accepted.filter((d) => !d.parent || acceptedKeys.has(d.parent));
  for (const d of started.accepted) if (d.parent && !acceptedKeys.has(d.parent)) refused[d.key] ??= `its bus, on ${d.parent}, is not there`;
  let devices: Map<string, Props>;
  let pcieRoot: boolean;
  let result: MachineProbe;
  try {
    const defs = await session.qmp.execute<QmpCpuDefinition[]>('query-cpu-definitions');
    const aliasOf = new Map(defs.map((d) => [d.name, d['alias-of']]));
    const replies = await Promise.all(modelNames.map((n) => expand(session, n)));
    const expansions: Expansions = new Map(replies.map((r, i) => [modelNames[i]!, cleanCpuProps(r.model.props ?? {}, aliases)]));
    const qtree = parseQtree(await session.qmp.execute<string>('human-monitor-command', { 'command-line': 'info qtree' }));
    devices = deviceMap(qtree, true);
    // The machine object's own properties (smm, acpi, pit, the chipset's optional parts, topology).
    // (Topology and memory size are the guest's, given on the command line, not the machine type's.)
    const machineProps = await readQomProps(session.qmp, '/machine', guestVisibility().machineUnseen);
    for (const k of Object.keys(machineProps)) if (k.startsWith('smp.') || k.startsWith('memory.')) delete machineProps[k];
    devices.set('board/machine', machineProps);
    pcieRoot = [...walkQtree(qtree)].some((d) => d.device.id.startsWith('probe-') && d.busType === 'PCIE');
    result = { status: 'ok', aliasOf, expansions, devices };
  } finally {
    await session.stop();
  }
  if (accepted.length) await probeApart(starter, base, machine, refused, devices, probeSet);
  // A device refused on the root bus is asked in every placement too: what QEMU refuses can depend
  // on where the device is (behind a port a virtio device is modern-only), and check needs the answer
  // for each. Lab: fuzz seed 20261214 (virtio-blk-pci-non-transitional behind a bridge, pc-q35-2.4, 5.2).
  const movable = accepted.length ? placeable(sharing(probeSet).filter((d) => !d.parent || acceptedKeys.has(d.parent))) : [];
  for (const placement of pcieRoot && movable.length ? PLACEMENTS : []) {
    let placed: { session: QemuSession; accepted: ProbeDeviceSpec[] };
    try {
      placed = await startAccepting(
        starter,
        movable,
        (ds) => [...base, ...placementDeviceArgs(ds, placement)],
        `${placement}-${machine}`,
        refused,
        (d) => [placementId(d.key, placement)],
      );
    } catch (err) {
      // The ports or bridges themselves refused (x-remote has no MSI-X): this placement is unknown here.
      if (!(err instanceof QemuStartError) || err.crashed) throw err;
      const why = `placement not probed: ${withoutPaths(errorMessage(err)).replace(/^QEMU did not start: /, '')}`;
      for (const d of movable) refused[`${d.key}@${placement}`] ??= why;
      continue;
    }
    try {
      const qtree = parseQtree(await placed.session.qmp.execute<string>('human-monitor-command', { 'command-line': 'info qtree' }));
      for (const [k, v] of deviceMap(qtree, false)) devices.set(k, v);
    } finally {
      await placed.session.stop();
    }
  }
  if (!isEmpty(refused)) result.refusedDevices = refused;
  return result;
}

/** The devices that cannot share the first instance: one instance of the machine per group, on the root bus. */
async function probeApart(starter: QemuStarter, base: string[], machine: string, refused: Record<string, string>, devices: Map<string, Props>, probeSet: ProbeDeviceSpec[]): Promise<void> {
  for (const [group, members] of apartGroups(probeSet)) {
    const started = await startAccepting(starter, members, (ds) => [...base, ...probeDeviceArgs(ds)], `apart-${group}-${machine}`, refused, (x) => [placementId(x.key, 'root')]);
    try {
      // Read even when QEMU refused the whole group (no PCI bus): each instance is read alike.
      const qtree = parseQtree(await started.session.qmp.execute<string>('human-monitor-command', { 'command-line': 'info qtree' }));
      for (const [k, v] of deviceMap(qtree, false)) devices.set(k, v);
    } finally {
      await started.session.stop();
    }
  }
}

/** Catalogs must not depend on where a build was unpacked: keep the binary's name only. */
function withoutPaths(message: string): string {
  return message.replace(/\/[^\s:]*\/(qemu-system-[\w-]+)/g, '$1');
}

/** QEMU's own words for refusing a probe device: the stderr line naming it, without the prefix. */
function refusalReason(message: string, id: string): string {
  const line = message.split(/ \| |\n/).find((l) => l.includes(`id=${id}`)) ?? message;
  const m = /-device [^:]*: (.*)$/.exec(line);
  return (m ? m[1]! : line).trim();
}

/** A CPU model expansion without what the guest cannot see and one vCPU's ids (data/rules/
 *  visibility.yaml), and without alias spellings of features. */
export function cleanCpuProps(props: Record<string, PropValue>, aliases: Record<string, string>): Props {
  const out: Props = {};
  const omit = guestVisibility().cpuExpansionOmits;
  for (const [k, v] of Object.entries(props)) {
    if (omit.has(k) || k in aliases) continue;
    out[k] = v;
  }
  return out;
}

/** Probe devices by key (`<key>@<placement>` off the root bus); with `board`, the machine's own
 *  devices as board/<type> (#n from the second of a type on). Backends merge into their proxy;
 *  the probe's own ports and bridges (ids infra-*) are left out. */
function deviceMap(root: QtreeBus, board: boolean): Map<string, Props> {
  const omit = new Set(guestVisibility().catalogOmits);
  const out = new Map<string, Props>();
  const seen = new Map<string, number>();
  const claimed = new Set<QtreeDevice>();
  for (const { device, busType, parent } of walkQtree(root)) {
    const key = keyOfProbeId(device.id);
    if (!key && parent && claimed.has(parent)) {
      claimed.add(device); // a probe device's backend (its virtio-bus device): merged into it
      continue;
    }
    if (key) {
      claimed.add(device);
      out.set(key, flattenDevice(device, busType, omit));
      continue;
    }
    if (!board || device.id.startsWith('infra-')) continue;
    const n = (seen.get(device.type) ?? 0) + 1;
    seen.set(device.type, n);
    out.set(`board/${device.type}${n > 1 ? `#${n}` : ''}`, flattenDevice(device, busType, omit));
  }
  return out;
}

/** Catalog-wide CPU models: versions stored as a delta on the version before, as QEMU defines them. */
function buildCpuModels(defs: QmpCpuDefinition[], reference: MachineProbe): CpuModel[] {
  const exp = reference.expansions!;
  const byName = new Map(defs.map((d) => [d.name, d]));
  return defs.map((d): CpuModel => {
    const { base, version } = parseCpuModelName(d.name);
    const model: CpuModel = {
      name: d.name,
      base,
      version,
      deprecated: d.deprecated === true,
      migrationSafe: d['migration-safe'] === true,
      static: d.static,
    };
    if (d.typename) model.typename = d.typename;
    // ppc64 lists an alias as a definition whose QOM type is another model's (power9 ->
    // power9_v2.0-powerpc64-cpu) rather than with alias-of.
    const typed = d.typename?.replace(/-(x86_64|powerpc64|arm)-cpu$/, '');
    const aliasOf = reference.aliasOf?.get(d.name) ?? (typed && typed !== d.name && byName.has(typed) ? typed : undefined);
    if (aliasOf) model.aliasOf = aliasOf;
    if (HOST_DEPENDENT_MODELS.has(d.name)) {
      model.hostDependent = true;
      return model;
    }
    const props = exp.get(d.name);
    if (!props) return model;
    if (aliasOf && exp.has(aliasOf) && isEmpty(diffProps(exp.get(aliasOf)!, props))) return model;
    const previous = version !== null && version > 1 ? `${base}-v${version - 1}` : undefined;
    if (previous && byName.has(previous) && exp.has(previous)) {
      model.deltaFrom = previous;
      model.delta = diffProps(exp.get(previous)!, props);
    } else {
      model.props = props;
    }
    return model;
  });
}

function machineCpuFacts(r: MachineProbe, models: CpuModel[], catalogExpansion: Map<string, Props>): Partial<MachineType> {
  const facts: Partial<MachineType> = {};
  // Aliases: only where this type differs from the catalog-wide alias-of.
  const overrides: Record<string, string | null> = {};
  let aliased = 0;
  let legacy = 0;
  for (const m of models) {
    if (!m.aliasOf) continue;
    aliased++;
    const here = r.aliasOf?.get(m.name);
    if (here === m.aliasOf) continue;
    if (here === undefined) legacy++;
    overrides[m.name] = here ?? null;
  }
  if (aliased > 0 && legacy === aliased && Object.keys(overrides).length === legacy) facts.legacyCpuModels = true;
  else if (!isEmpty(overrides)) facts.cpuAliasOf = overrides;

  // Changes common to every model, then what each model changes beyond them.
  const exp = r.expansions!;
  const names = [...exp.keys()].filter((n) => catalogExpansion.has(n));
  const common: PropsDelta = {};
  const first = names[0] ? exp.get(names[0])! : {};
  for (const [p, v] of Object.entries(first)) {
    if (!names.every((n) => exp.get(n)![p] === v)) continue;
    if (names.some((n) => catalogExpansion.get(n)![p] !== v)) common[p] = v;
  }
  if (!isEmpty(common)) facts.cpuDelta = common;
  const perModel: Record<string, PropsDelta> = {};
  for (const n of names) {
    const expected = applyDelta(catalogExpansion.get(n)!, common);
    const d = diffProps(expected, exp.get(n)!);
    if (!isEmpty(d)) perModel[n] = d;
  }
  if (!isEmpty(perModel)) facts.cpuModelDeltas = perModel;
  return facts;
}

/** Store each family's newest probed type in full and every other type as a delta on it. */
function assignDeviceBaselines(machines: MachineType[], results: Map<string, MachineProbe>): Catalog['families'] {
  const families: Catalog['families'] = {};
  const byFamily = new Map<string, MachineType[]>();
  for (const m of machines) {
    if (m.probe !== 'ok') continue;
    const list = byFamily.get(m.family) ?? [];
    list.push(m);
    byFamily.set(m.family, list);
  }
  for (const [family, list] of byFamily) {
    const baseline = list.sort((a, b) => compareMachineNames(a.name, b.name))[list.length - 1]!;
    families[family] = { baseline: baseline.name };
    const baseDevices = results.get(baseline.name)!.devices!;
    baseline.devices = Object.fromEntries([...baseDevices].sort(([a], [b]) => a.localeCompare(b)));
    for (const m of list) {
      if (m === baseline) continue;
      const devices = results.get(m.name)!.devices!;
      const deltas: Record<string, PropsDelta | null> = {};
      for (const key of new Set([...baseDevices.keys(), ...devices.keys()])) {
        const mine = devices.get(key);
        const base = baseDevices.get(key);
        if (!mine) deltas[key] = null;
        else if (!base) deltas[key] = { ...mine };
        else {
          const d = diffProps(base, mine);
          if (!isEmpty(d)) deltas[key] = d;
        }
      }
      if (!isEmpty(deltas)) m.deviceDeltas = deltas;
    }
  }
  return families;
}

/** The options `qemu -help` lists ("-no-hpet", "-machine [type=]name[,prop=value...]"...). */
export function parseHelpOptions(help: string): string[] {
  const out = new Set<string>();
  for (const line of help.split('\n')) {
    const m = /^(-[A-Za-z0-9_-]+)/.exec(line);
    if (m) out.add(m[1]!);
  }
  return [...out].sort();
}
