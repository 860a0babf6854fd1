import { MIGRATION_STREAM_PROPERTIES, type Catalog, type MachineType } from '../model/catalog.js';
import { QemuStartError } from '../qmp/launcher.js';
import { errorMessage } from '../util/errors.js';
import { mapPool } from '../util/pool.js';
import { CatalogIndex } from '../catalog/catalog.js';
import { sortKeysDeep } from '../catalog/props.js';
import { placeable, placementDeviceArgs, PLACEMENTS, PROBE_DEVICES, probeDeviceArgs, probeDevicesFor, type Placement, type ProbeDeviceSpec } from './devices.js';
import type { QemuStarter } from './session.js';
import { placedKey } from '../resolve/devices.js';
import { probeMachineOptions } from './machine-options.js';
import { probeViommu } from './viommu.js';
import { XSAVE_COMPONENTS, xsaveComponentsOf } from '../catalog/xsave.js';

/**
 * Facts of a build learnt by asking QEMU one question each, added to a catalog after its main
 * probe (and by `catalog regen --update` to the catalogs already there):
 * - the CPUID leaf each feature needs: the base model (level 0) expanded with only that feature
 *   on gives it as min-level / min-xlevel / min-xlevel2 (x86_cpu_expand_features(): with
 *   full-cpuid-auto-level every enabled feature raises them, before the host filters any);
 * - the machine types that refuse memory hotplug (-m slots=,maxmem=), with QEMU's words;
 * - the migration stream's format properties each machine type sets (migrationStream).
 */
export async function probeBuildFacts(starter: QemuStarter, catalog: Catalog, opts: { concurrency?: number; progress?: (done: number, total: number, what: string) => void } = {}): Promise<Catalog> {
  const cpuFeatureLevels = await featureLevels(starter, catalog.cpuFeatures);
  // Each type with the -machine options TCG needs for it (tcgRequires: pseries-2.8 to 2.11).
  const probed = catalog.machines.filter((m) => m.probe === 'ok').map((m) => ({ name: m.name, arg: [m.name, ...Object.keys(m.tcgRequires ?? {})].join(',') }));
  // Per type: the memory block it takes (if any), then memory hotplug asked with a size it takes
  // (pseries: 256 MiB, not the type refusing hotplug), then its migration stream properties.
  const refusals = new Map<string, string>();
  const memoryBlocks: NonNullable<Catalog['memoryBlocks']> = {};
  const streams = new Map<string, MachineType['migrationStream']>();
  let done = 0;
  await mapPool(probed, opts.concurrency ?? 2, async (machine) => {
    const block = await memoryBlock(starter, machine.arg);
    if (block) memoryBlocks[machine.name] = block;
    const why = await refuses(starter, machine.arg, ['-m', `${Math.max(128, block?.mib ?? 0)},slots=2,maxmem=1G`]);
    if (why) refusals.set(machine.name, why);
    streams.set(machine.name, await migrationStream(starter, machine.arg));
    opts.progress?.(++done, probed.length, `memory and migration stream on ${machine.name}`);
  });
  const machines = catalog.machines.map((m) => {
    const { refusedOptions: _old, migrationStream: _stream, ...rest } = m;
    const why = refusals.get(m.name);
    const stream = streams.get(m.name);
    return { ...rest, ...(why ? { refusedOptions: { 'memory-hotplug': why } } : {}), ...(stream ? { migrationStream: stream } : {}) };
  });
  const noApic = catalog.arch === 'x86_64' ? await noApicRefusals(starter, catalog) : undefined;
  const tcgXsave = catalog.arch === 'x86_64' ? await tcgXsaveComponents(starter, catalog) : undefined;
  const deviceTypeProperties = await deviceProperties(starter, probeDevicesFor(catalog.arch));
  const settings = await settingRefusals(starter, catalog, opts.progress);
  const machineOptions = await probeMachineOptions(starter, catalog);
  const viommu = await probeViommu(starter, catalog);
  return { ...catalog, memoryBlocks: sortKeysDeep(memoryBlocks), ...(machineOptions ? { machineOptions } : {}), ...(viommu ? { viommu } : {}), machines, cpuFeatureLevels, deviceTypeProperties, refusedSettings: settings.refused, refusedSettingsByType: settings.byType, ...(noApic ? { devicesNeedingApic: noApic } : {}), ...(tcgXsave ? { tcgXsaveComponents: tcgXsave } : {}) };
}

