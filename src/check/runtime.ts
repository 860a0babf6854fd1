import { sameProps } from '../catalog/props.js';
import { SMT } from '../model/catalog.js';
import type { CatalogIndex } from '../catalog/catalog.js';
import { compareVersions } from '../util/versions.js';
import { parseMachineName } from '../catalog/names.js';
import type { Props } from '../model/common.js';
import type { MachineType } from '../model/catalog.js';
import type { GuestSpec } from '../model/guest.js';
import { reason, type Reason } from '../model/reason.js';
import type { GuestVisibility } from '../model/visibility.js';
import { askedFeatures, canonicalFeature, hostCpuHas, hostLacks, missingFeatures } from '../resolve/cpu-features.js';
import { UserError } from '../util/errors.js';
import { catalogKey, globalApplies, guessType, placementOf, typedValue } from '../resolve/devices.js';
import type { TargetHost } from '../resolve/target.js';
import { XSAVE_COMPONENTS } from '../catalog/xsave.js';
import { MSR_FEATURES } from '../catalog/msr-features.js';

export interface RuntimeDevice {
  type: string;
  id: string | undefined;
  placement: string;
  /** null: the catalogs do not know this device in this placement. */
  props: Props | null;
  /** What the guest definition sets, as written, without what the guest cannot see (ids,
   *  backends, buses: data/rules/visibility.yaml). */
  settings: Record<string, string>;
  /** A virtio-pci device: whether QEMU makes it PCI Express where its bus allows (behind a port;
   *  see expressAtRealize); undefined when not virtio-pci or not known. */
  express?: boolean;
  /** A drive on a controller's bus (ide-hd, ide-cd): the bus and unit it was put on, as written
   *  (undefined: QEMU picks the first free one). Its state is the controller's, filed by position. */
  position?: string;
}

/**
 * What QEMU gives a guest on one host, as QEMU itself resolves it at start: the machine alias to
 * this build's type, the CPU name as this machine type defines it (a bare name is its alias or
 * the legacy definition), features the host lacks filtered away (or a refusal with enforce), every
 * device with the machine type's properties in its placement class.
 */
export interface RuntimePlatform extends RuntimeCpu {
  host: TargetHost;
  spec: GuestSpec;
  machine: string | null;
  devices: RuntimeDevice[];
  board: Map<string, Props> | null;
  memoryMiB: number;
  vcpus: GuestSpec['vcpus'];
  machineOptions: Record<string, string>;
  /** The machine object's properties as the type and the CPU give them before any -machine option
   *  (pseries: the capabilities' defaults, spapr->def), where the catalog knows them. */
  machineDefaults?: Props;
  /** Why this guest cannot start here at all. */
  problems: Reason[];
}

/** The CPU QEMU gives the guest on one host. */
export interface RuntimeCpu {
  cpuName: string | null;
  cpuHostDependent: boolean;
  cpu: Props | null;
  /** Features QEMU drops without a word because the host lacks them (no enforce). */
  filtered: string[];
  /** Under KVM, what the accelerator sets on this named model beyond its TCG expansion, and where
   *  that is known from; null when it is not known; undefined under TCG or for a host CPU. */
  accel?: AccelDefaults | null;
}

export interface AccelDefaults {
  props: Props;
  from: 'probe' | 'source' | 'profile';
}

const noCpu = (): RuntimeCpu => ({ cpuName: null, cpuHostDependent: false, cpu: null, filtered: [] });

export function runtimePlatform(spec: GuestSpec, host: TargetHost, visibility: GuestVisibility, source = 'guest'): RuntimePlatform {
  const c = host.catalog;
  const machine = c.resolveMachineAlias(spec.machine.type) ?? null;
  const base = {
    host,
    spec,
    machine,
    ...noCpu(),
    devices: [] as RuntimeDevice[],
    board: null,
    memoryMiB: spec.memory.sizeMiB,
    vcpus: spec.vcpus,
    machineOptions: spec.machine.options ?? {},
  };
  const arch = spec.arch ?? 'x86_64';
  if (arch !== host.profile.arch) {
    const why = reason('ARCH_DIFFERS', 'error', arch, `the guest is ${arch} and ${host.name} runs QEMU for ${host.profile.arch} (${host.profile.qemu.binary}): it cannot start there`, { host: host.name, a: arch, b: host.profile.arch, effect: 'impossible', remedy: `run it on a host with qemu-system-${arch}` });
    return { ...base, machine: null, problems: [why] };
  }
  if (!machine) return { ...base, problems: [machineUnknown(spec, host)] };
  const m = c.machine(machine)!;
  const problems = optionProblems(spec, host);
  const cpu = cpuOnHost(spec, host, m, source, problems);
  const devices = spec.devices.map((d) => runtimeDevice(d, spec, host, m, visibility, problems));
  const forced = host.profile.accel === 'kvm' ? visibility.kvmForced(machine) : {};
  const { board, machineDefaults } = m.probe === 'ok' ? withCpuOptions(boardWithOptions(spec, host, machine, forced), spec, host, m, cpu.cpuName, problems) : { board: null, machineDefaults: undefined };
  // maxcpus is the vCPU count when not given (hw/core/machine-smp.c); QEMU refuses more than cpu-max.
  const asked = spec.vcpus.max ?? spec.vcpus.count;
  if (asked > m.cpuMax) {
    problems.push(reason('VCPUS_OVER_MACHINE_LIMIT', 'error', machine, `${machine} takes at most ${m.cpuMax} vCPUs, the guest asks ${asked}`, { host: host.name, effect: 'impossible' }));
  }
  problems.push(...deviceStartProblems(spec, cpu, host), ...settingProblems(spec, host, m), ...kvmOptionProblems(spec, host, forced, cpu.cpu), ...boardBusProblems(spec, host, board));
  const hotplugRefused = m.refusedOptions?.['memory-hotplug'];
  if (hotplugRefused && spec.memory.maxMiB !== undefined) {
    problems.push(
      reason('MEMORY_HOTPLUG_REFUSED', 'error', machine, `QEMU ${c.version} refuses memory hotplug (-m slots=,maxmem=) on ${machine}: ${hotplugRefused}`, {
        host: host.name,
        effect: 'impossible',
        remedy: 'drop slots= and maxmem=, or use a newer machine type',
      }),
    );
  }
  problems.push(...memorySizeProblems(spec, host, m), ...addressSpaceProblems(spec, cpu, host, m));
  return { ...base, ...cpu, devices, board, problems, ...(machineDefaults ? { machineDefaults } : {}) };
}

const GiB = 1024 ** 3;

/** Memory a machine type takes only in whole blocks (catalog memoryBlocks, probed; pseries:
 *  hw/ppc/spapr.c spapr_validate_node_memory(), 256 MiB, called at every start, hotplug or not). */
function memorySizeProblems(spec: GuestSpec, host: TargetHost, m: MachineType): Reason[] {
  const block = host.catalog.data.memoryBlocks?.[m.name];
  if (!block) return [];
  const sizes = [['-m', spec.memory.sizeMiB], ['maxmem', spec.memory.maxMiB]] as const;
  return sizes
    .filter(([, mib]) => mib !== undefined && mib % block.mib !== 0)
    .map(([what, mib]) =>
      reason('MEMORY_SIZE_REFUSED', 'error', what, `QEMU ${host.catalog.version} takes memory on ${m.name} only in ${block.mib} MiB blocks, and ${what} is ${mib} MiB ("${block.words}" for 1025 MiB)`, {
        host: host.name,
        effect: 'impossible',
        remedy: `give ${what} in whole ${block.mib} MiB (${Math.ceil(mib! / block.mib) * block.mib} MiB)`,
      }),
    );
}

/**
 * A 32-bit vCPU (no lm) must reach the highest guest-physical address the board uses: QEMU 8.2 and
 * later refuse to start otherwise ("Address space limit 0xffffffff < 0x1b7ffffff phys-bits too low
 * (32)") on pc-*-8.2 and later types (older ones keep broken_32bit_mem_addr_check). That address is
 * the end of the RAM above 4 GiB or, with memory hotplug, of the device-memory region after it
 * (1 GiB aligned, maxmem less RAM, 1 GiB per slot). Source: QEMU hw/i386/pc.c pc_memory_init(),
 * pc_max_used_gpa(), pc_get_device_memory_range() (10.2.0:684-792,877-883); hw/i386/pc_piix.c and
 * pc_q35.c (broken_32bit_mem_addr_check for 8.1 and older). Lab: fuzz seed 20261207 under KVM,
 * -cpu base -m 128,slots=1,maxmem=2048M on pc-i440fx-9.2, QEMU 10.0.
 */
