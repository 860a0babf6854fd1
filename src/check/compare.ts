import { compareVersions } from '../util/versions.js';
import { parseMachineName } from '../catalog/names.js';
import { cpuMigratableOff } from '../resolve/cpu-features.js';
import { placedKey } from '../resolve/devices.js';
import type { Props, PropValue } from '../model/common.js';
import { registerMigration } from '../registers/migrate.js';
import { levelAccepted } from '../registers/levels.js';
import { idRegisterCheck } from '../registers/id-regs.js';
import { spaprLevel } from '../registers/spapr.js';
import { viommuAnswer } from './viommu.js';
import { reason, type Reason } from '../model/reason.js';
import type { Outcome } from '../model/verdict.js';
import type { CatalogIndex } from '../catalog/catalog.js';
import { MIGRATION_STREAM_PROPERTIES, type MigrationStreamProperty } from '../model/catalog.js';
import { outcomeOf } from './outcome.js';
import { guestVisibleDiff, versionIs, type Rules } from './rules.js';
import { hasMceBanks, hasNoLocalApic, PART_DEVICES, smpTopology, versionedCpu, VIRTIO_PCI, type RuntimeDevice, type RuntimePlatform } from './runtime.js';

const show = (v: PropValue | undefined) => (v === undefined ? '(absent)' : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Pair the two sides' devices: by id where both name them, then by type and placement in order. */
export function pairDevices(a: RuntimeDevice[], b: RuntimeDevice[]): { pairs: [RuntimeDevice, RuntimeDevice][]; onlyA: RuntimeDevice[]; onlyB: RuntimeDevice[] } {
  const pairs: [RuntimeDevice, RuntimeDevice][] = [];
  const restB = [...b];
  const onlyA: RuntimeDevice[] = [];
  const take = (pred: (d: RuntimeDevice) => boolean) => {
    const i = restB.findIndex(pred);
    return i < 0 ? undefined : restB.splice(i, 1)[0];
  };
  const unpaired: RuntimeDevice[] = [];
  for (const d of a) {
    const same = d.id !== undefined ? take((x) => x.id === d.id) : undefined;
    if (same) pairs.push([d, same]);
    else unpaired.push(d);
  }
  for (const d of unpaired) {
    const same = take((x) => x.type === d.type && x.placement === d.placement) ?? take((x) => x.type === d.type);
    if (same) pairs.push([d, same]);
    else onlyA.push(d);
  }
  return { pairs, onlyA, onlyB: restB };
}

function effectOf(fails: boolean): Exclude<Outcome, 'safe'> {
  return fails ? 'impossible' : 'unsafe';
}

/** Whether a machine option value turns its part on ('auto' gives PC machines the part). */
const partOn = (v: PropValue | undefined) => v === true || v === 'on' || v === 'auto';

/** Property differences of one device (or board device), each with what it does to a migration. */
function propertyReasons(subject: string, a: Props, b: Props, rules: Rules, code: Reason['code'], unseen?: RegExp, type?: string): Reason[] {
  const out: Reason[] = [];
  const parts = rules.data.machineOptionsAddingParts;
  for (const d of guestVisibleDiff(a, b, rules)) {
    let rule = rules.propertyEffect(d.property, type);
    // A PCIe-only knob of a device without PCI Express capabilities here: nothing of it is in the
    // config space the destination compares, but the device's configuration still differs (the lab
    // compares it; fuzz seed 20261208, virtio-blk-pci aer=on on one side of pc-i440fx-2.6).
    const conventional = rules.data.conventionalPci;
    if (unseen?.test(d.property) && conventional) rule = { effect: 'silent', why: 'the device has no PCI Express capabilities where it sits (a conventional PCI bus, or a virtio device on the root complex or behind a PCI bridge): the destination compares nothing of it, but the device is configured otherwise', source: `${conventional.source}; QEMU hw/virtio/virtio-pci.c virtio_pci_realize() (pcie_port)` };
    const modern = rules.data.modernOnly;
    if (rule.effect === 'fails' && modern && a['disable-modern'] === true && b['disable-modern'] === true && rules.modernOnly?.test(d.property)) {
      rule = { effect: 'silent', why: modern.why, source: modern.source };
    }
    if (subject === 'board/machine' && PART_DEVICES[d.property]) {
      rule = { effect: 'silent', why: 'a -machine option whose part is compared by its presence on the board; the option itself differs', source: parts.evidence };
    } else if (subject === 'board/machine' && parts.options.includes(d.property)) {
      const onSourceOnly = partOn(d.a) && !partOn(d.b);
      rule = { effect: onSourceOnly ? 'fails' : 'silent', why: `${parts.why}, ${onSourceOnly ? 'on the source only: its state has nowhere to go' : 'on the destination only: the guest finds a new part'}`, source: parts.evidence };
    }
    out.push(
      reason(code, rule.effect === 'fails' ? 'error' : 'warn', `${subject}.${d.property}`, `${subject}: ${d.property} is ${show(d.a)} on the source and ${show(d.b)} on the destination; ${rule.why}`, {
        a: d.a ?? null,
        b: d.b ?? null,
        effect: effectOf(rule.effect === 'fails'),
        source: rule.source,
        remedy: `set ${d.property}=${show(d.a)} explicitly on the destination, or pin a machine type whose default matches`,
      }),
    );
  }
  return out;
}

/** Devices that set up MSI or MSI-X when there is a local APIC to deliver them. */
const MSI_USERS = /^(virtio-.*-pci.*|virtio-vga.*|e1000e|qemu-xhci|nec-usb-xhci|nvme|ich9-ahci|intel-hda|ich9-intel-hda|megasas.*|mptsas1068|vmxnet3|pvscsi|pcie-root-port|ioh3420)$/;

/** Devices a destination build cannot load from a vCPU without a local APIC (rules: brokenWithoutApic),
 *  and a local APIC on one side only: the devices' interrupt state (MSI vectors in use) and the
 *  APIC's own section do not load. Lab: fuzz seed 20261201 (486 -> Snowridge "Failed to load
 *  virtio-console:virtio"; apic=off with one vCPU -> two "Failed to load ich9_ahci:parent_obj"). */
function noApicBroken({ src, dst, rules, to }: Comparison): Reason[] {
  const [a, b] = [hasNoLocalApic(src, src.spec), hasNoLocalApic(dst, dst.spec)];
  if (a !== b) {
    // On the source only, the APIC's section has nowhere to go; on the destination only, the guest
    // finds one in its reset state, unless a device was set up without MSI and now has it.
    const msi = src.devices.filter((d) => MSI_USERS.test(d.type)).map((d) => d.type);
    if (src.machine && src.host.catalog.machine(src.machine)?.family === 'pc-q35') msi.push('ich9-ahci (q35 board)');
    const fails = !a || msi.length > 0;
    return [
      reason('LOCAL_APIC_DIFFERS', fails ? 'error' : 'warn', 'cpu.apic', `the vCPU has ${a ? 'no local APIC' : 'a local APIC'} on the source and ${b ? 'none' : 'one'} on the destination${fails ? `: ${!a ? "the APIC's state has nowhere to go" : `${msi.join(', ')} use MSI on the destination only`}` : ': the guest finds a new one'}`, {
        a: !a,
        b: !b,
        effect: fails ? 'impossible' : 'unsafe',
        remedy: 'give both sides a CPU model with apic (or more than one vCPU)',
      }),
    ];
  }
  if (!a) return [];
  const out: Reason[] = [];
  for (const rule of rules.data.brokenWithoutApic ?? []) {
    if (compareVersions(to, rule.destinationFrom) < 0) continue;
    for (const d of src.devices.filter((x) => rule.types.includes(x.type))) {
      out.push(reason('DEVICE_MIGRATION_BROKEN', 'error', d.id ?? d.type, `${d.type} on a vCPU without a local APIC (${src.cpuName}): QEMU ${to} cannot load its state: ${rule.why}`, { effect: 'impossible', source: rule.evidence, remedy: 'use a CPU model with apic' }));
    }
  }
  return out;
}

/** Under KVM the source's machine-check state (the cpu/mce section, mcg_cap included) loads into a
 *  destination vCPU that has no banks; QEMU then writes MCG_CTL and the bank MSRs into a vCPU
 *  KVM set up without them, and the destination aborts ("failed to set MSR 0x17b", kvm_put_msrs()
 *  after the load). Under TCG the state just loads. Lab: KVM fuzz seeds 20261215 (EPYC-v4 ->
 *  qemu32-v1) and 20261217 (kvm32 -> pentium-v1). */
function mceBanks({ src, dst }: Comparison): Reason[] {
  if (dst.host.profile.accel !== 'kvm' || hasMceBanks(src.cpu) !== true || hasMceBanks(dst.cpu) !== false) return [];
  return [
    reason('MCE_BANKS_DIFFER', 'error', 'cpu.mca', `under KVM the source's vCPU has machine-check banks (${src.cpuName}: mce, mca, family ${String(src.cpu!.family)}) and the destination's none (${dst.cpuName}): loading them, QEMU writes MSRs the destination's KVM vCPU does not have and aborts`, {
      a: true,
      b: false,
      effect: 'impossible',
      remedy: 'give the destination a CPU model with mce and mca (family 6 or later), as the source',
    }),
  ];
}

/** The PCIe-only properties, when both machine types have no PCI Express bus (rules: conventionalPci). */
function conventionalPci({ src, dst, rules }: Comparison): RegExp | undefined {
  const r = rules.data.conventionalPci;
  const family = (p: RuntimePlatform) => (p.machine ? p.host.catalog.machine(p.machine)?.family : undefined);
  if (!r || !r.families.includes(family(src) ?? '') || !r.families.includes(family(dst) ?? '')) return undefined;
  return rules.conventionalPci ?? undefined;
}

/** What every comparer is given: both sides on the same machine type, the rules, and what is
 *  worked out once for the pair. */
interface Comparison {
  src: RuntimePlatform;
  dst: RuntimePlatform;
  rules: Rules;
  machine: string;
  /** The same QEMU build on both sides: catalog entries it does not know compare by identity. */
  sameBuild: boolean;
  /** The two QEMU versions. */
  from: string;
  to: string;
}

/** One topic of the comparison: the reasons it finds, in the order they are reported. */
type Comparer = (c: Comparison) => Reason[];

/** The topics, in the order their reasons are reported (expected-output files pin this order). */
const COMPARERS: Comparer[] = [
  machineType,
  machineOptions,
  unmodelledOptions,
  globalOptions,
  firmware,
  memoryHotplug,
  migrationBlockers,
  kvmDefaults,
  memorySize,
  vcpus,
  cpu,
  cpuIdentity,
  armRegisters,
  firmwareRegisters,
  devices,
  assignedDevices,
  noApicBroken,
  mceBanks,
  board,
  spaprCaps,
];

/**
 * Everything the guest would see differently, or that QEMU would refuse, when a guest running as
 * `src` migrates to a QEMU started as `dst`. Same build and same definition on both sides makes
 * unknown catalog entries comparable by identity; across builds they are unknown.
 */
export function comparePlatforms(src: RuntimePlatform, dst: RuntimePlatform, rules: Rules): Reason[] {
  const out: Reason[] = [];
  for (const p of src.problems) out.push({ ...p, code: p.code === 'MACHINE_TYPE_UNKNOWN' ? 'SOURCE_CANNOT_START' : p.code, message: `the guest cannot start on the source: ${p.message}` });
  out.push(...dst.problems);
  if (!src.machine || !dst.machine) return out;
  // Another machine type: QEMU refuses the stream before anything else could matter, unless
  // both sides turned the configuration section (which carries the machine type) off.
  const unchecked = streamGlobal(src, 'send-configuration') === false && streamGlobal(dst, 'send-configuration') === false;
  if (src.machine !== dst.machine && unchecked) {
    out.push(
      reason('MACHINE_TYPE_CHECK_OFF', 'warn', 'machine', `the source runs ${src.machine} and the destination ${dst.machine}, and migration.send-configuration is off on both sides (source: ${sendConfigurationOff(src)}; destination: ${sendConfigurationOff(dst)}), which turns off QEMU's machine type check: the guest's platform is compared as each type gives it`, {
        a: src.machine,
        b: dst.machine,
        remedy: `start the destination with -machine ${src.machine}`,
        source: 'QEMU migration/savevm.c: the configuration section (machine type name) is sent and checked only when send-configuration is on; lab scenario send-configuration-off-machine-differs',
      }),
    );
  } else if (src.machine !== dst.machine) {
    out.push(
      reason('MACHINE_TYPE_DIFFERS', 'error', 'machine', `the source runs ${src.machine} and the destination ${dst.machine}: QEMU refuses the stream ("Machine type received is ...")`, {
        a: src.machine,
        b: dst.machine,
        effect: 'impossible',
        remedy: `start the destination with -machine ${src.machine} (pin the machine type: guestabi resolve)`,
      }),
    );
    return out;
  }
  const c: Comparison = { src, dst, rules, machine: src.machine, sameBuild: src.host.catalog.id === dst.host.catalog.id, from: src.host.catalog.version, to: dst.host.catalog.version };
  for (const compare of COMPARERS) out.push(...compare(c));
  return out;
}

/** A QEMU version pair known to break on this machine type, and a type the destination deprecates. */
function machineType({ src, dst, rules, machine, from, to }: Comparison): Reason[] {
  const out: Reason[] = [];
  const broken = rules.knownBroken(from, to, machine, src.board?.get('board/machine'));
  if (broken) out.push(reason('KNOWN_BROKEN_PAIR', 'error', machine, `QEMU ${from} to ${to} on ${machine} is known to fail: ${broken.why}`, { effect: 'impossible', source: broken.source }));
  if (dst.host.catalog.machine(machine)?.deprecated && !src.host.catalog.machine(machine)?.deprecated) {
    out.push(reason('MACHINE_TYPE_DEPRECATED', 'warn', machine, `${machine} is deprecated in QEMU ${to}: a later upgrade may remove it`, { remedy: 'plan a move to a current machine type' }));
  }
  return out;
}

/** -machine options the catalog does not know as machine properties (those are compared with the board). */
function machineOptions({ src, dst }: Comparison): Reason[] {
  const out: Reason[] = [];
  // An option the other build's machine has and this one's lacks: QEMU refuses it ("Property not
  // found"). Lab: fuzz seed 555, -machine pc-q35-2.9,i8042=off on 5.2.
  for (const [self, other, side] of [[src, dst, 'source'], [dst, src, 'destination']] as const) {
    const own = self.board?.get('board/machine');
    const theirs = other.board?.get('board/machine');
    if (!own || !theirs) continue;
    for (const k of Object.keys(self.machineOptions).filter((o) => o in theirs && !(o in own))) {
      out.push(reason('MACHINE_OPTION_UNKNOWN', 'error', `machine.${k}`, `QEMU ${self.host.catalog.version} on the ${side} has no -machine option ${k}: it refuses to start`, { effect: 'impossible', remedy: `leave ${k} out, or run the guest on a build that has it` }));
    }
  }
  const machineProps = src.board?.get('board/machine');
  for (const k of new Set([...Object.keys(src.machineOptions), ...Object.keys(dst.machineOptions)])) {
    if (machineProps && k in machineProps) continue;
    if (src.machineOptions[k] === dst.machineOptions[k]) continue;
    out.push(
      reason('MACHINE_OPTION_DIFFERS', 'warn', `machine.${k}`, `-machine ${k} is ${src.machineOptions[k] ?? '(default)'} on the source and ${dst.machineOptions[k] ?? '(default)'} on the destination`, {
        a: src.machineOptions[k] ?? null,
        b: dst.machineOptions[k] ?? null,
        effect: 'unknown',
      }),
    );
  }
  return out;
}

/** What the definitions say that guestabi does not model: compared as written. */
function unmodelledOptions({ src, dst }: Comparison): Reason[] {
  const text = (p: RuntimePlatform) => JSON.stringify([...(p.spec.unmodelled ?? [])].sort());
  if (text(src) !== text(dst)) {
    return [
      reason('UNMODELLED_OPTION_DIFFERS', 'warn', 'options', 'the two definitions differ in options guestabi does not model', {
        details: [...(src.spec.unmodelled ?? []).map((o) => `source: ${o}`), ...(dst.spec.unmodelled ?? []).map((o) => `destination: ${o}`)],
        effect: 'unknown',
      }),
    ];
  }
  if (!src.spec.unmodelled?.length) return [];
  const options = src.spec.unmodelled.join(' ');
  if (src.host.catalog.id === dst.host.catalog.id) {
    return [reason('UNMODELLED_OPTIONS', 'info', 'options', `both sides have ${options}, which guestabi does not model`, { details: src.spec.unmodelled })];
  }
  // The same words can mean another platform on another build (a default or a compat property of
  // what they create): never safe without evidence.
  return [
    reason('UNMODELLED_OPTIONS_ACROSS_BUILDS', 'warn', 'options', `both sides have ${options}, which guestabi does not model; QEMU ${src.host.catalog.version} and ${dst.host.catalog.version} may give them differently`, {
      details: src.spec.unmodelled,
      a: src.host.catalog.version,
      b: dst.host.catalog.version,
      effect: 'unknown',
      remedy: 'prove this pair with guestabi lab migrate, or remove the options',
    }),
  ];
}

/** -global options given on one side only. */
function globalOptions({ src, dst }: Comparison): Reason[] {
  const globals = (p: RuntimePlatform) => new Set((p.spec.globals ?? []).map((g) => `${g.driver}.${g.property}=${g.value}`));
  const ga = globals(src);
  const gb = globals(dst);
  const out: Reason[] = [];
  for (const property of MIGRATION_STREAM_PROPERTIES) {
    const a = streamGlobal(src, property);
    const b = streamGlobal(dst, property);
    if (a === b) continue;
    if (a === undefined || b === undefined) {
      out.push(...streamUnprobed(src, dst, property));
      continue;
    }
    out.push(
      reason('MIGRATION_STREAM_FORMAT_DIFFERS', 'error', `migration.${property}`, `migration.${property} is ${a ? 'on' : 'off'} on the source and ${b ? 'on' : 'off'} on the destination: the two sides write and read another stream ("Configuration section missing", "Unknown savevm section type")`, {
        a,
        b,
        effect: 'impossible',
        remedy: `give -global migration.${property} the same value on both sides`,
        source: 'QEMU migration/savevm.c (qemu_savevm_state_header(), qemu_loadvm_state(), check_section_footer(), global_state); lab scenarios send-configuration-*-only',
      }),
    );
  }
  for (const g of new Set([...ga, ...gb])) {
    if (ga.has(g) && gb.has(g)) continue;
    if (MIGRATION_STREAM_PROPERTIES.some((p) => g.startsWith(`migration.${p}=`))) continue;
    out.push(reason('GLOBAL_DIFFERS', 'warn', g, `-global ${g} is given ${ga.has(g) ? 'on the source only' : 'on the destination only'}`, { effect: 'unknown', remedy: 'give the same -global options on both sides' }));
  }
  return out;
}

/** A stream property the catalog did not probe on one side: the same machine type sets the same
 *  value on both, so only a -global on the other side can make them differ, and then whether it
 *  does is not known. */
function streamUnprobed(src: RuntimePlatform, dst: RuntimePlatform, property: MigrationStreamProperty): Reason[] {
  const unprobed = streamGlobal(src, property) === undefined ? src : dst;
  const given = unprobed === src ? dst : src;
  if (streamGlobalGiven(given, property) === undefined) return [];
  return [
    reason('MIGRATION_STREAM_FORMAT_DIFFERS', 'warn', `migration.${property}`, `migration.${property} is set by -global on the ${given === src ? 'source' : 'destination'} only, and the catalog of QEMU ${unprobed.host.catalog.version} did not probe what ${unprobed.machine} sets on the other side`, {
      a: streamGlobal(src, property) ?? null,
      b: streamGlobal(dst, property) ?? null,
      effect: 'unknown',
      remedy: `give -global migration.${property} the same value on both sides, or probe the build again: guestabi catalog regen --update`,
    }),
  ];
}

/** Who turned send-configuration off on one side: a -global or the machine type. */
function sendConfigurationOff(p: RuntimePlatform): string {
  const given = streamGlobalGiven(p, 'send-configuration');
  return given !== undefined ? `-global migration.send-configuration=${given}` : `the default of ${p.machine}`;
}

/** A migration stream property on one side: as -global sets it, else as the machine type sets it
 *  (probed; pc-*-2.3 and older turn them off); undefined: QEMU's default, on, unless the catalog
 *  did not probe the type. Lab: KVM fuzz seed 20261219, pc-i440fx-2.1 -> pc-i440fx-2.3 migrates
 *  (neither sends the configuration section, so nothing compares the types). */
function streamGlobal(p: RuntimePlatform, property: MigrationStreamProperty): boolean | undefined {
  const g = streamGlobalGiven(p, property);
  if (g) return !/^(off|false|no|0)$/i.test(g);
  return p.machine ? p.host.catalog.machine(p.machine)?.migrationStream?.[property] : undefined;
}

/** The value a -global gives a migration stream property on one side, as written. */
function streamGlobalGiven(p: RuntimePlatform, property: MigrationStreamProperty): string | undefined {
  return (p.spec.globals ?? []).filter((x) => x.driver === 'migration' && x.property === property).pop()?.value;
}

function firmware({ src, dst }: Comparison): Reason[] {
  const fw = (p: RuntimePlatform) => p.spec.firmware ?? 'bios';
  if (fw(src) === fw(dst)) return [];
  return [reason('FIRMWARE_DIFFERS', 'warn', 'firmware', `the source boots ${fw(src)}, the destination ${fw(dst)}: their ROM and flash devices differ`, { a: fw(src), b: fw(dst), effect: 'unknown' })];
}

/**
 * Memory hotplug: the slots size the ACPI memory hotplug state (hw/acpi/memory_hotplug.c,
 * vmstate_memory_hotplug: an array of dev_count = slots entries, sent in the PM device's "memhp"
 * subsection only when hotplug is on), so another count, or hotplug on one side only, fails to
 * load ("Missing section footer for .../ICH9LPC"); maxmem alone moves the hotplug range the
 * guest is told about (machine memory.max-size). Lab: scenarios memory-slots-* and maxmem-differs.
 */
function memoryHotplug({ src, dst }: Comparison): Reason[] {
  const a = src.spec.memory;
  const b = dst.spec.memory;
  const slots = (m: typeof a) => (m.maxMiB !== undefined ? (m.slots ?? 0) : 0);
  if (slots(src.spec.memory) !== slots(dst.spec.memory)) {
    return [
      reason('MEMORY_SLOTS_DIFFERS', 'error', 'memory.slots', `memory hotplug slots: ${slots(a) || 'none'} on the source, ${slots(b) || 'none'} on the destination: the ACPI memory hotplug state does not load`, {
        a: slots(a),
        b: slots(b),
        effect: 'impossible',
        remedy: 'give the destination the same -m slots= and maxmem= as the source',
        source: 'QEMU hw/acpi/memory_hotplug.c vmstate_memory_hotplug (devs array of dev_count = slots); lab: Missing section footer for 0000:00:1f.0/ICH9LPC',
      }),
    ];
  }
  if (a.maxMiB === b.maxMiB) return [];
  return [
    reason('MEMORY_MAXMEM_DIFFERS', 'warn', 'memory.maxmem', `maxmem ${a.maxMiB ?? '-'} MiB on the source, ${b.maxMiB ?? '-'} MiB on the destination: the hotplug range the guest is told about changes`, {
      a: a.maxMiB ?? null,
      b: b.maxMiB ?? null,
      effect: 'unsafe',
      remedy: 'give the destination the same maxmem as the source',
      source: 'lab: machine memory.max-size differs after migration (scenario maxmem-differs)',
    }),
  ];
}

/**
 * What makes the source refuse to start a migration. Under KVM a CPU with invtsc (invariant TSC)
 * blocks migration unless tsc-frequency is set (target/i386/kvm/kvm.c kvm_arch_init_vcpu():
 * invtsc_mig_blocker, "State blocked by non-migratable CPU device (invtsc flag)"; the tsc-frequency
 * exception since QEMU 2.12). A host-dependent CPU with migratable=off passes invtsc through when
 * the host has it (x86 unmigratable_flags); TCG gives no invtsc.
 */
function migrationBlockers({ src }: Comparison): Reason[] {
  if (src.host.profile.accel !== 'kvm' || src.spec.cpu.properties?.['tsc-frequency'] !== undefined) return [];
  const passthrough = src.cpuHostDependent && cpuMigratableOff(src.spec.cpu);
  const hostFlags = src.host.profile.cpu.flags;
  const invtsc = src.cpu?.invtsc === true || (passthrough && hostFlags.includes('nonstop_tsc'));
  const source = 'QEMU target/i386/kvm/kvm.c kvm_arch_init_vcpu(): invtsc_mig_blocker';
  if (invtsc) {
    return [
      reason('MIGRATION_BLOCKED_INVTSC', 'error', 'cpu.invtsc', `the source CPU has invtsc${passthrough ? ' (migratable=off passes the host\'s through)' : ''} and no tsc-frequency: QEMU refuses to migrate ("State blocked by non-migratable CPU device (invtsc flag)")`, {
        effect: 'impossible',
        remedy: passthrough ? 'drop migratable=off, or do not migrate this guest' : 'set tsc-frequency on the CPU (every destination must then run that TSC rate), or turn invtsc off',
        source,
      }),
    ];
  }
  if (passthrough && !hostFlags.length) {
    return [reason('MIGRATION_BLOCKER_UNKNOWN', 'warn', 'cpu.invtsc', `migratable=off passes ${src.host.name}'s invtsc through if it has one, and its profile lists no CPU flags`, { effect: 'unknown', source })];
  }
  return [];
}

/**
 * Under KVM each build adds its own defaults to every named model (kvm_default_props and the
 * rest, recorded in its catalog); they are part of each side's CPU, compared with the rest of it.
 * Shown when the builds differ; unknown only when a side's build records none and its host
 * profile has no KVM sample either.
 */
function kvmDefaults({ src, dst, sameBuild }: Comparison): Reason[] {
  const kvm = src.host.profile.accel === 'kvm' || dst.host.profile.accel === 'kvm';
  if (!kvm || sameBuild || src.cpuHostDependent || !src.cpu || !dst.cpu) return [];
  if (src.accel === null || dst.accel === null) {
    return [
      reason('CPU_KVM_DEFAULTS_UNKNOWN', 'warn', 'cpu', 'under KVM each build adds its own defaults to every CPU model, and neither the catalog nor the host profile of one side records them', {
        effect: 'unknown',
        remedy: 'regenerate the catalog where KVM can be used (guestabi catalog regen --update), or probe the hosts with guestabi probe --accel kvm',
      }),
    ];
  }
  const shown = (p: RuntimePlatform) => (p.accel ? Object.entries(p.accel.props).map(([k, v]) => `${k}=${String(v)}`).sort().join(' ') || 'nothing' : 'nothing (TCG)');
  const whence = (p: RuntimePlatform) => (p.accel ? { probe: 'probed', source: 'from QEMU source', profile: 'from the host profile' }[p.accel.from] : 'TCG');
  return [
    reason('CPU_KVM_DEFAULTS', 'info', 'cpu', `under KVM QEMU ${src.host.catalog.version} adds ${shown(src)} to ${src.cpuName} (${whence(src)}); QEMU ${dst.host.catalog.version} adds ${shown(dst)} (${whence(dst)}): compared as part of each CPU`, {
      a: shown(src),
      b: shown(dst),
    }),
  ];
}

function memorySize({ src, dst }: Comparison): Reason[] {
  if (src.memoryMiB === dst.memoryMiB) return [];
  return [reason('MEMORY_DIFFERS', 'error', 'memory', `${src.memoryMiB} MiB on the source, ${dst.memoryMiB} MiB on the destination: the RAM block does not match ("Length mismatch")`, { a: src.memoryMiB, b: dst.memoryMiB, effect: 'impossible' })];
}

/** A vCPU on one side only (as a device is), or another topology of the same count. */
function vcpus({ src, dst, rules }: Comparison): Reason[] {
  if (src.vcpus.count !== dst.vcpus.count) {
    const fewer = dst.vcpus.count < src.vcpus.count;
    const p = fewer ? rules.data.presence.sourceOnly : rules.data.presence.destinationOnly;
    const queues = autoQueueDevices(src);
    if (!fewer && queues.length) {
      return [
        reason('VCPU_COUNT_DIFFERS', 'error', 'vcpus', `${src.vcpus.count} vCPUs on the source, ${dst.vcpus.count} on the destination: ${queues.join(', ')} take${queues.length === 1 ? 's' : ''} one queue per vCPU, and the destination's other queue count does not load ("Failed to load virtio-blk:virtio")`, {
          a: src.vcpus.count,
          b: dst.vcpus.count,
          effect: 'impossible',
          details: queues,
          source: 'QEMU hw/virtio/virtio-pci.c virtio_pci_optimal_num_queues() (num-queues auto = the vCPU count, machine types 5.2 on; hw_compat_5_1 keeps 1); lab: fuzz seed 777',
        }),
      ];
    }
    return [reason('VCPU_COUNT_DIFFERS', fewer ? 'error' : 'warn', 'vcpus', `${src.vcpus.count} vCPUs on the source, ${dst.vcpus.count} on the destination: ${p.why}`, { a: src.vcpus.count, b: dst.vcpus.count, effect: effectOf(fewer), source: p.evidence })];
  }
  const out: Reason[] = [];
  const topology = (p: RuntimePlatform) => smpTopology(p.vcpus, p.host.catalog.version, p.machine ? p.host.catalog.machine(p.machine)?.version : undefined);
  const ta = topology(src);
  const tb = topology(dst);
  for (const k of ['sockets', 'dies', 'cores', 'threads', 'max'] as const) {
    const a = ta[k];
    const b = tb[k];
    if (a !== b) out.push(reason('VCPU_TOPOLOGY_DIFFERS', 'warn', `vcpus.${k}`, `vCPU ${k} is ${a} on the source and ${b} on the destination: the CPUID topology changes`, { a, b, effect: 'unsafe' }));
  }
  return out;
}

/** virtio-blk and virtio-scsi PCI devices whose queue count follows the vCPU count: num-queues
 *  not given, on a build and machine type of 5.2 or later (hw_compat_5_1 sets it to 1 before). */
function autoQueueDevices(p: RuntimePlatform): string[] {
  const version = p.machine ? p.host.catalog.machine(p.machine)?.version : undefined;
  if (compareVersions(p.host.catalog.version, '5.2') < 0 || (version !== null && version !== undefined && compareVersions(version, '5.2') < 0)) return [];
  return p.devices
    .filter((d) => /^(virtio-blk|virtio-scsi|vhost-user-blk|vhost-scsi|vhost-user-scsi)-pci(-transitional|-non-transitional)?$/.test(d.type) && !('num-queues' in d.settings) && !('num_queues' in d.settings))
    .map((d) => d.id ?? d.type);
}


/** The vCPU the guest sees: host-dependent, named otherwise, features the destination filters
 *  away, and every other difference of the two CPUs. */
function cpu(c: Comparison): Reason[] {
  const { src, dst, sameBuild } = c;
  // ppc64 models have no expansion: the model itself is compared (cpuIdentity).
  if (src.host.catalog.arch === 'ppc64' && !src.cpuHostDependent && !dst.cpuHostDependent && src.host.catalog.cpuModel(src.cpuName ?? '') && dst.host.catalog.cpuModel(dst.cpuName ?? '')) return [];
  if (!src.cpu || !dst.cpu) {
    const sameCpuDefinition = src.cpuName === dst.cpuName && !src.cpuHostDependent;
    if (sameBuild && sameCpuDefinition && src.host === dst.host) return [];
    return [reason('CPU_UNKNOWN', 'warn', src.cpuName ?? 'cpu', `the catalogs or host profiles do not give the CPU ${!src.cpu ? 'on the source' : 'on the destination'}`, { effect: 'unknown' })];
  }
  // What KVM adds is not known on a side (CPU_KVM_DEFAULTS_UNKNOWN): no difference found here means anything.
  if (!sameBuild && (src.accel === null || dst.accel === null)) return [];
  const out: Reason[] = [];
  if (src.cpuHostDependent || dst.cpuHostDependent) {
    out.push(reason('HOST_DEPENDENT_CPU', 'info', src.cpuName ?? 'cpu', `-cpu ${src.cpuName} takes each host's CPU: compared as the two hosts' profiles give it`));
  }
  if (src.cpuName !== dst.cpuName) {
    // Names are for people: what matters is whether the two give the same CPU (compared below).
    out.push(reason('CPU_MODEL_DIFFERS', 'info', 'cpu', `the source runs -cpu ${src.cpuName} and the destination -cpu ${dst.cpuName}; QEMU migrates without comparing them`, { a: src.cpuName, b: dst.cpuName }));
  }
  const cpuFeatures = featureUnion(src.host.catalog.cpuFeatures(), dst.host.catalog.cpuFeatures());
  const diffs = guestVisibleDiff(src.cpu, dst.cpu, c.rules, { cpu: true, cpuFeatures });
  const filteredHere = diffs.filter((d) => dst.filtered.includes(d.property));
  if (filteredHere.length) {
    const names = filteredHere.map((d) => d.property).join(' ');
    out.push(
      reason('CPU_FEATURE_FILTERED', 'warn', names, `without enforce the destination silently drops ${names}, which ${dst.host.name} cannot give`, {
        effect: 'unsafe',
        host: dst.host.name,
        remedy: 'add enforce so the destination refuses to start instead, or pin a CPU every host can run (guestabi resolve --cluster)',
      }),
    );
  }
  const rest = diffs.filter((d) => !dst.filtered.includes(d.property));
  if (rest.length) out.push(armCpuFails(src, cpuDefinitionDiffers(c, rest)));
  return out;
}

/** An Arm vCPU whose properties differ (pmu, sve, aarch64) carries other ID and system registers,
 *  which the destination refuses (target/arm/machine.c cpu_post_load(); lab: aarch64 scenarios
 *  max,pmu=off and max,sve=off on one side: "error while loading state for instance 0x0 of device 'cpu'"). */
function armCpuFails(src: RuntimePlatform, r: Reason): Reason {
  if (src.host.catalog.arch !== 'aarch64') return r;
  return { ...r, level: 'error', effect: 'impossible', message: `${r.message}; an Arm vCPU carries its ID and system registers, which the destination refuses ("error while loading state for instance 0x0 of device 'cpu'")` };
}

function cpuDefinitionDiffers({ src, dst, machine, from, to }: Comparison, rest: ReturnType<typeof guestVisibleDiff>): Reason {
  const subject = src.cpuName === dst.cpuName ? `${src.cpuName}` : 'cpu';
  return reason(
    'CPU_DEFINITION_DIFFERS',
    'warn',
    subject,
    `the guest's CPU changes: ${rest.slice(0, 8).map((d) => `${d.property} ${show(d.a)} -> ${show(d.b)}`).join(', ')}${rest.length > 8 ? ` and ${rest.length - 8} more` : ''}`,
    {
      effect: 'unsafe',
      details: rest.map((d) => `${d.property}: ${show(d.a)} -> ${show(d.b)}`),
      remedy: src.cpuName === dst.cpuName ? `on QEMU ${from} and ${to}, ${src.cpuName} on ${machine} is not the same CPU: pin it on both sides with explicit features` : `start the destination with -cpu ${src.cpuName}`,
    },
  );
}

/** Devices on one side only, then each pair: its kind, its place, its properties and settings. */
function devices(c: Comparison): Reason[] {
  const { rules } = c;
  const out: Reason[] = [];
  const { pairs, onlyA, onlyB } = pairDevices(c.src.devices, c.dst.devices);
  for (const d of onlyA) {
    const inController = rules.data.presence.stateInController;
    const p = inController?.types.includes(d.type) ? { why: inController.why, evidence: inController.evidence, fails: false } : { ...rules.data.presence.sourceOnly, fails: true };
    out.push(reason('DEVICE_ONLY_ON_SOURCE', p.fails ? 'error' : 'warn', d.type, `${d.type}${d.id ? ` (${d.id})` : ''} is on the source only: ${p.why}`, { effect: effectOf(p.fails), source: p.evidence }));
  }
  for (const d of onlyB) {
    const p = rules.data.presence.destinationOnly;
    out.push(reason('DEVICE_ONLY_ON_DESTINATION', 'warn', d.type, `${d.type}${d.id ? ` (${d.id})` : ''} is on the destination only: ${p.why}`, { effect: 'unsafe', source: p.evidence }));
  }
  for (const [a, b] of pairs) out.push(...devicePair(c, a, b));
  return out;
}

/** One device on both sides: another kind or place stops there; a device the catalogs do not know
 *  compares only by identity within one build. */
function devicePair(c: Comparison, a: RuntimeDevice, b: RuntimeDevice): Reason[] {
  const subject = a.id ? `${a.type} ${a.id}` : a.type;
  if (a.type !== b.type) {
    return [reason('DEVICE_TYPE_DIFFERS', 'error', subject, `${a.type} on the source is ${b.type} on the destination: its state does not load`, { a: a.type, b: b.type, effect: 'impossible' })];
  }
  if (a.placement !== b.placement) {
    return [reason('DEVICE_PLACEMENT_DIFFERS', 'error', subject, `${a.type} sits ${a.placement} on the source and ${b.placement} on the destination: its state is filed under another bus`, { a: a.placement, b: b.placement, effect: 'impossible' })];
  }
  // A drive whose state is its controller's (IDE): another position loads, and the guest finds its
  // disk elsewhere (another serial, another port). Lab: KVM fuzz seed 20261209, ide-cd on ide.0 on
  // the source only, the default CD-ROM (ide.2) on the destination.
  if (a.position !== b.position && ('position' in a || 'position' in b)) {
    const known = a.position !== undefined && b.position !== undefined;
    return [
      reason('DEVICE_PLACEMENT_DIFFERS', 'warn', subject, known ? `${a.type} sits on ${a.position} on the source and ${b.position} on the destination: its state is the controller's, so it loads and the guest finds the drive at another position` : `${a.type} sits on ${a.position ?? 'the first free IDE unit'} on the source and ${b.position ?? 'the first free IDE unit'} on the destination: which unit QEMU picks is not modelled`, {
        a: a.position ?? null,
        b: b.position ?? null,
        effect: known ? 'unsafe' : 'unknown',
        remedy: 'give the drive the same bus= and unit= on both sides',
      }),
    ];
  }
  if (!a.props || !b.props) {
    if (c.sameBuild && JSON.stringify(a.settings) === JSON.stringify(b.settings)) return [];
    if (c.rules.visibility.hostEndTypes.has(a.type) && a.type === b.type) return [];
    return [
      reason('DEVICE_NOT_IN_CATALOG', 'warn', subject, `${a.type}${a.placement !== 'root' ? ` (${a.placement})` : ''} is not among the probed devices of ${!a.props ? `QEMU ${c.from}` : `QEMU ${c.to}`}: its properties cannot be compared`, {
        effect: 'unknown',
      }),
    ];
  }
  // A virtio-pci device gets PCI Express capabilities only behind a port that is not the root
  // complex (hw/virtio/virtio-pci.c virtio_pci_realize(): pcie_port = express bus && !root bus):
  // on the root bus or behind a PCI bridge its PCIe-only properties change nothing. Behind a port
  // only one QEMU makes express is (runtime.ts expressAtRealize()). Lab: TCG fuzz seed
  // 20261218, virtio-rng-pci ats=on behind a root port on pc-q35-2.4 migrates.
  const port = VIRTIO_PCI.test(a.type) && a.placement !== 'root' && a.placement !== 'pci-bridge';
  const notExpress = VIRTIO_PCI.test(a.type) && (!port || (a.express === false && b.express === false));
  // A knob a build lacks for a PCIe capability (placements) is no capability on a device that is
  // not express: it sits as on a conventional bus.
  const where = (d: RuntimeDevice) => (notExpress ? 'conventional' : d.placement);
  const la = c.rules.withLackingKnobs(c.from, a.props, b.props, where(a));
  const lb = c.rules.withLackingKnobs(c.to, b.props, a.props, where(b));
  la.props = olderBuildBehaviour(c, c.src, a, la.props, b.props);
  lb.props = olderBuildBehaviour(c, c.dst, b, lb.props, a.props);
  const lacking = [...la.applied.map((k) => ({ k, side: c.from })), ...lb.applied.map((k) => ({ k, side: c.to }))];
  const unseen = conventionalPci(c) ?? (notExpress ? (c.rules.conventionalPci ?? undefined) : undefined);
  const express = port && a.express !== b.express ? [expressOneSide(subject, a, b)] : [];
  const out = [...express, ...propertyReasons(subject, la.props, lb.props, c.rules, 'DEVICE_PROPERTY_DIFFERS', unseen, a.type), ...oneSidedSettings(subject, a, b, la.props, lb.props)];
  // A value a build has no knob for is what that build does (migration.yaml lackingKnobs): say so.
  return out.map((r) => {
    const hit = lacking.find(({ k }) => r.subject === `${subject}.${k.property}`);
    return hit ? { ...r, message: `${r.message} (QEMU ${hit.side} has no ${hit.k.property}: ${hit.k.why})`, source: hit.k.source } : r;
  });
}

/**
 * The properties an older build lacks, as it behaves: as the newer build on the machine type named
 * after the older build (pc-q35-5.2 on 10.0 for 5.2). Compat properties exist to make a newer
 * build give a type what the build of that version gave it (hw/core/machine.c hw_compat_X_Y), and
 * a build that has no knob behaves the same on every type. Where the newer build has no such type,
 * the property is left out (not compared). A knob the older build lacks although it behaves
 * otherwise is in migration.yaml lackingKnobs. Lab: TCG fuzz seed 20261220, e1000e
 * migrate-timadj=on (hw_compat_7_2 off) on a 10.0 destination fails from 5.2; KVM fuzz seed
 * 20261221, the default e1000 of pc-i440fx-1.4 (romsize) migrates 7.2 -> 5.2.
 */
function olderBuildBehaviour(c: Comparison, own: RuntimePlatform, d: RuntimeDevice, props: Props, other: Props): Props {
  const mine = own.host.catalog;
  const theirs = (own === c.src ? c.dst : c.src).host.catalog;
  if (compareVersions(mine.version, theirs.version) >= 0) return props;
  // A knob migration.yaml says this build lacks is the rule's alone (lackingKnobs: when, placements).
  const ruled = new Set((c.rules.data.lackingKnobs ?? []).filter((k) => versionIs(k.qemu, mine.version)).map((k) => k.property));
  const lacking = Object.keys(other).filter((k) => !(k in props) && !ruled.has(k));
  const family = mine.machine(c.machine)?.family;
  const [major, minor] = mine.version.split('.');
  const named = family ? theirs.machine(`${family}-${major}.${minor}`) : undefined;
  const key = placedKey(d.type, d.placement);
  const behaves = named?.probe === 'ok' ? theirs.deviceOn(named.name, key) : undefined;
  if (!lacking.length || !behaves || renamedKnobs(mine, key, c.machine, `${family}-${major}.${minor}`, behaves)) return props;
  // Only where the newer build's value does not depend on the type either: a value that does may
  // be derived (e1000's romsize is its ROM file's, and the ROM file is the type's in both builds).
  const onGuestType = theirs.machine(c.machine)?.probe === 'ok' ? theirs.deviceOn(c.machine, key) : undefined;
  const out = { ...props };
  for (const k of lacking) if (k in behaves && onGuestType && JSON.stringify(onGuestType[k]) === JSON.stringify(behaves[k])) out[k] = behaves[k]!;
  return out;
}

/** Whether the older build has a knob of its own the newer build lacks whose value differs between
 *  the guest's type and the type named after the build: then the knob was renamed or reshaped
 *  (7.2's pcie-root-port x-native-hotplug, off on pc-q35-6.1, is 10.0's inverse
 *  x-do-not-expose-native-hotplug-cap) and the older build does not behave the same on every type.
 *  KVM fuzz seed 20261221, pc-q35-6.1 7.2 -> 10.0. */
function renamedKnobs(mine: CatalogIndex, key: string, guestType: string, namedType: string, newer: Props): boolean {
  const here = mine.deviceOn(guestType, key);
  const there = mine.machine(namedType)?.probe === 'ok' ? mine.deviceOn(namedType, key) : undefined;
  if (!here) return false;
  if (!there) return true;
  return Object.keys(here).some((k) => !(k in newer) && JSON.stringify(here[k]) !== JSON.stringify(there[k]));
}

/** A virtio-pci device behind a port that is PCI Express on one side only: the PCI config space
 *  it saves differs in size and capabilities (hw/pci/pci.c pci_device_save(): vmstate_pcie_device
 *  or vmstate_pci_device). Lab: virtio-gpu-express-one-side fails to load. */
function expressOneSide(subject: string, a: RuntimeDevice, b: RuntimeDevice): Reason {
  const said = (e: boolean | undefined) => (e === undefined ? 'not known to be PCI Express or not' : e ? 'PCI Express' : 'conventional PCI');
  return reason('DEVICE_PROPERTY_DIFFERS', 'error', subject, `${subject} is ${said(a.express)} on the source and ${said(b.express)} on the destination: QEMU decides it when it realizes the PCI side, from disable-modern and x-disable-pcie, before a modern-only type is forced to virtio 1 (virtio_pci_dc_realize()); the destination loads another PCI config space`, {
    a: said(a.express),
    b: said(b.express),
    effect: a.express === undefined || b.express === undefined ? 'unknown' : 'impossible',
    remedy: 'set disable-modern (and x-disable-pcie) to the same value on both sides',
  });
}

/** Something set on one side only, which the catalog has no default for to compare with. */
function oneSidedSettings(subject: string, a: RuntimeDevice, b: RuntimeDevice, pa: Props, pb: Props): Reason[] {
  const out: Reason[] = [];
  for (const k of new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])) {
    if (k in pa && k in pb) continue;
    if (a.settings[k] === b.settings[k]) continue;
    out.push(
      reason('DEVICE_SETTING_ONE_SIDED', 'warn', `${subject}.${k}`, `${subject}: ${k} is ${a.settings[k] ?? "QEMU's default"} on the source and ${b.settings[k] ?? "QEMU's default"} on the destination, and the catalog does not give the default`, {
        a: a.settings[k] ?? null,
        b: b.settings[k] ?? null,
        effect: 'unknown',
        remedy: `set ${k} to the same value on both sides`,
      }),
    );
  }
  return out;
}