/** Every property each probe device type has (device-list-properties): a setting or -global
 *  naming another one makes QEMU refuse to start ("Property '...' not found"). */
async function deviceProperties(starter: QemuStarter, probeSet: ProbeDeviceSpec[]): Promise<Record<string, string[]>> {
  const s = await starter.start(['-machine', 'none', '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'], 'device-properties');
  try {
    const out: Record<string, string[]> = {};
    for (const type of [...new Set(probeSet.map((d) => d.type))].sort()) {
      const props = await s.qmp.execute<{ name: string }[]>('device-list-properties', { typename: type });
      out[type] = props.map((p) => p.name).sort();
    }
    return out;
  } finally {
    await s.stop();
  }
}

/** Where single settings are asked: the families and the placements of each. */
const REFUSAL_FAMILIES: Record<Catalog['arch'], { family: string; placements: Placement[]; oldestToo?: boolean }[]> = {
  // The PC families on their newest type only: asked on the oldest too, they take 20 minutes a
  // build (a refusal only old compat causes stays unfound: iommu_platform=on behind a port on
  // pc-q35-2.4/2.5, KVM fuzz seed 20261204).
  x86_64: [
    { family: 'pc-q35', placements: ['root', ...PLACEMENTS] },
    { family: 'pc-i440fx', placements: ['root'] },
  ],
  // virt: behind a root port, where libvirt puts every device on virt (the root complex and a
  // bridge are asked in the main probe only; a refusal there is not known: unknown, not refused).
  aarch64: [{ family: 'virt', placements: ['pcie-port'], oldestToo: true }],
  ppc64: [{ family: 'pseries', placements: ['root'], oldestToo: true }],
  s390x: [],
};

type RefusalTry = { machine: string; family: string; key: string; table: string; args: (extra: string) => string[]; prop: string; value: string };
type RefusedByType = NonNullable<Catalog['refusedSettingsByType']>;

/**
 * Settings a device refuses on its own when it realizes: each boolean property of each probe
 * device turned the other way, on the newest and the oldest type of each family (and in each
 * placement class where the root bus is PCI Express), one QEMU each;
 * QEMU's words are kept ("'free-page-hint' requires 'iothread'..."). Keyed by device key, then
 * "property=value"; a refusal on either family is recorded (the family in the words' prefix).
 * Each refused setting is then asked on every machine type whose compat gives the device other
 * properties (byType).
 */
async function settingRefusals(starter: QemuStarter, catalog: Catalog, progress?: (done: number, total: number, what: string) => void): Promise<{ refused: Record<string, Record<string, string>>; byType: RefusedByType }> {
  const index = new CatalogIndex(catalog);
  const tries = refusalTries(catalog, index);
  const out: Record<string, Record<string, string>> = {};
  const asked = new Map<string, boolean>();
  let done = 0;
  await mapPool(tries, 2, async (t) => {
    const setting = `${t.prop}=${t.value}`;
    const why = await refuses(starter, t.machine, t.args(setting));
    asked.set(`${t.machine}|${t.table}|${setting}`, !!why);
    if (why) (out[t.table] ??= {})[setting] = why.replace(/^-device [^:]*: /, '');
    progress?.(++done, tries.length, 'device settings');
  });
  const byType = await refusalsByType(starter, catalog, index, tries, out, asked, progress);
  return { refused: sortKeysDeep(out), byType: sortKeysDeep(byType) };
}