function addressSpaceProblems(spec: GuestSpec, cpu: RuntimeCpu, host: TargetHost, m: MachineType): Reason[] {
  const c = host.catalog;
  const version = parseMachineName(m.name).version;
  if (c.arch !== 'x86_64' || !cpu.cpu || cpu.cpu.lm === true || compareVersions(c.version, '8.2') < 0 || !version || compareVersions(version, '8.2') < 0) return [];
  const physBits = Number(cpu.cpu['phys-bits']);
  if (!Number.isFinite(physBits) || physBits <= 0) return [];
  const ram = spec.memory.sizeMiB * 1024 ** 2;
  // RAM below 2 GiB fits under 4 GiB on both boards (lowmem 0x80000000 or more); beyond that the
  // split depends on the board and max-ram-below-4g: between all RAM and none of it above 4 GiB.
  const fits = ram < 2 * GiB && spec.machine.options?.['max-ram-below-4g'] === undefined;
  const ends = fits ? [4 * GiB, 4 * GiB] : [4 * GiB + Math.max(0, ram - 4 * GiB), 4 * GiB + ram];
  const hotplug = spec.memory.maxMiB !== undefined && spec.memory.maxMiB * 1024 ** 2 > ram;
  const used = ends.map((end) => (hotplug ? Math.ceil(end / GiB) * GiB + (spec.memory.maxMiB! * 1024 ** 2 - ram) + GiB * (spec.memory.slots ?? 0) - 1 : end - 1));
  const limit = 2 ** physBits - 1;
  const words = `"Address space limit 0x${limit.toString(16)} < 0x${used[0]!.toString(16)} phys-bits too low (${physBits})"`;
  if (used[0]! > limit) return [reason('ADDRESS_SPACE_TOO_SMALL', 'error', 'memory', `the vCPU ${cpu.cpuName} has no lm and ${physBits} physical address bits, and ${m.name} places memory up to 0x${used[0]!.toString(16)}: QEMU ${c.version} does not start (${words})`, { host: host.name, a: physBits, b: used[0]!, effect: 'impossible', remedy: 'use a 64-bit CPU model (lm), pse36 or pae for 36 bits, less maxmem, or a machine type of 8.1 or older' })];
  if (used[1]! > limit) return [reason('ADDRESS_SPACE_TOO_SMALL', 'warn', 'memory', `the vCPU ${cpu.cpuName} has no lm and ${physBits} physical address bits, and where ${m.name} splits ${spec.memory.sizeMiB} MiB of RAM around 4 GiB decides whether QEMU ${c.version} starts it`, { host: host.name, effect: 'unknown' })];
  return [];
}

/** The machine type and CPU alone, as runtimePlatform works them out: for questions about the
 *  CPU that need no devices (fleet baselines). */
export function runtimeCpu(spec: GuestSpec, host: TargetHost, source = 'guest'): RuntimeCpu & { machine: string | null } {
  const machine = host.catalog.resolveMachineAlias(spec.machine.type) ?? null;
  if (!machine) return { machine, ...noCpu() };
  return { machine, ...cpuOnHost(spec, host, host.catalog.machine(machine)!, source, []) };
}

function machineUnknown(spec: GuestSpec, host: TargetHost): Reason {
  return reason('MACHINE_TYPE_UNKNOWN', 'error', spec.machine.type, `QEMU ${host.catalog.version} on ${host.name} has no machine type ${spec.machine.type}`, {
    host: host.name,
    effect: 'impossible',
    remedy: 'pin a machine type both builds offer (guestabi resolve --cluster)',
  });
}

/**
 * Under KVM each Hyper-V enlightenment must be given by the host's kernel, or QEMU refuses to
 * start ("kernel doesn't allow setting HyperV VP_INDEX"): the profile records which it refuses
 * (probed). A profile without that record cannot vouch for them: unknown. Lab: this machine's
 * nested KVM refuses hv-vpindex and everything that needs it.
 */
function hypervProblems(spec: GuestSpec, features: ReadonlyMap<string, boolean>, host: TargetHost): Reason[] {
  if (host.profile.accel !== 'kvm') return [];
  const props = spec.cpu.properties ?? {};
  const asked = new Set([...features].filter(([f, on]) => on && f.startsWith('hv-')).map(([f]) => f));
  for (const [k, v] of Object.entries(props)) if (k.startsWith('hv-') && (v === true || v === 'on')) asked.add(k);
  if (spec.cpu.mode === 'host-passthrough' && (props['hv-passthrough'] === true || props['hv-passthrough'] === 'on')) asked.add('hv-passthrough');
  asked.delete('hv-passthrough');
  if (!asked.size) return [];
  const record = host.profile.hyperv;
  if (!record) {
    return [reason('HYPERV_SUPPORT_UNKNOWN', 'warn', [...asked].join(' '), `${host.name}'s profile does not record which Hyper-V enlightenments its KVM gives: QEMU refuses to start a guest with one the kernel does not`, { host: host.name, effect: 'unknown', remedy: `probe ${host.name} again (guestabi probe --accel kvm)` })];
  }
  const refused = [...asked].filter((f) => record.refused[f] !== undefined);
  return refused.map((f) =>
    reason('HYPERV_FEATURE_REFUSED', 'error', f, `the KVM of ${host.name} does not give ${f}: QEMU refuses to start ("${record.refused[f]}")`, { host: host.name, effect: 'impossible', remedy: `leave ${f} out, or run the guest on a host whose kernel gives it` }),
  );
}

/** A vCPU gets no local APIC only when its model has none and it is alone: with more than one
 *  vCPU QEMU creates APICs anyway (hw/i386/x86-common.c x86_cpu_apic_create() callers: "apic
 *  feature or smp.cpus > 1"). Lab: fuzz seed 555, 486 with -smp 2 and a pcie-root-port starts. */
export function hasNoLocalApic(cpu: RuntimeCpu, spec: GuestSpec): boolean {
  return cpu.cpu?.apic === false && spec.vcpus.count === 1;
}

/**
 * Device settings QEMU refuses: a property the device type does not have, in a setting or a
 * -global for it ("Property '...' not found"; the build's deviceTypeProperties, probed with
 * device-list-properties), or a value it refuses when the device realizes (refusedSettings,
 * probed one setting at a time). Lab: fuzz seed 555 (virtio-blk in_order on 7.2, free-page-hint).
 */
function settingProblems(spec: GuestSpec, host: TargetHost, m: MachineType): Reason[] {
  const c = host.catalog;
  const known = c.data.deviceTypeProperties;
  const out: Reason[] = [];
  const add = (subject: string, message: string) => out.push(reason('DEVICE_SETTING_REFUSED', 'error', subject, `QEMU ${c.version} on ${host.name} ${message}: it refuses to start`, { host: host.name, effect: 'impossible', remedy: 'leave the setting out, or use a build that has it' }));
  const refusal = (d: GuestSpec['devices'][number], k: string, v: string) => {
    const r = refusedSetting(c, m, d, k, v);
    if (r?.unasked) out.push(reason('DEVICE_SETTING_UNVERIFIED', 'warn', `${d.id ?? d.type}.${k}`, `whether QEMU ${c.version} refuses ${d.type} with ${k}=${v} where the guest puts it (${r.probedOn}) was not probed: the catalog asked ${m.family}'s device settings in other placements`, { host: host.name, effect: 'unknown' }));
    else if (r?.asProbed) add(`${d.id ?? d.type}.${k}`, `refuses ${d.type} with ${k}=${v} ("${r.words}")`);
    else if (r) out.push(reason('DEVICE_SETTING_UNVERIFIED', 'warn', `${d.id ?? d.type}.${k}`, `QEMU ${c.version} refuses ${d.type} with ${k}=${v} on ${r.probedOn} ("${r.words}"); ${m.name} gives the device other defaults, so whether it does here was not probed`, { host: host.name, effect: 'unknown' }));
  };
  for (const d of spec.devices) {
    const props = known?.[d.type];
    for (const [k, v] of Object.entries(d.properties ?? {})) {
      // id and bus are qdev_device_add()'s own options, not properties of the type.
      if (props && !props.includes(k) && k !== 'id' && k !== 'bus' && !d.source?.includes('QEMU default')) add(`${d.id ?? d.type}.${k}`, `has no property ${k} on ${d.type} ("Property '${d.type}.${k}' not found")`);
      refusal(d, k, v);
    }
    for (const r of compatRefusals(c, m, d)) add(`${d.id ?? d.type}.${r.setting.split('=')[0]}`, `refuses ${d.type} with ${r.setting}, which ${m.name} gives it, in the interface the definition sets ("${r.words}")`);
  }
  for (const g of spec.globals ?? []) {
    const props = known?.[g.driver];
    if (props && !props.includes(g.property)) add(`${g.driver}.${g.property}`, `has no property ${g.property} on ${g.driver} (-global ${g.driver}.${g.property})`);
    // A -global is a setting of every device of its type: refused as the setting is.
    for (const d of spec.devices.filter((x) => x.type === g.driver && !(g.property in (x.properties ?? {})))) refusal(d, g.property, g.value);
  }
  return out;
}