/** The machine type's own devices, as each build gives them. */
function board(c: Comparison): Reason[] {
  const { src, dst, rules, machine, sameBuild, from, to } = c;
  if (!src.board || !dst.board) {
    if (sameBuild) return [];
    return [reason('MACHINE_NOT_PROBED', 'warn', machine, `the catalog of QEMU ${!src.board ? from : to} has no probe of ${machine}: its devices cannot be compared`, { effect: 'unknown' })];
  }
  const out: Reason[] = [];
  const sa = canonicalBoard(src.board, rules);
  const sb = canonicalBoard(dst.board, rules);
  for (const k of new Set([...sa.keys(), ...sb.keys()])) {
    const a = sa.get(k);
    const b = sb.get(k);
    const type = k.slice(6).replace(/#\d+$/, '');
    if (!a || !b) {
      if (rules.qtreeOnly.has(type)) continue;
      out.push(reason('BOARD_DEVICE_DIFFERS', !a ? 'warn' : 'error', k, `${machine} has ${type} ${!a ? 'on the destination only' : 'on the source only'}`, { effect: effectOf(!b) }));
      continue;
    }
    const [pa, pb] = k === 'board/machine' && rules.data.spaprCaps ? [withoutCaps(a), withoutCaps(b)] : [a, b];
    out.push(...propertyReasons(k, pa, pb, rules, 'BOARD_PROPERTY_DIFFERS', conventionalPci(c)));
  }
  return out;
}

/** The machine's properties without the pseries capabilities (compared by spaprCaps). */
function withoutCaps(p: Props): Props {
  return Object.fromEntries(Object.entries(p).filter(([k]) => !k.startsWith('cap-')));
}

/**
 * pseries capabilities compared as QEMU's migration compares them (rules: spaprCaps): what the
 * stream carries (the source's level if set on its command line away from its default, or
 * always for hpt-max-page-size from pseries-4.1; else the destination's default) must not be
 * higher than the destination's level; a lower or different level loads and the guest sees it.
 */
function spaprCaps({ src, dst, rules, machine, to }: Comparison): Reason[] {
  const r = rules.data.spaprCaps;
  const a = src.board?.get('board/machine');
  const b = dst.board?.get('board/machine');
  if (!r || !a || !b || !machine.startsWith('pseries')) return [];
  // QEMU's defaults (spapr->def): the type's, less what each side's CPU model lacks.
  const aDefault = src.machineDefaults ?? src.host.catalog.deviceOn(machine, 'board/machine') ?? {};
  const bDefault = dst.machineDefaults ?? dst.host.catalog.deviceOn(machine, 'board/machine') ?? {};
  // A string capability's level is the index of its value in QEMU's list (probed, both builds alike).
  const listed = (cap: string) => src.host.catalog.data.machineOptions?.[src.host.catalog.machine(machine)!.family]?.values[cap] ?? [];
  const level = (cap: string, v: PropValue | undefined) => spaprLevel(listed(cap), v);
  const version = parseMachineName(machine).version;
  // A build without the capability gives the guest its lowest level, or what the rules say.
  const sameAsAbsent = (cap: string, v: PropValue | undefined) => (r.absentMeans[cap] !== undefined ? show(v) === r.absentMeans[cap] || (v === true && r.absentMeans[cap] === 'on') : level(cap, v) === 0);
  const out: Reason[] = [];
  for (const cap of [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k.startsWith('cap-')).sort()) {
    const [va, vb] = [a[cap], b[cap]];
    const since = r.alwaysSentFrom[cap];
    const sent = since ? version !== null && compareVersions(version, since) >= 0 && va !== undefined : cap in (src.spec.machine.options ?? {}) && va !== aDefault[cap];
    const carried = sent ? va : bDefault[cap];
    const detail = { a: va ?? null, b: vb ?? null, source: r.source };
    if (sent && vb === undefined) {
      out.push(reason('SPAPR_CAP_REFUSED', 'error', `machine.${cap}`, `the source sends ${cap}=${show(va)} and QEMU ${to} has no ${cap}: the load fails ("error while loading state for instance 0x0 of device 'spapr'")`, { ...detail, effect: 'impossible', remedy: `leave ${cap} at its default on the source` }));
    } else if (carried !== undefined && vb !== undefined && (level(cap, carried) < 0 || level(cap, vb) < 0)) {
      out.push(reason('SPAPR_CAP_DIFFERS', 'warn', `machine.${cap}`, `${cap} is ${show(va)} on the source and ${show(vb)} on the destination, a level the rules do not order`, { ...detail, effect: 'unknown' }));
    } else if (carried !== undefined && vb !== undefined && !levelAccepted(level(cap, carried), level(cap, vb))) {
      out.push(reason('SPAPR_CAP_REFUSED', 'error', `machine.${cap}`, `the stream carries ${cap}=${show(carried)}${sent ? '' : " (the destination's default: the source does not send it)"} and the destination runs ${show(vb)}: QEMU refuses ("${cap} higher level (${level(cap, carried)}) in incoming stream than on destination (${level(cap, vb)})")`, { ...detail, effect: 'impossible', remedy: `start the destination with -machine ${cap}=${show(carried)}` }));
    } else if (va !== vb && !(va === undefined ? sameAsAbsent(cap, vb) : vb === undefined && sameAsAbsent(cap, va))) {
      out.push(reason('SPAPR_CAP_DIFFERS', 'warn', `machine.${cap}`, `${cap} is ${show(va)} on the source and ${show(vb)} on the destination: ${sent ? 'QEMU loads a lower level with a warning' : 'the source does not send it, so QEMU does not compare it'} and the guest's capability changes`, { ...detail, effect: 'unsafe', remedy: `start the destination with -machine ${cap}=${show(va)}` }));
    }
  }
  return out;
}

/**
 * An Arm vCPU migrates as the list of system registers the build emulates (target/arm/machine.c,
 * the cpreg list), which no catalog records: across builds it is not known, unless the rules know
 * the pair (knownBroken: 5.2, 7.2 and 10.0 refuse each other's under TCG).
 */
function armRegisters({ src, sameBuild, from, to, machine, rules }: Comparison): Reason[] {
  if (src.host.catalog.arch !== 'aarch64' || sameBuild || rules.knownBroken(from, to, machine, src.board?.get('board/machine'))) return [];
  return [reason('CPU_REGISTERS_UNKNOWN', 'warn', 'cpu', `QEMU ${from} and ${to} may emulate other system registers for ${src.cpuName}: the destination refuses a register list that is not its own, and the catalogs do not record them`, { effect: 'unknown', remedy: 'try the pair in the lab (guestabi lab migrate)' })];
}

/**
 * An Arm guest under KVM also carries the kernel's firmware pseudo-registers (PSCI version, the
 * SMCCC workaround levels, the hypercall bitmaps): QEMU sends every one the source kernel lists and
 * writes each back (data/registers/arm64-kvm.yaml, src/registers/migrate.ts). Both hosts' kernels
 * decide; the VMM is QEMU, which pins none of them. Under TCG there are none (QEMU emulates PSCI).
 */
function firmwareRegisters({ src, dst, rules }: Comparison): Reason[] {
  const [a, b] = [src.host.profile, dst.host.profile];
  if (src.host.catalog.arch !== 'aarch64' || a.accel !== 'kvm' || b.accel !== 'kvm' || !rules.registers) return [];
  const side = (p: typeof a) => ({ kernel: p.kernel.release, vmm: 'qemu', ...(p.firmwareRegisters ? { levels: p.firmwareRegisters.levels } : {}) });
  const known = (p: typeof a) => /^\d+\.\d+/.test(p.kernel.release);
  if (!known(a) || !known(b)) {
    const host = !known(a) ? src.host.name : dst.host.name;
    return [reason('REGISTER_DATA_UNKNOWN', 'warn', 'firmware registers', `the kernel release of ${host} is not known: which firmware registers it lists is not either`, { host, effect: 'unknown', remedy: 'probe the host, or give kernel: in its description' })];
  }
  const v = registerMigration(rules.registers.data, rules.registers.policies, side(a), side(b), 'forward');
  // Under KVM the vCPU's system registers are the kernel's list (KVM_GET_REG_LIST), and QEMU's
  // cpreg check refuses one the destination lacks: no data records them per kernel release.
  const sysregs =
    a.kernel.release === b.kernel.release
      ? []
      : [reason('CPU_REGISTERS_UNKNOWN', 'warn', 'cpu', `under KVM the vCPU migrates as the system registers Linux ${a.kernel.release} lists, and Linux ${b.kernel.release} may list others (QEMU refuses a register the destination kernel lacks): no data records them per release`, { a: a.kernel.release, b: b.kernel.release, effect: 'unknown', remedy: 'try the pair in the lab on the two kernels' })];
  return [...sysregs, ...idRegisters(a, b, rules), ...v.reasons, ...v.fence];
}

/**
 * The vCPU's ID registers, written by QEMU into the destination's KVM (data/registers/arm64-id-regs.yaml,
 * src/registers/id-regs.ts): where both hosts' values are known, the destination kernel's rule
 * decides; where one is not, nothing is said beyond the CPU checks (the hosts' CPUs are compared by model).
 */
function idRegisters(a: RuntimePlatform['host']['profile'], b: RuntimePlatform['host']['profile'], rules: Rules): Reason[] {
  if (!a.idRegisters || !b.idRegisters || !rules.registers?.ids) return [];
  const r = idRegisterCheck(rules.registers.ids, b.kernel.release, a.idRegisters.values, b.idRegisters.values);
  return r.reasons.map((x) => ({ ...x, message: `ID registers (${a.idRegisters!.from} on the source, ${b.idRegisters!.from} on the destination): ${x.message}` }));
}

/**
 * Each assigned device (vfio-pci) behind the guest's vIOMMU must get a rung on the destination
 * too, or the guest does not start there (src/check/viommu.ts): the destination host's IOMMU and
 * build decide. (Migrating the device itself is blocked unless it supports VFIO migration:
 * migrationBlockers.)
 */
function assignedDevices({ dst, machine, rules }: Comparison): Reason[] {
  if (!rules.viommu || !(dst.spec.devices ?? []).some((d) => d.type === 'vfio-pci')) return [];
  const report = viommuAnswer({ guest: dst.spec, catalog: dst.host.catalog, machine, host: { name: dst.host.name, iommu: dst.host.profile.iommu }, rules: rules.viommu });
  const out = report.start.map((r) => ({ ...r, message: `on the destination: ${r.message}` }));
  for (const d of report.devices) {
    for (const r of d.reasons) if (r.effect) out.push({ ...r, host: dst.host.name, message: `on the destination (${d.rung}): ${r.message}` });
  }
  return out;
}

/**
 * On Power and Arm the CPU model is itself part of the stream: ppc64 checks the PVR when the
 * vCPU loads (target/ppc/machine.c cpu_post_load: only a guest in a compatibility mode escapes
 * it), aarch64 its ID registers (target/arm/machine.c cpu_post_load, the cpreg read-back:
 * cortex-a57 -> cortex-a72 fails with "error while loading state for instance 0x0 of device
 * 'cpu'"). Two names that stand for the same model are the same CPU.
 */
function cpuIdentity({ src, dst, machine }: Comparison): Reason[] {
  if (src.host.catalog.arch === 'x86_64' || src.cpuHostDependent || dst.cpuHostDependent) return [];
  const model = (p: RuntimePlatform) => {
    const m = p.host.catalog.machine(machine);
    return (m && versionedCpu(p.host.catalog, m, p.cpuName)) ?? null;
  };
  const [a, b] = [model(src), model(dst)];
  if (a === b) return [];
  const why = src.host.catalog.arch === 'ppc64' ? `the destination checks the processor version (PVR) of the incoming vCPU, and ${a} is not ${b}: the load fails unless the guest runs in a compatibility mode (-machine max-cpu-compat)` : `the destination checks the incoming vCPU's ID registers, and ${a} is not ${b}: the load fails ("error while loading state for instance 0x0 of device 'cpu'")`;
  return [reason('CPU_MODEL_REFUSED', 'error', 'cpu', `the source runs -cpu ${src.cpuName} (${a}) and the destination ${dst.cpuName} (${b}): ${why}`, { a, b, effect: 'impossible', remedy: `start the destination with -cpu ${a}` })];
}

const unions = new WeakMap<ReadonlySet<string>, WeakMap<ReadonlySet<string>, ReadonlySet<string>>>();
function featureUnion(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  if (a === b) return a;
  let m = unions.get(a);
  if (!m) unions.set(a, (m = new WeakMap()));
  let u = m.get(b);
  if (!u) m.set(b, (u = new Set([...a, ...b])));
  return u;
}

const boards = new WeakMap<Map<string, Props>, Map<string, Props>>();
/** Board devices keyed by canonical type names (renamed QOM types compare as one). */
function canonicalBoard(board: Map<string, Props>, rules: Rules): Map<string, Props> {
  let c = boards.get(board);
  if (!c) {
    c = new Map([...board].map(([k, v]) => [`board/${rules.canonicalType(k.slice(6).replace(/#\d+$/, ''))}${/#\d+$/.exec(k)?.[0] ?? ''}`, v]));
    boards.set(board, c);
  }
  return c;
}


export { outcomeOf };