function refusalTries(catalog: Catalog, index: CatalogIndex): RefusalTry[] {
  const newest = (family: string) => catalog.machines.filter((m) => m.family === family && m.probe === 'ok').pop()?.name;
  const tries: RefusalTry[] = [];
  // Each device alone on the root bus of each family, and in each placement class where the root
  // bus is PCI Express (a virtio device is transitional on the root bus and modern-only behind a
  // PCIe port).
  // On the newest type, and where it is cheap the oldest too: an old type's compat can make a
  // setting refused that the newest allows.
  const oldest = (family: string) => catalog.machines.find((m) => m.family === family && m.probe === 'ok')?.name;
  const where = REFUSAL_FAMILIES[catalog.arch].flatMap(({ family, placements, oldestToo }) =>
    [...new Set([newest(family), oldestToo ? oldest(family) : undefined])].flatMap((machine) => (machine ? placements.map((placement) => ({ machine, family, placement })) : [])),
  );
  for (const { machine, family, placement } of where) {
    for (const d of probeDevicesFor(catalog.arch).filter((x) => !x.parent && !x.rootOnly && (placement === 'root' || placeable([x]).length))) {
      const key = placedKey(d.key, placement);
      const props = index.deviceOn(machine, key) ?? {};
      const args = (extra: string) => {
        const spec = { ...d, options: [d.options, extra].filter(Boolean).join(',') };
        return placement === 'root' ? probeDeviceArgs([spec]) : placementDeviceArgs([spec], placement);
      };
      // A virtio device is also asked as legacy-only and as modern-only: what it refuses depends
      // on which interface it has ("VIRTIO_F_IOMMU_PLATFORM was supported by neither legacy nor
      // transitional device", "Please set scsi=off ... to use virtio 1.0").
      const modes = 'disable-legacy' in props ? ['', 'disable-legacy=on', 'disable-modern=on'] : [''];
      for (const mode of modes) {
        const modeArgs = (extra: string) => args([mode, extra].filter(Boolean).join(','));
        for (const [prop, v] of Object.entries(props)) {
          if (typeof v !== 'boolean' || prop.includes('.') || (mode && mode.startsWith(`${prop}=`))) continue;
          tries.push({ machine, family, key, table: mode ? `${key}|${mode}` : key, args: modeArgs, prop, value: v ? 'off' : 'on' });
        }
      }
    }
  }
  return tries;
}

/**
 * Each refused setting asked again on the newest type of every group of machine types that give
 * the device the same properties, in each family it was asked on: old types' compat properties
 * can lift a refusal. The virtio interface settings (disable-legacy, disable-modern) are asked on
 * every type: the compat global that lets old q35 types keep a legacy interface behind a PCIe port
 * (hw_compat_2_6 "disable-legacy", "off") does not show in the properties read back, which are the
 * same on pc-q35-2.5 (allows disable-modern=on there) and pc-q35-2.7 (refuses it; lab: fuzz seed
 * 20261202). In a legacy-only or modern-only table, types are also grouped by whether that
 * interface is refused on them, and a setting that fails only because of it is not asked again.
 */
async function refusalsByType(starter: QemuStarter, catalog: Catalog, index: CatalogIndex, tries: RefusalTry[], refused: Record<string, Record<string, string>>, asked: Map<string, boolean>, progress?: (done: number, total: number, what: string) => void): Promise<RefusedByType> {
  const groups = (t: RefusalTry, setting: string) => {
    const g = new Map<string, string[]>();
    const mode = t.table.split('|')[1];
    for (const m of catalog.machines.filter((x) => x.family === t.family && x.probe === 'ok')) {
      const k = /^disable-(legacy|modern)=/.test(setting) ? m.name : JSON.stringify([sortKeysDeep(index.deviceOn(m.name, t.key) ?? {}), mode && asked.get(`${m.name}|${t.key}|${mode}`)]);
      g.set(k, [...(g.get(k) ?? []), m.name]);
    }
    return [...g.values()];
  };
  const out: RefusedByType = {};
  const ask = async (t: RefusalTry, setting: string, members: string[]) => {
    const rep = members[members.length - 1]!;
    const id = (table: string, s: string) => `${rep}|${table}|${s}`;
    const mode = t.table.split('|')[1];
    const modeRefused = mode && asked.get(id(t.key, mode)) && refused[t.key]?.[mode] === refused[t.table]?.[setting];
    let no = asked.get(id(t.table, setting));
    if (no === undefined) no = modeRefused ? true : !!(await refuses(starter, rep, t.args(setting)));
    asked.set(id(t.table, setting), no);
    if (!no) ((out[t.table]!.allowedOn[setting] ??= [])).push(...members);
  };
  // The settings of the interface itself first: the legacy-only and modern-only tables use them.
  const work = tries.filter((t) => refused[t.table]?.[`${t.prop}=${t.value}`]);
  let done = 0;
  for (const phase of [false, true]) {
    await mapPool(work.filter((t) => t.table.includes('|') === phase), 2, async (t) => {
      const setting = `${t.prop}=${t.value}`;
      const entry = (out[t.table] ??= { families: [], allowedOn: {} });
      if (!entry.families.includes(t.family)) entry.families.push(t.family);
      for (const members of groups(t, setting)) await ask(t, setting, members);
      progress?.(++done, work.length, 'device settings on each machine type');
    });
  }
  await interfaceDependent(starter, catalog, tries, refused, out, progress);
  for (const e of Object.values(out)) {
    e.families.sort();
    for (const s of Object.keys(e.allowedOn)) e.allowedOn[s] = [...new Set(e.allowedOn[s])].sort();
  }
  return out;
}