/**
 * A single setting QEMU refuses for this device (refusedSettings, probed alone on the newest type
 * of the family, in each placement, and for virtio as legacy-only and modern-only): the table of
 * the device's interface as the definition makes it (the setting looked at aside). Which machine
 * types of the family refuse it was asked on every group of types whose compat gives the device
 * other properties (refusedSettingsByType); on a family not asked, or a catalog without it, a type
 * whose defaults differ from the probed one is not known (asProbed false). Lab: fuzz seeds 555,
 * 20261201, 20261202.
 */
function refusedSetting(c: CatalogIndex, m: MachineType, d: GuestSpec['devices'][number], setting: string, value: string): { words: string; asProbed: boolean; probedOn: string; unasked?: boolean } | undefined {
  const p = d.properties ?? {};
  const baseline = c.data.families[m.family]?.baseline;
  if ('iothread' in p || !baseline) return undefined;
  const key = catalogKey(d, c);
  // The interface as the definition sets it; what a machine type's compat makes it is not read
  // from qtree, which shows disable-legacy=on where old q35 types still let the device be legacy
  // (lab: fuzz seed 20261202, pc-q35-2.5).
  const table = settingsTable(key, p, setting);
  const asked = `${setting}=${onOff(value)}`;
  const words = table ? c.data.refusedSettings?.[table]?.[asked] : undefined;
  if (!words) {
    // A placement the catalog did not ask settings in (virt: behind a root port only): a boolean
    // turned away from its default may be refused there (on virt's root complex a virtio device is
    // transitional and refuses iommu_platform=on).
    const known = c.deviceOn(m.name, key)?.[setting];
    const turned = typeof known === 'boolean' && onOff(value) !== (known ? 'on' : 'off');
    return turned && !settingsAskedIn(c, m.family, key) ? { words: '', asProbed: false, probedOn: key.includes('@') ? `behind a ${key.split('@')[1]}` : 'on the root bus', unasked: true } : undefined;
  }
  const byType = c.data.refusedSettingsByType?.[table!];
  if (byType?.families.includes(m.family)) return byType.allowedOn[asked]?.includes(m.name) ? undefined : { words, asProbed: true, probedOn: m.name };
  return { words, asProbed: !byType && (baseline === m.name || sameProps(c.deviceOn(m.name, key) ?? {}, c.deviceOn(baseline, key))), probedOn: baseline };
}

/** The refusedSettings table of the device's interface as the definition makes it (the setting
 *  looked at aside): legacy-only, modern-only, or as the type has it; undefined for neither. */
function settingsTable(key: string, p: Record<string, string>, setting?: string): string | undefined {
  const mode = (k: string) => k !== setting && k in p && onOff(p[k]!) === 'on';
  return mode('disable-legacy') && mode('disable-modern') ? undefined : mode('disable-legacy') ? `${key}|disable-legacy=on` : mode('disable-modern') ? `${key}|disable-modern=on` : key;
}

const VIRTIO_INTERFACE = ['disable-modern', 'disable-legacy'];

/**
 * Values a machine type's compat gives the device that QEMU refuses once the definition sets the
 * interface the refusals were probed in (refusedSettings, on the family's newest type): old PC
 * types give virtio-blk scsi=on, which their legacy-only device takes; disable-modern=off makes it
 * transitional, and QEMU refuses it ("Please set scsi=off ... virtio 1.0"). Only where the
 * interface, with what the definition sets, is the probed one. Lab: KVM fuzz seed 20261216,
 * pc-i440fx-1.7 with virtio-blk-pci disable-modern=off.
 */
function compatRefusals(c: CatalogIndex, m: MachineType, d: GuestSpec['devices'][number]): { setting: string; words: string }[] {
  const p = d.properties ?? {};
  const baseline = c.data.families[m.family]?.baseline;
  if (!VIRTIO_INTERFACE.some((k) => k in p) || !baseline || baseline === m.name || 'iothread' in p) return [];
  const key = catalogKey(d, c);
  const here = c.deviceOn(m.name, key);
  const base = c.deviceOn(baseline, key);
  // Only where the definition turns the interface back on (disable-modern=off): in a table of a
  // mode turned on, QEMU's words are often the mode's own ("neither modern nor legacy").
  const table = settingsTable(key, p);
  if (!here || !base || table !== key || FORCED_VIRTIO_1.test(d.type)) return [];
  const value = (props: Props, k: string) => onOff(k in p ? p[k]! : String(props[k]));
  if (VIRTIO_INTERFACE.some((k) => value(here, k) !== value(base, k))) return [];
  return Object.entries(c.data.refusedSettings?.[table] ?? {})
    .map(([asked, words]) => ({ setting: asked, words, k: asked.split('=')[0]!, v: asked.split('=')[1]! }))
    .filter((r) => !(r.k in p) && r.k in here && value(here, r.k) === r.v && value(base, r.k) !== r.v)
    .map(({ setting, words }) => ({ setting, words }));
}

/** Whether the catalog asked the family's device settings in this key's placement (the placements
 *  of its refusedSettingsByType tables; a family with none was asked wherever it was probed). */
function settingsAskedIn(c: CatalogIndex, family: string, key: string): boolean {
  const placement = (k: string) => k.split('|')[0]!.split('@')[1] ?? 'root';
  const asked = Object.entries(c.data.refusedSettingsByType ?? {}).filter(([, v]) => v.families.includes(family)).map(([k]) => placement(k));
  return asked.length === 0 || asked.includes(placement(key));
}

/** Whether QEMU gives the vCPU machine-check banks (target/i386/cpu.c mce_init(): mce and mca
 *  and family 6 or later; mcg_cap 0 otherwise). Unknown without the CPU. */
export function hasMceBanks(c: Props | null): boolean | undefined {
  if (!c) return undefined;
  return c.mce === true && c.mca === true && Number(c.family ?? 0) >= 6;
}

const onOff = (v: string) => (/^(on|true|yes)$/i.test(v) ? 'on' : /^(off|false|no)$/i.test(v) ? 'off' : v);

/**
 * Under KVM, -machine options the kernel must give (smm=on, kernel-irqchip=split) that this host
 * refuses (host profile kvmMachineOptions, probed); and lmce, which QEMU refuses rather than
 * filters when KVM lacks it (target/i386/kvm/kvm.c kvm_arch_init_vcpu(): "kvm: LMCE not
 * supported"), only on a vCPU with machine-check banks: the check sits in the banks' set-up.
 * Lab: fuzz seed 4243 under KVM (smm=on, lmce=on on this nested KVM); KVM fuzz seed 20261221,
 * pentium,lmce=on (family 5, no banks) starts.
 */
function kvmOptionProblems(spec: GuestSpec, host: TargetHost, forced: Record<string, string>, cpu: Props | null): Reason[] {
  if (host.profile.accel !== 'kvm') return [];
  const out: Reason[] = [];
  const refused = host.profile.kvmMachineOptions?.refused ?? {};
  for (const [k, v] of Object.entries(spec.machine.options ?? {})) {
    const words = k in forced ? undefined : refused[`${k}=${v}`];
    if (words) out.push(reason('KVM_OPTION_REFUSED', 'error', `machine.${k}`, `the KVM of ${host.name} refuses -machine ${k}=${v}: QEMU does not start ("${words}")`, { host: host.name, effect: 'impossible', remedy: `leave ${k}=${v} out, or run the guest on a host whose kernel gives it` }));
  }
  const lmce = (spec.cpu.features ?? []).some((f) => f.name === 'lmce' && (f.policy === 'require' || f.policy === 'force'));
  if (lmce && host.hostFeatures && !host.hostFeatures.has('lmce') && hasMceBanks(cpu) !== false) {
    out.push(reason('KVM_OPTION_REFUSED', 'error', 'cpu.lmce', `the KVM of ${host.name} does not give lmce, and QEMU refuses it rather than filtering it ("kvm: LMCE not supported")`, { host: host.name, effect: 'impossible', remedy: 'turn lmce off' }));
  }
  return out;
}

/** Display devices, in the order QEMU numbers their consoles. */
const DISPLAY = /^(VGA|cirrus-vga|qxl-vga|qxl|virtio-vga|virtio-vga-gl|vmware-svga|bochs-display|secondary-vga|ramfb|ati-vga|virtio-gpu-pci|virtio-gpu-gl-pci)$/;

/**
 * Devices QEMU refuses to realize because of the rest of the guest: a device that needs MSI on a
 * vCPU with no local APIC (the build's devicesNeedingApic, probed); a primary qxl-vga that is not
 * the first display device (hw/display/qxl.c qxl_realize_primary(): "primary qxl-vga device must
 * be console 0"). Lab: fuzz seed 2026.
 */
function deviceStartProblems(spec: GuestSpec, cpu: RuntimeCpu, host: TargetHost): Reason[] {
  const out: Reason[] = [];
  const needApic = host.catalog.data.devicesNeedingApic ?? {};
  if (hasNoLocalApic(cpu, spec)) {
    for (const d of spec.devices.filter((x) => needApic[x.type])) {
      out.push(reason('DEVICE_REFUSED', 'error', d.id ?? d.type, `QEMU ${host.catalog.version} refuses ${d.type} on a vCPU without a local APIC (${cpu.cpuName}): ${needApic[d.type]}`, { host: host.name, effect: 'impossible', remedy: 'use a CPU model with apic, or leave the device out' }));
    }
  }
  const displays = spec.devices.filter((d) => DISPLAY.test(d.type));
  const qxl = displays.findIndex((d) => d.type === 'qxl-vga');
  if (qxl > 0) {
    out.push(reason('DEVICE_REFUSED', 'error', displays[qxl]!.id ?? 'qxl-vga', `QEMU refuses a qxl-vga that is not the first display device (${displays[0]!.type} comes first): "primary qxl-vga device must be console 0"`, { host: host.name, effect: 'impossible', remedy: 'give qxl-vga before the other display devices' }));
  }
  return out;
}

/** The board's IDE controllers, whose buses are named ide.0, ide.1 (hw/ide: the board's AHCI or
 *  PIIX IDE); turned off (-machine sata=off), a device put on one has no bus. */