/**
 * Settings a virtio device refuses or takes depending on whether it has a legacy interface, which
 * behind a PCIe port a machine type's compat decides (hw_compat_2_6 "disable-legacy" "off": old q35
 * types keep a transitional device there) and qtree does not show: "VIRTIO_F_IOMMU_PLATFORM was
 * supported by neither legacy nor transitional device" (hw/virtio/virtio-pci.c
 * virtio_pci_device_plugged(), 10.2.0:2077-2081). The newest type allows them; they are asked on
 * every other type of the family too, and where one refuses, the setting joins the refused table
 * with the types that allow it (byType). Lab: KVM fuzz seed 20261204, pc-q35-2.4 and 2.5.
 */
const INTERFACE_DEPENDENT = new Set(['iommu_platform=on']);

async function interfaceDependent(starter: QemuStarter, catalog: Catalog, tries: RefusalTry[], refused: Record<string, Record<string, string>>, out: RefusedByType, progress?: (done: number, total: number, what: string) => void): Promise<void> {
  const work = tries.filter((t) => INTERFACE_DEPENDENT.has(`${t.prop}=${t.value}`) && t.key.endsWith('@pcie-port') && !t.table.includes('|') && !refused[t.table]?.[`${t.prop}=${t.value}`]);
  let done = 0;
  await mapPool(work, 2, async (t) => {
    const setting = `${t.prop}=${t.value}`;
    const types = catalog.machines.filter((m) => m.family === t.family && m.probe === 'ok').map((m) => m.name);
    const allowed: string[] = [];
    let words: string | undefined;
    for (const m of types) {
      const why = m === t.machine ? undefined : await refuses(starter, m, t.args(setting));
      if (why) words ??= why.replace(/^-device [^:]*: /, '');
      else allowed.push(m);
    }
    if (words) {
      (refused[t.table] ??= {})[setting] = words;
      const entry = (out[t.table] ??= { families: [], allowedOn: {} });
      if (!entry.families.includes(t.family)) entry.families.push(t.family);
      entry.allowedOn[setting] = allowed;
    }
    progress?.(++done, work.length, 'interface-dependent settings on each machine type');
  });
}

/**
 * The probe devices QEMU refuses when the vCPU has no local APIC (a CPU model without apic, or
 * apic=off): with no APIC nothing delivers MSI (msi_nonbroken stays false), and devices that
 * must have MSI or MSI-X fail to realize ("MSI-X is not supported by interrupt controller").
 * Asked on the default q35 type, each device alone on the root bus, with -cpu 486 (no apic).
 */