const BOARD_IDE = /^board\/(ich9-ahci|piix3-ide|piix3-ide-xen|piix4-ide|via-ide)(#\d+)?$/;

/** Devices on a bus of a board part the guest turned off: QEMU refuses ("Bus 'ide.0' not found").
 *  Lab: fuzz seeds 20261203 and 20261204 (ide-hd and ide-cd on pc-q35 with sata=off). */
function boardBusProblems(spec: GuestSpec, host: TargetHost, board: Map<string, Props> | null): Reason[] {
  if (!board || [...board.keys()].some((k) => BOARD_IDE.test(k))) return [];
  return spec.devices
    .filter((d) => /^ide\.\d+$/.test(d.properties?.bus ?? ''))
    .map((d) => reason('DEVICE_REFUSED', 'error', d.id ?? d.type, `${d.type} is on bus ${d.properties!.bus}, and the board has no IDE controller here: QEMU refuses to start ("Bus '${d.properties!.bus}' not found")`, { host: host.name, effect: 'impossible', remedy: 'turn the board\'s disk controller back on (drop sata=off), or put the drive on a controller of its own' }));
}

/** Command-line options this build does not have: it refuses to start. */
function optionProblems(spec: GuestSpec, host: TargetHost): Reason[] {
  const c = host.catalog;
  const lacking = (spec.commandLineOptions ?? []).filter((o) => c.data.commandLineOptions.length && !c.data.commandLineOptions.includes(o));
  if (!lacking.length) return [];
  return [
    reason('OPTION_UNKNOWN', 'error', lacking.join(' '), `QEMU ${c.version} on ${host.name} has no option ${lacking.join(', ')}: it refuses to start`, {
      host: host.name,
      effect: 'impossible',
      remedy: lacking.includes('-no-hpet') ? 'use -machine hpet=off' : 'use the option this build has instead',
    }),
  ];
}

/** The CPU as QEMU resolves it on this host: a host-dependent CPU is the host's, a named one the
 *  catalog's on this machine type with what the definition sets, less what the host filters
 *  away (without enforce; with it QEMU refuses to start). */
function cpuOnHost(spec: GuestSpec, host: TargetHost, m: MachineType, source: string, problems: Reason[]): RuntimeCpu {
  const c = host.catalog;
  const hostDependent = spec.cpu.mode === 'host-passthrough' || spec.cpu.mode === 'maximum';
  let cpuName: string;
  let cpu: Props | null = null;
  let filtered: string[] = [];
  let reference: Props | undefined;
  if (hostDependent) {
    cpuName = spec.cpu.mode === 'maximum' ? 'max' : 'host';
    cpu = host.profile.hostCpu.props ?? null; // the profile's own map: copied below only if something changes it
    if (cpuName === 'host' && host.profile.accel !== 'kvm') {
      // x86_cpu_realizefn() (target/i386/cpu.c): a model with host_cpuid_required fails to realize
      // without an accelerator that uses the host's CPUID ("CPU model 'host' requires KVM").
      problems.push(
        reason('CPU_MODEL_NEEDS_ACCELERATOR', 'error', 'host', `-cpu host needs KVM, and ${host.name} runs guests with ${host.profile.accel.toUpperCase()}: QEMU refuses to start it`, {
          host: host.name,
          effect: 'impossible',
          remedy: 'use a named CPU model (guestabi resolve), or run the guest with KVM',
          source: 'QEMU target/i386/cpu.c x86_cpu_realizefn(): host_cpuid_required',
        }),
      );
    }
  } else {
    cpuName = spec.cpu.model ?? m.defaultCpuType ?? 'qemu64';
    if (!c.cpuModel(cpuName)) {
      problems.push(reason('CPU_MODEL_UNKNOWN', 'error', cpuName, `QEMU ${c.version} on ${host.name} has no CPU model ${cpuName}`, { host: host.name, effect: 'impossible' }));
    } else {
      reference = m.probe === 'ok' ? c.cpuOnMachine(cpuName, m.name) : undefined;
      cpu = reference ?? null; // the catalog's own map: copied below only if something changes it
    }
  }
  const features = featuresOn(spec, host, reference, source, problems);
  problems.push(...hypervProblems(spec, features, host));
  if (!hostDependent && c.cpuModel(cpuName)) filtered = featuresFiltered(spec, host, cpuName, features, problems);
  const accel = hostDependent ? undefined : accelDefaults(host, cpuName, m);
  const realized = cpu && !hostDependent ? realizedProps(cpu, features, spec, host, m) : {};
  const properties = { ...realized, ...(cpu && !hostDependent ? topologyBits({ ...cpu, ...realized }, accel?.props ?? null, features, spec, host, m) : {}), ...spec.cpu.properties };
  if (cpu && (features.size || filtered.length || Object.keys(properties).length || accel)) {
    cpu = derivedCpu(cpu, features, properties, filtered, accel?.props ?? null);
  }
  if (cpu && reference && 'xsave' in cpu) {
    const asked = filtered.length ? derivedCpu(reference, features, properties, [], accel?.props ?? null) : cpu;
    const components = xsaveComponents(asked, host, problems);
    if (components !== undefined) cpu = { ...cpu, [XSAVE_COMPONENTS_KEY]: components };
  }
  // -cpu host: the vCPU is the host's CPU as KVM gives it (the profile's expansion of -cpu host).
  problems.push(...msrFeatureProblems(cpu ?? (hostDependent ? (host.profile.hostCpu.props ?? null) : null), host));
  return { cpuName, cpuHostDependent: hostDependent, cpu, filtered, ...(accel !== undefined ? { accel } : {}) };
}

/** The features kept in a register QEMU writes at start that the vCPU has as it runs (after the
 *  host filtered, with their CPUID gate on: MSR_FEATURES), held to what the host's KVM takes (its
 *  profile's kvmMsrFeatures, probed by starting guests). */
function msrFeatureProblems(cpu: Props | null, host: TargetHost): Reason[] {
  if (!cpu || host.profile.accel !== 'kvm') return [];
  const on = MSR_FEATURES.filter((f) => cpu[f.feature] === true && cpu[f.gate] === true);
  if (!on.length) return [];
  const record = host.profile.kvmMsrFeatures;
  if (!record) {
    return [reason('KVM_MSR_FEATURE_UNKNOWN', 'warn', on.map((f) => f.feature).join(' '), `${host.name}'s profile does not record whether its KVM takes ${on.map((f) => f.feature).join(', ')} in ${[...new Set(on.map((f) => f.msr))].join(', ')}: a kernel that reports them but refuses the register makes QEMU abort at start`, { host: host.name, effect: 'unknown', remedy: `probe ${host.name} again (guestabi probe --accel kvm)` })];
  }
  const refused = on.filter((f) => record.refused[f.feature] !== undefined);
  return [...new Set(refused.map((f) => f.msr))].map((msr) => {
    const these = refused.filter((f) => f.msr === msr);
    const names = these.map((f) => f.feature);
    return reason('KVM_MSR_FEATURE_REFUSED', 'error', names.join(' '), `the KVM of ${host.name} reports ${names.join(', ')} but refuses ${msr} with ${names.length > 1 ? 'them' : 'it'}: QEMU aborts at start ("${record.refused[names[0]!]}")`, { host: host.name, effect: 'impossible', remedy: `turn ${names.map((n) => `${n}=off`).join(',')} (or ${these[0]!.gate}=off) on -cpu` });
  });
}

/** The features the definition sets. One this build does not have is a problem (QEMU refuses to
 *  start: "Property '...' not found"), not bad input: another build the guest runs on may have it. */
function featuresOn(spec: GuestSpec, host: TargetHost, reference: Props | undefined, source: string, problems: Reason[]): Map<string, boolean> {
  try {
    return askedFeatures(spec.cpu.features, host.catalog, reference, source).set;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const unknown = (spec.cpu.features ?? []).map((f) => canonicalFeature(f.name, host.catalog)).filter((f) => typeof reference?.[f] !== 'boolean');
    problems.push(
      reason('CPU_FEATURE_UNKNOWN', 'error', unknown.join(' '), `QEMU ${host.catalog.version} on ${host.name} has no CPU feature ${unknown.join(', ')}: it refuses to start ("Property '${unknown[0]}' not found")`, {
        host: host.name,
        effect: 'impossible',
        remedy: 'drop the feature, or run the guest on a build that has it',
      }),
    );
    return askedFeatures(spec.cpu.features?.filter((f) => !unknown.includes(canonicalFeature(f.name, host.catalog))), host.catalog, reference, source).set;
  }
}

/**
 * What QEMU sets when it realizes the vCPU that an expansion (the catalog) shows only as its knob:
 * a 32-bit CPU's (no lm) physical address width is 36 bits with PSE36, or with PAE from QEMU 9.0
 * on, else 32 (target/i386/cpu.c x86_cpu_realizefn(): "phys_bits = 36" for CPUID_PSE36, and for
 * CPUID_PSE36 | CPUID_PAE since the 2024 change). Lab: n270, coreduo and qemu32 read 32 on 5.2
 * and 7.2 and 36 on 10.0 (fuzz seed 20250610).
 */
function realizedProps(cpu: Props, features: ReadonlyMap<string, boolean>, spec: GuestSpec, host: TargetHost, m: MachineType): Props {
  const c = host.catalog;
  const on = (f: string) => features.get(f) ?? cpu[f] === true;
  const out: Props = {};
  if (!on('lm') && cpu['phys-bits'] === 0) out['phys-bits'] = on('pse36') || (on('pae') && compareVersions(c.version, '9.0') >= 0) ? 36 : 32;
  // Without KVM the KVM paravirt word is cleared, whatever was asked and with enforce too
  // (x86_cpu_expand_features(): FEAT_KVM = 0 unless kvm_enabled()): the guest never sees it.
  // Lab: fuzz seed 2026, kvm-poll-control=on under TCG migrates with nothing changed.
  if (host.profile.accel !== 'kvm') for (const [f, v] of features) if (v && /^kvm/.test(f) && c.cpuFeatures().has(f)) out[f] = false;
  return { ...out, ...raisedLevels(cpu, withTopologyBits(features, cpu, spec, c, m), spec, c) };
}

/**
 * From QEMU 10.0 the topology bits are features: with more than one logical processor in a
 * package x86_cpu_expand_features() sets ht (and cmp-legacy for vendors other than Intel), so
 * they raise the CPUID levels like any feature turned on; before, cpu_x86_cpuid() ORed them in
 * at CPUID time. Lab: fuzz seed 2026, -cpu base -smp 4,threads=2 reads level 1 on 10.0, 0 on 5.2.
 */
function withTopologyBits(features: ReadonlyMap<string, boolean>, cpu: Props, spec: GuestSpec, c: CatalogIndex, m: MachineType): ReadonlyMap<string, boolean> {
  if (compareVersions(c.version, '10.0') < 0) return features;
  const t = smpTopology(spec.vcpus, c.version, m.version);
  if (t.cores * t.threads * t.dies <= 1) return features;
  const out = new Map(features);
  out.set('ht', true);
  if (cpu.vendor !== 'GenuineIntel') out.set('cmp-legacy', true);
  return out;
}

/**
 * The topology bits the guest reads with more than one logical processor in a package, as the lab
 * reads them (src/lab/fingerprint.ts): CPUID[1].EDX.HTT, and CPUID[0x80000001].ECX.CmpLegacy for a
 * vendor other than Intel (from 10.0 also not Zhaoxin). Before 10.0 cpu_x86_cpuid() ORs them in at
 * CPUID time whatever the accelerator; from 10.0 x86_cpu_expand_features() sets them as features
 * (target/i386/cpu.c, 10.2.0:8979-8991), which the accelerator then filters like any other: TCG
 * gives CmpLegacy (TCG_EXT3_FEATURES, 974-977), KVM what the host's expansion shows. A CPU without
 * a vendor (base: no model is loaded, so KVM does not give it the host's) is not Intel. Lab: KVM
 * fuzz seed 20261204, -cpu base -smp 2 from 10.0 (KVM on an Intel host filters CmpLegacy) to 5.2.
 */
function topologyBits(cpu: Props, accel: Props | null, features: ReadonlyMap<string, boolean>, spec: GuestSpec, host: TargetHost, m: MachineType): Props {
  const c = host.catalog;
  const t = smpTopology(spec.vcpus, c.version, m.version);
  if (t.cores * t.threads * t.dies <= 1) return {};
  const vendor = String(spec.cpu.properties?.vendor ?? accel?.vendor ?? cpu.vendor ?? '');
  const before10 = compareVersions(c.version, '10.0') < 0;
  const legacy = vendor !== 'GenuineIntel' && (before10 || !['CentaurHauls', '  Shanghai  '].includes(vendor));
  if (before10) return { ht: true, ...(legacy ? { 'cmp-legacy': true } : {}) };
  const out: Props = {};
  if (features.get('ht') !== false) out.ht = true;
  const given = host.profile.accel !== 'kvm' || hostCpuHas(host, 'cmp-legacy');
  const asked = legacy && features.get('cmp-legacy') !== false;
  if (asked && given) out['cmp-legacy'] = true;
  // From 10.0 the bits are set before the leaves are raised (x86_cpu_expand_features(), 10.2.0:
  // the threads_per_pkg block comes before x86_cpu_adjust_feat_level()), so cmp-legacy raises
  // xlevel to 0x80000001 even where KVM then filters it. Lab: KVM fuzz seed 20261215 (AMD host),
  // 486 with two threads 5.2 -> 10.0: xlevel 0 -> 0x80000001.
  if (asked) Object.assign(out, raisedLevels(cpu, new Map([['cmp-legacy', true]]), spec, c));
  return out;
}

/**
 * The topology QEMU derives from -smp (hw/core/machine-smp.c machine_parse_smp_config(); before
 * 6.2 pc_smp_parse()): maxcpus defaults to the count; of the parts not given, the first of
 * sockets, cores, threads (cores, sockets, threads from 6.2 on, except machine types before 6.2:
 * pc_compat_6_1 prefer_sockets) takes what maxcpus leaves, the others are 1. Compared, not the
 * words: "-smp 1" and "-smp 1,sockets=1,cores=1,threads=1" are the same guest.
 */
export function smpTopology(v: GuestSpec['vcpus'], build: string, machineVersion: string | null | undefined): Record<'sockets' | 'dies' | 'cores' | 'threads' | 'max', number> {
  const max = v.max ?? v.count;
  const dies = v.dies ?? 1;
  const preferSockets = compareVersions(build, '6.2') < 0 || (machineVersion !== null && machineVersion !== undefined && compareVersions(machineVersion, '6.2') < 0);
  const parts = { sockets: v.sockets, cores: v.cores, threads: v.threads };
  const order = preferSockets ? (['sockets', 'cores', 'threads'] as const) : (['cores', 'sockets', 'threads'] as const);
  const open = order.find((k) => parts[k] === undefined);
  const fixed = { sockets: parts.sockets ?? 1, cores: parts.cores ?? 1, threads: parts.threads ?? 1 };
  if (open) fixed[open] = Math.max(1, Math.floor(max / (dies * (open === 'sockets' ? 1 : fixed.sockets) * (open === 'cores' ? 1 : fixed.cores) * (open === 'threads' ? 1 : fixed.threads))));
  return { ...fixed, dies, max };
}

/** CPUID[7,0].EBX (target/i386/cpu.c feature_word_info[FEAT_7_0_EBX].feat_names). */
const LEAF_7_0_EBX = new Set(['fsgsbase', 'tsc-adjust', 'sgx', 'bmi1', 'hle', 'avx2', 'fdp-excptn-only', 'smep', 'bmi2', 'erms', 'invpcid', 'rtm', 'zero-fcs-fds', 'mpx', 'avx512f', 'avx512dq', 'rdseed', 'adx', 'smap', 'avx512ifma', 'pcommit', 'clflushopt', 'clwb', 'intel-pt', 'avx512pf', 'avx512er', 'avx512cd', 'sha-ni', 'avx512bw', 'avx512vl']);

/** Without full-cpuid-auto-level (old machine types) one rule still holds: a CPUID[7,0].EBX
 *  feature raises level to 7 (x86_cpu_expand_features(), "CPUID[EAX=7,ECX=0].EBX always
 *  increased level automatically"). Lab: fuzz seed 555, intel-pt on Conroe, pc-i440fx-2.3. */
function leaf7Level(cpu: Props, features: ReadonlyMap<string, boolean>, spec: GuestSpec): Props {
  if (![...features].some(([f, on]) => on && LEAF_7_0_EBX.has(f)) || Number(cpu['min-level'] ?? 0) >= 7) return {};
  return spec.cpu.properties?.level === undefined && Number(cpu.level ?? 0) < 7 ? { 'min-level': 7, level: 7 } : { 'min-level': 7 };
}

/**
 * With full-cpuid-auto-level every feature turned on raises min-level, min-xlevel and min-xlevel2
 * to the leaf it lives in, and level/xlevel/xlevel2 follow unless given (x86_cpu_expand_features():
 * x86_cpu_adjust_feat_level()); this happens before the host filters features, so a feature the
 * host then drops still moves the leaves the guest sees. Lab: fuzz seed 777,
 * srso-user-kernel-no=on on Icelake-Server-v4 raises xlevel from 0x80000008 to 0x80000021.
 */
function raisedLevels(cpu: Props, features: ReadonlyMap<string, boolean>, spec: GuestSpec, c: CatalogIndex): Props {
  const levels = c.data.cpuFeatureLevels;
  if (!levels) return {};
  if (cpu['full-cpuid-auto-level'] === false) return leaf7Level(cpu, features, spec);
  const out: Props = {};
  for (const [f, enabled] of features) {
    let lv = enabled ? levels[f] : undefined;
    // Intel PT needs leaf 0x14, and raises level to it only with x-intel-pt-auto-level (off on old
    // machine types); otherwise its own leaf, 7 (x86_cpu_expand_features()). Lab: fuzz seed 555.
    if (f === 'intel-pt' && lv && cpu['x-intel-pt-auto-level'] === false) lv = { level: 7 };
    if (!lv) continue;
    for (const k of ['level', 'xlevel', 'xlevel2'] as const) {
      const need = lv[k];
      const min = `min-${k}`;
      if (need === undefined || Number(out[min] ?? cpu[min] ?? 0) >= need) continue;
      out[min] = need;
      if (spec.cpu.properties?.[k] === undefined && Number(cpu[k] ?? 0) < need) out[k] = need;
    }
    // Leaf 7's subleaves have no min- property: level-func7 itself is raised.
    if (lv.func7 !== undefined && spec.cpu.properties?.['level-func7'] === undefined && Number(out['level-func7'] ?? cpu['level-func7'] ?? 0) < lv.func7) out['level-func7'] = lv.func7;
  }
  return out;
}

/**
 * What KVM sets on a named model beyond the catalog's (TCG) expansion: the build's KVM facts in
 * its catalog, with the host's vendor (a host-CPUID accelerator gives every model the host's
 * vendor: x86_cpu_load_model(), seen in every probe); else what the host profile's KVM sample
 * shows; else null (unknown). Undefined under TCG: the catalog is the TCG CPU.
 */
function accelDefaults(host: TargetHost, cpuName: string, m: MachineType): AccelDefaults | null | undefined {
  if (host.profile.accel !== 'kvm') return undefined;
  const known = m.probe === 'ok' ? host.catalog.kvmCpuDelta(cpuName, m.name) : undefined;
  const from = host.catalog.kvmDefaultsFrom()?.from;
  if (known && from) {
    // base has no model to load (x86_cpu_load_model()), so KVM does not give it the host's vendor.
    const vendor = host.catalog.cpuExpansion(cpuName)?.vendor === '' ? undefined : (host.profile.hostCpu.props?.vendor ?? host.profile.cpu.vendor);
    return { props: vendor === undefined ? known : { ...known, vendor }, from };
  }
  return host.accelCpuDelta ? { props: host.accelCpuDelta, from: 'profile' } : null;
}

/** Features the host cannot give a named model: with enforce QEMU refuses to start (a problem),
 *  without it drops them silently (returned). */
function featuresFiltered(spec: GuestSpec, host: TargetHost, cpuName: string, features: ReadonlyMap<string, boolean>, problems: Reason[]): string[] {
  let missing = missingFeatures(host, cpuName, features);
  if (!missing) {
    problems.push(
      reason('CPU_AVAILABILITY_UNKNOWN', 'warn', cpuName, `${host.name}'s profile does not say whether ${cpuName} can run there: it was probed with another QEMU build, or the build lists no such model`, {
        host: host.name,
        effect: 'unknown',
        remedy: `probe ${host.name} with the QEMU build it runs (guestabi probe --host-only)`,
      }),
    );
    missing = hostLacks(host, features);
  }
  if (!missing.length) return [];
  if (!spec.cpu.enforce) return missing;
  problems.push(
    reason('CPU_FEATURE_MISSING', 'error', cpuName, `QEMU refuses to start ${cpuName} with enforce on ${host.name}: ${missing.join(' ')} unavailable`, {
      host: host.name,
      details: missing,
      effect: 'impossible',
      remedy: `choose a CPU model ${host.name} can run (guestabi resolve), or disable ${missing.join(', ')}`,
    }),
  );
  return [];
}

/** The virtio-pci proxies (VirtIOPCIProxy): their PCIe capabilities depend on where they sit. */
export const VIRTIO_PCI = /^(virtio-.*-pci.*|vhost-.*-pci.*|virtio-vga.*)$/;

/** Modern-only virtio devices: their realize sets disable-modern=off and disable-legacy=on
 *  whatever the definition says (virtio_pci_force_virtio_1(), include/hw/virtio/virtio-pci.h,
 *  called by each of these in QEMU 10.2.0; vhost-vsock-pci only on 5.1+ types, left out), so the
 *  catalog's probed values stand. Lab: KVM fuzz seed 20261216, virtio-gpu-pci disable-modern=on
 *  on one side migrates 7.2 -> 5.2 with nothing changed. */
const FORCED_VIRTIO_1 = /^(virtio-gpu(-gl)?-pci|virtio-vga(-gl)?|virtio-(keyboard|mouse|tablet|multitouch|input-host)-pci|virtio-crypto-pci|virtio-iommu-pci|virtio-mem-pci|virtio-pmem-pci|virtio-snd-pci|vhost-user-vsock-pci|virtio-nsm-pci)$/;

/** A device in its placement class, with what the definition sets; a device QEMU refuses on this
 *  machine type is a problem. */
function runtimeDevice(d: GuestSpec['devices'][number], spec: GuestSpec, host: TargetHost, m: MachineType, visibility: GuestVisibility, problems: Reason[]): RuntimeDevice {
  const c = host.catalog;
  const key = catalogKey(d, c);
  const known = m.probe === 'ok' ? c.deviceOn(m.name, key) : undefined;
  const settings: Record<string, string> = {};
  const forced = FORCED_VIRTIO_1.test(d.type) ? VIRTIO_INTERFACE : [];
  for (const [k, v] of Object.entries(d.properties ?? {})) if (!visibility.deviceUnseen.has(k) && !forced.includes(k)) settings[k] = v;
  const globals = (spec.globals ?? []).filter((g) => globalApplies(g.driver, d.type, c) && !forced.includes(g.property));
  const why = m.refusedDevices?.[key];
  if (why && !why.startsWith('placement not probed')) {
    problems.push(reason('DEVICE_REFUSED', 'error', d.type, `QEMU ${c.version} refuses ${d.type} on ${m.name}: ${why}`, { host: host.name, effect: 'impossible' }));
  }
  const props = known ? withEdidModes(withSettings(known, settings, globals), known, c, m, key) : null;
  const drive = /^ide-(hd|cd|drive)$/.test(d.type);
  const position = drive && d.properties?.bus !== undefined ? `${d.properties.bus}:${d.properties.unit ?? '0'}` : undefined;
  const express = expressAtRealize(d, spec, c, m, props);
  return { type: d.type, id: d.id, placement: placementOf(d, c), props, settings, ...(express !== undefined ? { express } : {}), ...(drive ? { position } : {}) };
}

/**
 * Whether QEMU makes a virtio-pci device PCI Express (where its bus allows): virtio_pci_dc_realize()
 * sets QEMU_PCI_CAP_EXPRESS only on a device modern at that point and without x-disable-pcie (on
 * in hw_compat_2_4; the knob is gone in 10.2), before the device's own realize forces virtio 1 on
 * the modern-only types (hw/virtio/virtio-pci.c). So a modern-only type takes disable-modern from
 * the definition, a -global or the machine type's virtio-pci default (as probed on virtio-rng-pci),
 * and on pc-*-2.6 and older (disable-modern=on) it is conventional PCI even behind a root port.
 * Lab: TCG fuzz seed 20261218, virtio-gpu-pci ats=on behind a root port on pc-q35-2.6 migrates
 * 5.2 -> 10.0; scenarios virtio-gpu-forced-modern-not-express, virtio-gpu-express-one-side.
 */
function expressAtRealize(d: GuestSpec['devices'][number], spec: GuestSpec, c: CatalogIndex, m: MachineType, props: Props | null): boolean | undefined {
  if (!VIRTIO_PCI.test(d.type) || !props) return undefined;
  const modern = FORCED_VIRTIO_1.test(d.type) ? modernBeforeForced(d, spec, c, m) : props['disable-modern'] !== true;
  return modern === undefined ? undefined : modern && props['x-disable-pcie'] !== true;
}

/** disable-modern as a modern-only device has it before its realize forces virtio 1. */
function modernBeforeForced(d: GuestSpec['devices'][number], spec: GuestSpec, c: CatalogIndex, m: MachineType): boolean | undefined {
  const global = (spec.globals ?? []).filter((g) => g.property === 'disable-modern' && globalApplies(g.driver, d.type, c)).at(-1)?.value;
  const given = d.properties?.['disable-modern'] ?? global;
  if (given !== undefined) return onOff(given) === 'off';
  const reference = m.probe === 'ok' ? c.deviceOn(m.name, 'virtio-rng-pci')?.['disable-modern'] : undefined;
  return typeof reference === 'boolean' ? !reference : undefined;
}

/**
 * A display turned to edid=on where the machine type's default is off: QEMU then gives it the
 * build's default xres/yres, which a type with edid off shows as 0 (hw/display/vga-pci.c and
 * bochs-display.c: the EDID modes are set up only with edid). Taken from the family's newest type,
 * where edid is the default. Lab: fuzz seed 20261201, bochs-display,edid=on on pc-i440fx-2.4 reads
 * 1024x768 on 5.2 and 1280x800 on 10.0.
 */
function withEdidModes(props: Props, known: Props, c: CatalogIndex, m: MachineType, key: string): Props {
  if (!('edid' in props) || (props.edid === known.edid && props.mmio === known.mmio)) return props;
  // VGA builds its EDID only with its MMIO BAR (hw/display/vga-pci.c pci_std_vga_realize()).
  if (props.edid !== true || props.mmio === false) return 'xres' in props ? { ...props, xres: 0, yres: 0 } : props;
  if (props.xres !== 0 && props.yres !== 0) return props;
  const baseline = c.data.families[m.family]?.baseline;
  const modes = baseline ? c.deviceOn(baseline, key) : undefined;
  if (modes?.edid !== true || modes.xres === undefined || modes.yres === undefined) return props;
  return { ...props, xres: modes.xres, yres: modes.yres };
}

/** The catalog's properties of a device with the -global options and settings that apply to it;
 *  the catalog's own map when there are none. */
function withSettings(known: Props, settings: Record<string, string>, globals: NonNullable<GuestSpec['globals']>): Props {
  if (!Object.keys(settings).length && !globals.length) return known;
  const props = { ...known };
  for (const g of globals) if (g.property in props) props[g.property] = typedValue(g.value, props[g.property]);
  // A setting qtree does not show (an alias onto a child object, such as qemu-xhci's p2) is
  // compared as written.
  for (const [k, v] of Object.entries(settings)) props[k] = typedValue(v, props[k] ?? guessType(v));
  if ('disable-legacy' in settings || 'disable-modern' in settings) for (const k of Object.keys(props)) if (k.startsWith('pci.')) delete props[k];
  return props;
}

/** A CPU model by its versioned name on this machine type (power9 -> power9_v2.0). */
export function versionedCpu(c: CatalogIndex, m: MachineType, name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  return m.cpuAliasOf?.[name] ?? c.cpuModel(name)?.aliasOf ?? name;
}

/**
 * The family's guest-ABI options (pseries capabilities) as the CPU model makes them, and what
 * QEMU refuses (catalog machineOptions, probed on the family's newest type; tcgRequires). A
 * server CPU that lacks a capability forces it off or broken (hw/ppc/spapr_caps.c
 * default_caps_with_cpu()): exact when the type's own default CPU forces nothing, else unknown.
 */
function withCpuOptions(board: Map<string, Props> | null, spec: GuestSpec, host: TargetHost, m: MachineType, cpuName: string | null, problems: Reason[]): { board: Map<string, Props> | null; machineDefaults?: Props } {
  const c = host.catalog;
  const tcg = host.profile.accel === 'tcg';
  for (const [k, v] of Object.entries(m.tcgRequires ?? {})) {
    const [option, value] = k.split('=') as [string, string];
    if (spec.machine.options?.[option] === value) continue;
    problems.push(reason(tcg ? 'MACHINE_OPTION_REFUSED' : 'MACHINE_OPTIONS_UNKNOWN', tcg ? 'error' : 'warn', `machine.${option}`, tcg ? `QEMU ${c.version} does not start ${m.name} under TCG without -machine ${k} ("${v}")` : `the catalog measured ${m.name} with -machine ${k} (TCG needs it): its default here is not known`, { host: host.name, effect: tcg ? 'impossible' : 'unknown', remedy: `add -machine ${k}` }));
  }
  const mo = c.data.machineOptions?.[m.family];
  const machineProps = board?.get('board/machine');
  const typeDefaults = c.deviceOn(m.name, 'board/machine');
  if (!mo || !board || !machineProps || !typeDefaults) return { board };
  const model = versionedCpu(c, m, cpuName);
  const own = versionedCpu(c, m, m.defaultCpuType);
  const top = versionedCpu(c, c.machine(mo.probedOn)!, c.machine(mo.probedOn)?.defaultCpuType);
  let props = machineProps;
  let machineDefaults = typeDefaults;
  if (model !== own) {
    // The type's defaults as the newest CPU leaves them, then what this CPU forces off.
    const untrimmed = own === top ? typeDefaults : mo.typeDefaults[m.name] ? { ...typeDefaults, ...mo.typeDefaults[m.name] } : undefined;
    if (!model || !untrimmed || (model !== top && !mo.cpus.includes(model))) {
      problems.push(reason('MACHINE_OPTIONS_UNKNOWN', 'warn', 'machine', `what -cpu ${cpuName} does to the machine options of ${m.name} (pseries capabilities, virt parts) was not probed (QEMU ${c.version})`, { host: host.name, effect: 'unknown' }));
      return { board };
    }
    machineDefaults = { ...untrimmed, ...((mo.cpuDeltas[model] ?? {}) as Props) };
    const given = spec.machine.options ?? {};
    props = { ...machineProps, ...Object.fromEntries(Object.entries(machineDefaults).filter(([k]) => k.startsWith('cap-') && !(k in given))) };
  }
  const refused = tcg && model ? mo.refused[model] ?? {} : {};
  if ((spec.vcpus.threads ?? 1) > 1 && refused[SMT]) problems.push(reason('MACHINE_OPTION_REFUSED', 'error', 'smp.threads', `QEMU ${c.version} refuses ${spec.vcpus.threads} threads per core with -cpu ${cpuName} on ${m.family} under TCG ("${refused[SMT]}")`, { host: host.name, effect: 'impossible', remedy: 'give the vCPUs one thread per core' }));
  for (const [k, v] of Object.entries(props)) {
    const words = refused[`${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)}`];
    if (words) problems.push(reason('MACHINE_OPTION_REFUSED', 'error', `machine.${k}`, `QEMU ${c.version} refuses ${k}=${String(v)} with -cpu ${cpuName} under TCG ("${words}")`, { host: host.name, effect: 'impossible', remedy: `set ${k} to a value the CPU and accelerator give` }));
  }
  return { board: props === machineProps ? board : new Map(board).set('board/machine', props), machineDefaults };
}

/** The machine type's own devices, with the -machine options (the machine object's properties). */
function boardWithOptions(spec: GuestSpec, host: TargetHost, machine: string, forced: Record<string, string>): Map<string, Props> | null {
  const all = host.catalog.devicesOn(machine);
  if (!all) return null;
  const board = boardOf(all);
  const mp = board.get('board/machine');
  const options = { ...spec.machine.options, ...forced };
  if (!mp || !Object.keys(options).length) return board;
  const withOptions = { ...mp };
  for (const [k, v] of Object.entries(options)) if (k in mp) withOptions[k] = typedValue(v, mp[k]);
  // vmport=auto is resolved when the board is built: from QEMU 10.0 it follows the i8042 (no
  // keyboard controller, no VMware port: hw/i386/pc.c pc_basic_device_init()); 7.2 gives it
  // anyway. Lab: fuzz seed 20261201, i8042=off on pc-i440fx-4.1 reads vmport off on 10.0, on on 7.2.
  const vmportAuto = spec.machine.options?.vmport === undefined || spec.machine.options.vmport === 'auto';
  if (vmportAuto && withOptions.i8042 === false && withOptions.vmport === 'on' && compareVersions(host.catalog.version, '10.0') >= 0) withOptions.vmport = 'off';
  const out = new Map(board).set('board/machine', withOptions);
  // A part turned off is not on the board; one turned on that the type lacks by default cannot be
  // measured, and stays as the catalog has it (the machine property still differs).
  for (const [option, types] of Object.entries(PART_DEVICES)) {
    const v = spec.machine.options?.[option];
    if (v === undefined || !/^(off|false|no)$/i.test(v)) continue;
    for (const k of [...out.keys()]) if (types.includes(k.slice(6).replace(/#\d+$/, ''))) out.delete(k);
  }
  return out;
}

/**
 * The board devices a -machine option adds (hw/i386/pc.c pc_basic_device_init(): hpet, pit, and
 * the i8042 with its PS/2 keyboard and mouse; hw/i386/pc_q35.c: ich9-ahci for sata; vmport):
 * turned off, they are not on the board, so their presence decides what a migration does, and
 * on a board that never has them (sata on i440fx) the option changes nothing but its own value.
 * Lab: fuzz seed 555 (i8042=off, sata=off on i440fx).
 */
export const PART_DEVICES: Readonly<Record<string, readonly string[]>> = {
  sata: ['ich9-ahci'],
  i8042: ['i8042', 'ps2-kbd', 'ps2-mouse'],
  hpet: ['hpet'],
  vmport: ['vmport'],
  pit: ['isa-pit', 'kvm-pit'],
};

const derived = new WeakMap<Props, Map<string, Props>>();
/** Distinct changes kept per base map: definitions a server is sent could otherwise grow it without end. */
const DERIVED_KEPT = 256;
/**
 * A CPU map with what the definition sets, the features the host filters away and what the
 * accelerator adds, built once per base map and distinct change: platforms that get the same CPU
 * share one map (never modified), so the differences worked out between two maps are reused
 * (guestVisibleDiff caches by map).
 */
/**
 * The XSAVE state components of CPUID leaf 0xD QEMU gives a vCPU: worked out from the features
 * asked for, before the host filters any away (target/i386/cpu.c x86_cpu_expand_features() calls
 * x86_cpu_enable_xsave_components() before x86_cpu_filter_features(); none without xsave). So a
 * feature the host filters away (xsave, avx) still leaves its component, where the same feature
 * turned off does not. Kept as a CPU property (`xsave-components`) of every named x86 model, and
 * compared. Lab: fuzz seed 20261211 (KVM, 5.2 -> 7.2), IvyBridge-v2 with xsave
 * filtered against IvyBridge-v2,xsave=off: leaf 0xD EAX 7 against 0.
 */
export const XSAVE_COMPONENTS_KEY = 'xsave-components';

/** What QEMU computes from the features asked, less what the accelerator does not keep:
 *  x86_cpu_filter_features() filters the FEAT_XSAVE_XCR0_LO word too. Under TCG the build's
 *  tcgXsaveComponents (probed; from QEMU 9.2 TCG keeps only x87 sse avx bndregs bndcsr pkru, commit
 *  "target/i386: cpu: set correct supported XCR0 features for TCG"); under KVM the host profile's
 *  kvmXsaveComponents (probed). A KVM profile without them: the components asked are kept, which
 *  can only report a difference that is not there (both sides run on hosts of the kind the profiles
 *  describe). A TCG catalog without the fact: the value is not known. Lab: TCG fuzz seed 20261214,
 *  Broadwell-noTSX-IBRS,amx-tile=on on 10.0; KVM fuzz seed 20261219, EPYC-Rome-v1,mpx=on on an AMD
 *  host (no MPX: the components stay x87 sse avx). */
function xsaveComponents(asked: Props, host: TargetHost, problems: Reason[]): string | undefined {
  if (asked.xsave !== true) return 'none';
  const kept = host.profile.accel === 'kvm' ? host.profile.kvmXsaveComponents : host.catalog.data.tcgXsaveComponents;
  if (host.profile.accel !== 'kvm' && !kept) {
    problems.push(reason('CPU_UNKNOWN', 'warn', 'xsave-components', `the catalog of QEMU ${host.catalog.version} does not record which XSAVE state components TCG keeps (CPUID leaf 0xD)`, { host: host.name, effect: 'unknown', remedy: 'probe the build again: guestabi catalog regen --update' }));
    return undefined;
  }
  const on = XSAVE_COMPONENTS.filter((c) => asked[c.feature] === true && (!kept || kept.includes(c.component)));
  return on.map((c) => c.component).join(' ') || 'none';
}

function derivedCpu(base: Props, features: Map<string, boolean>, properties: Props, filtered: string[], accel: Props | null): Props {
  const key = JSON.stringify([[...features], properties, filtered, accel]);
  let byChange = derived.get(base);
  if (!byChange) derived.set(base, (byChange = new Map()));
  let cpu = byChange.get(key);
  if (!cpu) {
    cpu = { ...base };
    for (const [f, on] of features) cpu[f] = on;
    for (const [k, v] of Object.entries(properties)) cpu[k] = v;
    for (const f of filtered) cpu[f] = false;
    if (accel) for (const [k, v] of Object.entries(accel)) if (!features.has(k) && !filtered.includes(k)) cpu[k] = v;
    if (byChange.size < DERIVED_KEPT) byChange.set(key, cpu);
  }
  return cpu;
}

const boards = new WeakMap<Map<string, Props>, Map<string, Props>>();
/** The board devices of a machine type (its `board/` entries), worked out once per catalog map:
 *  shared by every platform on that machine type, so that what is derived from it is cached too. */
function boardOf(all: Map<string, Props>): Map<string, Props> {
  let board = boards.get(all);
  if (!board) {
    board = new Map();
    for (const [k, v] of all) if (k.startsWith('board/')) board.set(k, v);
    boards.set(all, board);
  }
  return board;
}