async function noApicRefusals(starter: QemuStarter, catalog: Catalog): Promise<Record<string, string> | undefined> {
  const q35 = catalog.machines.filter((m) => m.family === 'pc-q35' && m.probe === 'ok').pop()?.name;
  if (!q35) return undefined;
  const out: Record<string, string> = {};
  const devices = PROBE_DEVICES.filter((d) => !d.parent);
  await mapPool(devices, 2, async (d) => {
    const why = await refuses(starter, q35, ['-cpu', '486', ...probeDeviceArgs([d])]);
    if (why && /MSI/.test(why)) out[d.type] = why.replace(/^-device [^:]*: /, '');
  });
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The XSAVE state components TCG keeps: a vCPU started on the newest q35 type with every feature
 *  that asks for one, read back from its feature-words (CPUID leaf 0xD sub-leaf 0 EAX, after
 *  x86_cpu_filter_features() took away what TCG does not give). */
async function tcgXsaveComponents(starter: QemuStarter, catalog: Catalog): Promise<string[] | undefined> {
  const q35 = catalog.machines.filter((m) => m.family === 'pc-q35' && m.probe === 'ok').pop()?.name;
  return q35 ? xsaveComponentsKept(starter, q35, 'tcg', catalog.cpuFeatures) : undefined;
}

/** The XSAVE components `accel` keeps on `machine` when a vCPU asks for every one (CPUID 0xD.0
 *  EAX of qemu64 with xsave and each component's feature on: x86_cpu_filter_features() filters
 *  that word against what the accelerator supports; no enforce, so nothing is refused). */
export async function xsaveComponentsKept(starter: QemuStarter, machine: string, accel: 'tcg' | 'kvm', known: readonly string[]): Promise<string[] | undefined> {
  const features = [...new Set(['xsave', ...XSAVE_COMPONENTS.map((c) => c.feature)])].filter((f) => known.includes(f));
  const s = await starter.start(['-machine', machine, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', accel, '-cpu', `qemu64,${features.map((f) => `${f}=on`).join(',')}`], `${accel}-xsave-components`);
  try {
    const [cpu] = await s.qmp.execute<{ 'qom-path': string }[]>('query-cpus-fast');
    const words = await s.qmp.execute<{ 'cpuid-input-eax': number; 'cpuid-input-ecx'?: number; 'cpuid-register': string; features: number }[]>('qom-get', { path: cpu!['qom-path'], property: 'feature-words' });
    const word = words.find((w) => w['cpuid-input-eax'] === 0xd && (w['cpuid-input-ecx'] ?? 0) === 0 && w['cpuid-register'] === 'EAX');
    return word ? xsaveComponentsOf(word.features) : undefined;
  } finally {
    await s.stop();
  }
}

async function featureLevels(starter: QemuStarter, features: string[]): Promise<NonNullable<Catalog['cpuFeatureLevels']>> {
  const s = await starter.start(['-machine', 'none', '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'], 'feature-levels');
  try {
    const out: NonNullable<Catalog['cpuFeatureLevels']> = {};
    for (const f of features) {
      const r = await s.qmp.execute<{ model: { props: Record<string, unknown> } }>('query-cpu-model-expansion', { type: 'full', model: { name: 'base', props: { [f]: true } } });
      const p = r.model.props;
      const lv: { level?: number; xlevel?: number; xlevel2?: number; func7?: number } = {};
      if (typeof p['min-level'] === 'number' && p['min-level'] > 0) lv.level = p['min-level'];
      if (typeof p['min-xlevel'] === 'number' && p['min-xlevel'] > 0) lv.xlevel = p['min-xlevel'];
      if (typeof p['min-xlevel2'] === 'number' && p['min-xlevel2'] > 0) lv.xlevel2 = p['min-xlevel2'];
      // Leaf 7's subleaves (7.1 features) raise level-func7, which has no min- property.
      if (typeof p['level-func7'] === 'number' && p['level-func7'] > 0) lv.func7 = p['level-func7'];
      if (Object.keys(lv).length) out[f] = lv;
    }
    return out;
  } finally {
    await s.stop();
  }
}

/** The migration object's stream-format properties on `machine`, from HMP `info migrate`
 *  ("globals:" then "send-configuration: off"...; migration_global_dump(), migration/migration.c);
 *  undefined when the build does not print them. */
async function migrationStream(starter: QemuStarter, machine: string): Promise<MachineType['migrationStream']> {
  const s = await starter.start(['-machine', machine, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'], `migration-${machine}`);
  try {
    const text = await s.qmp.execute<string>('human-monitor-command', { 'command-line': 'info migrate' });
    const out: NonNullable<MachineType['migrationStream']> = {};
    for (const p of MIGRATION_STREAM_PROPERTIES) {
      const m = new RegExp(`^${p}: (on|off)\\s*$`, 'm').exec(text);
      if (!m) return undefined;
      out[p] = m[1] === 'on';
    }
    return out;
  } finally {
    await s.stop();
  }
}

/** The block `machine` takes guest memory in: none when it starts with 1025 MiB, else the
 *  smallest power of two 1024 + it MiB starts with, and QEMU's words for 1025. */
async function memoryBlock(starter: QemuStarter, machine: string): Promise<{ mib: number; words: string } | undefined> {
  const words = await refuses(starter, machine, ['-m', '1025']);
  if (!words) return undefined;
  for (let mib = 2; mib <= 1024; mib *= 2) if (!(await refuses(starter, machine, ['-m', String(1024 + mib)]))) return { mib, words };
  return undefined;
}

/** QEMU's words when `machine` refuses to start with `args`; undefined when it starts. */
export async function refuses(starter: QemuStarter, machine: string, args: string[]): Promise<string | undefined> {
  try {
    const s = await starter.start(['-machine', machine, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg', ...args], `refuses-${machine}`);
    await s.stop();
    return undefined;
  } catch (e) {
    if (!(e instanceof QemuStartError) || e.crashed) throw e;
    return withoutBinary(errorMessage(e));
  }
}

/** QEMU's message without the path of the binary that said it. */
function withoutBinary(message: string): string {
  const m = /qemu-system-\w+: (.*)$/s.exec(message);
  return (m ? m[1]! : message).trim().split('\n')[0]!;
}
